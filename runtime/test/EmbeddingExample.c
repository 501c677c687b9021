/*===- EmbeddingExample.c - The C example of docs/abi.md -----------------===*\
|*                                                                            *|
|* Kept identical to the example in docs/abi.md (a test compares them), so    *|
|* the documented example is known to compile as C and to run.                *|
\*===----------------------------------------------------------------------===*/
#include <metac/metac.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  int P = metac_num_parameters(), D = metac_num_data();
  int S = metac_support_size(), Q = metac_query_size();
  if (P < 0) {
    fprintf(stderr, "%s\n", metac_last_error());
    return 1;
  }
  float *theta = malloc(P * sizeof(float)), *grad = malloc(P * sizeof(float));
  float **support = malloc(D * sizeof(float *));
  float **query = malloc(D * sizeof(float *));
  for (int i = 0; i < D; ++i) {
    support[i] = malloc(metac_data_size(i, S) * sizeof(float));
    query[i] = malloc(metac_data_size(i, Q) * sizeof(float));
  }
  metac_init_parameters(1, theta);
  for (uint64_t it = 0; it < 1000; ++it) {
    uint64_t task = it * 2654435761u + 17; /* any keys will do */
    if (metac_sample_task(task, 1, S, support) ||
        metac_sample_task(task, 2, Q, query))
      return fprintf(stderr, "%s\n", metac_last_error()), 1;
    float loss = metac_meta_loss_grad(theta, (const float *const *)support,
                                      (const float *const *)query, grad);
    for (int k = 0; k < P; ++k)
      theta[k] -= 0.001f * grad[k];
    if (it % 100 == 0)
      printf("%llu %g\n", (unsigned long long)it, loss);
  }
  return 0;
}
