//===- Optimizer.cpp - Adam and SGD on the flat parameter vector ----------===//
//
// The vectors are viewed with Eigen::Map, never copied. All updates are
// element-wise, so their results do not depend on how Eigen vectorises them.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Optimizer.h"
#include "metac/runtime/Error.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <cmath>

using namespace metac::runtime;

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

std::unique_ptr<Optimizer> Optimizer::create(const OptimizerSpec &Spec,
                                             int64_t N) {
  if (Spec.K == OptimizerSpec::Trpo)
    throw Error("internal error: trpo is not a first-order optimizer (the "
                "reinforcement-learning trainer runs it)");
  if (Spec.K == OptimizerSpec::Adam)
    return std::make_unique<AdamOptimizer>(N, Spec.Lr, Spec.Beta1, Spec.Beta2,
                                           Spec.Eps);
  return std::make_unique<SgdOptimizer>(N, Spec.Lr, Spec.Momentum);
}

void Optimizer::restore(uint64_t NewSteps, std::vector<float> NewState) {
  if (NewState.size() != State.size())
    throw Error(fmt::format("optimiser state has {} floats, expected {}",
                            NewState.size(), State.size()));
  Steps = NewSteps;
  State = std::move(NewState);
}

void AdamOptimizer::step(float *ParamsPtr, const float *GradPtr) {
  ++Steps;
  ArrayMap P(ParamsPtr, N);
  ConstArrayMap G(GradPtr, N);
  ArrayMap M(State.data(), N);
  ArrayMap V(State.data() + N, N);
  M = Beta1 * M + (1.0f - Beta1) * G;
  V = Beta2 * V + (1.0f - Beta2) * G.square();
  // The bias corrections are scalars: compute them in double, once.
  double T = static_cast<double>(Steps);
  float StepSize =
      static_cast<float>(Lr / (1.0 - std::pow(static_cast<double>(Beta1), T)));
  float Sqrt2 = static_cast<float>(
      std::sqrt(1.0 - std::pow(static_cast<double>(Beta2), T)));
  P -= StepSize * M / (V.sqrt() / Sqrt2 + Eps);
}

void SgdOptimizer::step(float *ParamsPtr, const float *GradPtr) {
  ++Steps;
  ArrayMap P(ParamsPtr, N);
  ConstArrayMap G(GradPtr, N);
  if (Momentum == 0) {
    P -= Lr * G;
    return;
  }
  // PyTorch starts the buffer at g; with a zero buffer mu * 0 + g is the same.
  ArrayMap B(State.data(), N);
  B = Momentum * B + G;
  P -= Lr * B;
}
