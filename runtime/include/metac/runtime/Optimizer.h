//===- metac/runtime/Optimizer.h - Outer-loop optimisers --------*- C++ -*-===//
//
// The meta-optimiser updates the flat parameter vector from the mean
// meta-gradient. Its state is a flat float vector of its own (Adam: first then
// second moments; SGD: the momentum buffer) plus a step count, so a checkpoint
// stores it verbatim and a resumed run continues bit for bit.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_OPTIMIZER_H
#define METAC_RUNTIME_OPTIMIZER_H

#include "metac/runtime/Program.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace metac::runtime {

class Optimizer {
public:
  virtual ~Optimizer() = default;

  /// The optimiser the descriptor asks for, over N floats, with zero state.
  static std::unique_ptr<Optimizer> create(const OptimizerSpec &Spec,
                                           int64_t N);

  /// Applies one update to Params (N floats) given the gradient Grad.
  virtual void step(float *Params, const float *Grad) = 0;

  virtual OptimizerSpec::Kind kind() const = 0;

  /// Number of step() calls so far (Adam's t).
  uint64_t steps() const { return Steps; }
  /// The flat state vector, checkpointed verbatim.
  const std::vector<float> &state() const { return State; }

  /// Restores a checkpointed state. Throws Error if the sizes disagree.
  void restore(uint64_t Steps, std::vector<float> State);

protected:
  Optimizer(int64_t N, size_t StateFloats) : N(N), State(StateFloats, 0.0f) {}

  int64_t N;
  uint64_t Steps = 0;
  std::vector<float> State;
};

/// Adam as in Kingma & Ba (2015), Algorithm 1, written the way PyTorch
/// computes it: p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class AdamOptimizer : public Optimizer {
public:
  AdamOptimizer(int64_t N, float Lr, float Beta1, float Beta2, float Eps)
      : Optimizer(N, 2 * static_cast<size_t>(N)), Lr(Lr), Beta1(Beta1),
        Beta2(Beta2), Eps(Eps) {}
  void step(float *Params, const float *Grad) override;
  OptimizerSpec::Kind kind() const override { return OptimizerSpec::Adam; }

private:
  float Lr, Beta1, Beta2, Eps;
};

/// SGD with (heavy-ball) momentum, as PyTorch: b = mu * b + g; p -= lr * b.
class SgdOptimizer : public Optimizer {
public:
  SgdOptimizer(int64_t N, float Lr, float Momentum)
      : Optimizer(N, Momentum != 0 ? static_cast<size_t>(N) : 0), Lr(Lr),
        Momentum(Momentum) {}
  void step(float *Params, const float *Grad) override;
  OptimizerSpec::Kind kind() const override { return OptimizerSpec::Sgd; }

private:
  float Lr, Momentum;
};

} // namespace metac::runtime

#endif // METAC_RUNTIME_OPTIMIZER_H
