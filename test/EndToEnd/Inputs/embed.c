/* Drives a metac -emit=lib library from C: initialise the parameters, draw a
 * task with the program's own sampler, get the meta-loss and meta-gradient,
 * check the gradient against central differences of the meta-loss (f32, so
 * with a loose tolerance; test/Derivatives does the exact check), then take
 * a few meta-gradient steps on that task and check the meta-loss falls. */
#include LIBRARY_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  int P = metac_num_parameters();
  if (P != METAC_NUM_PARAMETERS) {
    printf("parameter count mismatch %d vs %d\n", P, METAC_NUM_PARAMETERS);
    return 1;
  }
  int S = metac_support_size(), Q = metac_query_size(), D = metac_num_data();
  float *theta = malloc(sizeof(float) * P), *grad = malloc(sizeof(float) * P);
  float *support[8], *query[8];
  for (int i = 0; i < D; ++i) {
    support[i] = malloc(sizeof(float) * metac_data_size(i, S));
    query[i] = malloc(sizeof(float) * metac_data_size(i, Q));
  }
  if (metac_init_parameters(42, theta) || metac_sample_task(7, 1, S, support) ||
      metac_sample_task(7, 2, Q, query)) {
    printf("error: %s\n", metac_last_error());
    return 1;
  }
  float loss = metac_meta_loss_grad(theta, (const float *const *)support,
                                    (const float *const *)query, grad);
  printf("parameters %d, support %d, query %d, data %d, loss %s\n", P, S, Q, D,
         isfinite(loss) ? "finite" : "NOT FINITE");

  /* Central differences on the largest gradient entries. */
  int checked = 0, bad = 0;
  for (int i = 0; i < P && checked < 20; ++i) {
    if (fabsf(grad[i]) < 0.05f)
      continue;
    float h = 1e-2f, keep = theta[i];
    theta[i] = keep + h;
    float up = metac_meta_loss_grad(theta, (const float *const *)support,
                                    (const float *const *)query, NULL);
    theta[i] = keep - h;
    float down = metac_meta_loss_grad(theta, (const float *const *)support,
                                      (const float *const *)query, NULL);
    theta[i] = keep;
    float fd = (up - down) / (2 * h);
    if (fabsf(fd - grad[i]) > 0.05f * fabsf(grad[i]) + 1e-3f) {
      printf("parameter %d: gradient %g, finite difference %g\n", i, grad[i], fd);
      ++bad;
    }
    ++checked;
  }
  printf("gradient checks: %d of %d agree\n", checked - bad, checked);

  /* Gradient descent on this one task's meta-loss. */
  float before = loss;
  for (int step = 0; step < 20; ++step) {
    loss = metac_meta_loss_grad(theta, (const float *const *)support,
                                (const float *const *)query, grad);
    for (int i = 0; i < P; ++i)
      theta[i] -= 0.01f * grad[i];
  }
  printf("meta-loss %s after 20 steps\n", loss < before ? "fell" : "DID NOT FALL");
  return bad != 0 || !(loss < before);
}
