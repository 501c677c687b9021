//===- FakeProgram.cpp - A hand-written stand-in for compiler output ------===//
//
// Defines metac_program() and metac_kernels[] the way an object file from
// metac would, for a problem small enough to differentiate by hand:
//
//   tasks      y = a * x + c, with a ~ U(-2, 2), c ~ U(-1, 1) per task and
//              x ~ U(-2, 2) per example
//   model      y = w * x + b              (param lin.w [1x1], lin.b [1])
//   adapt      one SGD step with a learned step size (meta alpha), i.e.
//              Meta-SGD with a scalar alpha
//   objective  mean squared error on the query set after adaptation
//
// meta_grad is the exact second-order meta-gradient, derived below. The
// kernels depend on nothing but their buffers, as generated ones must.
// Setting METAC_FAKE_DIVERGE=1 in the environment switches to a descriptor
// whose learning rate makes training blow up (for the NaN/Inf tests).
//
//===----------------------------------------------------------------------===//

#include "metac/abi.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace {

#define FAKE_DESCRIPTOR_BODY                                                   \
  "name fake_linear\n"                                                         \
  "param lin.w 1x1 normal 0 0.5\n"                                             \
  "param lin.b 1 zeros\n"                                                      \
  "meta alpha scalar const 0.1\n"                                              \
  "data x 1\n"                                                                 \
  "data y 1\n"                                                                 \
  "setting support 5\n"                                                        \
  "setting query 10\n"                                                         \
  "setting meta_batch 4\n"                                                     \
  "setting train 200\n"                                                        \
  "setting eval_tasks 50\n"                                                    \
  "setting eval_query 10\n"                                                    \
  "setting inner_steps 1\n"                                                    \
  "list eval_steps 0 1 5\n"                                                    \
  "list eval_shots 5 10\n"

#define FAKE_KERNELS                                                           \
  "kernel 0 sample 5\n"                                                        \
  "kernel 1 sample 10\n"                                                       \
  "kernel 2 meta_grad 5 10\n"                                                  \
  "kernel 3 adapt 5\n"                                                         \
  "kernel 4 eval 5 10\n"                                                       \
  "kernel 5 eval 10 10\n"                                                      \
  "end\n"

const char *const Descriptor =
    "metac-program 1\n" FAKE_DESCRIPTOR_BODY
    "optimizer adam lr 0.01 beta1 0.9 beta2 0.999 eps 1e-08\n" FAKE_KERNELS;

const char *const DivergingDescriptor =
    "metac-program 1\n" FAKE_DESCRIPTOR_BODY
    "optimizer sgd lr 50 momentum 0.9\n" FAKE_KERNELS;

constexpr int NumEvalSteps = 3;
constexpr int EvalSteps[NumEvalSteps] = {0, 1, 5};

uint64_t mix(uint64_t X) {
  uint64_t Z = X + 0x9e3779b97f4a7c15ULL;
  Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebULL;
  return Z ^ (Z >> 31);
}

/// Uniform in [Lo, Hi) from a key and a counter.
double uniform(uint64_t Key, uint64_t Counter, double Lo, double Hi) {
  double U = static_cast<double>(mix(mix(Key) ^ Counter) >> 11) * 0x1.0p-53;
  return Lo + (Hi - Lo) * U;
}

struct Line {
  double W, B;
};

double mse(Line L, const float *X, const float *Y, int N) {
  double Sum = 0;
  for (int I = 0; I < N; ++I) {
    double R = L.W * X[I] + L.B - Y[I];
    Sum += R * R;
  }
  return Sum / N;
}

/// The gradient of mse with respect to (w, b).
Line mseGrad(Line L, const float *X, const float *Y, int N) {
  Line G{0, 0};
  for (int I = 0; I < N; ++I) {
    double R = L.W * X[I] + L.B - Y[I];
    G.W += 2 * R * X[I] / N;
    G.B += 2 * R / N;
  }
  return G;
}

Line innerStep(Line L, double Alpha, const float *X, const float *Y, int N) {
  Line G = mseGrad(L, X, Y, N);
  return {L.W - Alpha * G.W, L.B - Alpha * G.B};
}

float *f(void *P) { return static_cast<float *>(P); }

// [task_key, data_key, out x, out y]
template <int N> void sample(void **Args) {
  uint64_t TaskKey, DataKey;
  std::memcpy(&TaskKey, Args[0], 8);
  std::memcpy(&DataKey, Args[1], 8);
  double A = uniform(TaskKey, 0, -2, 2), C = uniform(TaskKey, 1, -1, 1);
  for (int I = 0; I < N; ++I) {
    double X = uniform(DataKey, I, -2, 2);
    f(Args[2])[I] = static_cast<float>(X);
    f(Args[3])[I] = static_cast<float>(A * X + C);
  }
}

// [w, b, alpha, support x, y, query x, y, out loss, out dw, db, dalpha]
//
// With support residuals r = w x + b - y (n examples), the inner gradient is
// g = (2/n) (sum r x, sum r) and its Hessian H = (2/n) [[sum x^2, sum x],
// [sum x, n]]. The adapted line is theta' = theta - alpha g, so
// d theta'/d theta = I - alpha H and d theta'/d alpha = -g. With q the query
// gradient at theta': dL/dtheta = (I - alpha H) q (H is symmetric) and
// dL/dalpha = -g . q.
template <int S, int Q> void metaGrad(void **Args) {
  Line L{f(Args[0])[0], f(Args[1])[0]};
  double Alpha = f(Args[2])[0];
  const float *SX = f(Args[3]), *SY = f(Args[4]);
  const float *QX = f(Args[5]), *QY = f(Args[6]);
  Line G = mseGrad(L, SX, SY, S);
  double Hww = 0, Hwb = 0, Hbb = 2;
  for (int I = 0; I < S; ++I) {
    Hww += 2.0 * SX[I] * SX[I] / S;
    Hwb += 2.0 * SX[I] / S;
  }
  Line Adapted{L.W - Alpha * G.W, L.B - Alpha * G.B};
  Line Qg = mseGrad(Adapted, QX, QY, Q);
  f(Args[7])[0] = static_cast<float>(mse(Adapted, QX, QY, Q));
  f(Args[8])[0] =
      static_cast<float>((1 - Alpha * Hww) * Qg.W - Alpha * Hwb * Qg.B);
  f(Args[9])[0] =
      static_cast<float>(-Alpha * Hwb * Qg.W + (1 - Alpha * Hbb) * Qg.B);
  f(Args[10])[0] = static_cast<float>(-(G.W * Qg.W + G.B * Qg.B));
}

// [w, b, alpha, support x, y, out w', out b']
template <int S> void adapt(void **Args) {
  Line L{f(Args[0])[0], f(Args[1])[0]};
  Line A = innerStep(L, f(Args[2])[0], f(Args[3]), f(Args[4]), S);
  f(Args[5])[0] = static_cast<float>(A.W);
  f(Args[6])[0] = static_cast<float>(A.B);
}

// [w, b, alpha, support x, y, query x, y, out losses[3]]
template <int S, int Q> void eval(void **Args) {
  Line L{f(Args[0])[0], f(Args[1])[0]};
  double Alpha = f(Args[2])[0];
  int Done = 0;
  for (int K = 0; K < NumEvalSteps; ++K) {
    for (; Done < EvalSteps[K]; ++Done)
      L = innerStep(L, Alpha, f(Args[3]), f(Args[4]), S);
    f(Args[7])[K] = static_cast<float>(mse(L, f(Args[5]), f(Args[6]), Q));
  }
}

} // namespace

extern "C" const char *metac_program(void) {
  const char *Diverge = std::getenv("METAC_FAKE_DIVERGE");
  return Diverge && *Diverge == '1' ? DivergingDescriptor : Descriptor;
}

// Plain C++, which any x86-64 CPU runs.
extern "C" const char metac_target[] = "cpu=x86-64 features=";

extern "C" const metac_kernel_fn metac_kernels[] = {
    sample<5>, sample<10>, metaGrad<5, 10>, adapt<5>, eval<5, 10>, eval<10, 10>,
};
