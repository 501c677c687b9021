//===- metac/runtime/Reinforcement.h - Meta-RL: rollouts and training -*- C++
//-*-===//
//
// MAML for reinforcement learning (Finn et al. 2017, section 5.3). A task is
// an environment with drawn parameters; its support set is a batch of
// episodes of the current policy, its query set a batch of the adapted
// policy. One meta-iteration, for each task of the meta-batch in parallel:
//
//   roll out theta ──► returns, baseline, advantages ──► support
//   adapt(theta, support) = theta'                      (compiled kernel)
//   roll out theta' ──► returns, baseline, advantages ──► query
//   meta_grad(theta, support, query)                    (compiled kernel)
//
// then, on the calling thread and in slot order, one outer step: Adam or SGD
// on the mean meta-gradient, or TRPO (conjugate gradient on the trust-region
// KL's Hessian-vector products, which the compiled `trpo_hvp` kernel
// differentiates through the adaptation step, and a backtracking line search
// with the `surrogate` kernel). Rollouts draw from keys derived from (seed,
// iteration, task), so results do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_REINFORCEMENT_H
#define METAC_RUNTIME_REINFORCEMENT_H

#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Kernels.h"
#include "metac/runtime/Optimizer.h"
#include "metac/runtime/Program.h"
#include "metac/runtime/ThreadPool.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace metac::runtime {

struct Checkpoint;

/// The data records of an environment program, in descriptor order
/// (Program::validateEnvironment checks the layout). The acting policy's
/// distribution follows: pi.mean and pi.log_std for a Gaussian policy,
/// pi.logits for a categorical one; `round` is the last record.
enum TrajectoryField : size_t {
  FieldObs,
  FieldAct,
  FieldReward,
  FieldReturn,
  FieldAdvantage,
  FieldMask,
  FieldLogProb,
  FieldPolicy,
};

/// Runs the policy (Gaussian, or categorical with one-hot actions) with model
/// parameters ModelParams (model-only
/// flat layout) for Split.rows() / horizon episodes of task TaskKey and
/// writes their trajectories into Split: observations, actions, rewards,
/// masks, log-probabilities and the policy's outputs per step (mean and
/// log-std, or the logits of a categorical policy), then
/// the discounted returns and the advantages (linear feature baseline fitted
/// on these episodes, GAE, normalised). Start states and actions are drawn
/// from RolloutKey. Every row's `round` is Round, the number of adaptation
/// steps that made the policy (0: the initial one). Returns the mean
/// undiscounted return per episode.
/// Throws Error (ExitNonFinite) naming the environment, the episode, the
/// step and the value if the policy or the environment produces a
/// non-finite number; Where says when ("iteration 3, task 2").
double rollout(const Program &P, uint64_t TaskKey, uint64_t RolloutKey,
               const float *ModelParams, int64_t Round, TaskSplit &Split,
               const std::string &Where);

/// Copies the model parameters of the flat vector of all parameters into
/// the model-only layout, and back.
void extractModel(const Program &P, const float *Flat, float *Model);
void insertModel(const Program &P, const float *Model, float *Flat);

/// What one meta-iteration did.
struct RlIteration {
  /// The mean meta-objective at the parameters before the update.
  double Loss = 0;
  /// Mean episode return of the tasks before and after adaptation.
  double PreReturn = 0;
  double PostReturn = 0;
  /// TRPO: the mean KL of the accepted step, the backtracking steps it
  /// took, and whether any step satisfied the line search (if none did,
  /// the parameters are unchanged).
  double Kl = 0;
  int Backtracks = 0;
  bool Accepted = true;
};

class RlTrainer {
public:
  RlTrainer(const Program &P, ThreadPool &Pool, uint64_t Seed);

  void restore(const Checkpoint &C);
  Checkpoint snapshot() const;

  /// Runs one meta-iteration. Throws Error (exit code 3) naming the
  /// iteration and the task on a non-finite value.
  RlIteration step();

  int64_t iteration() const { return Iteration; }
  uint64_t seed() const { return Seed; }
  const std::vector<float> &parameters() const { return Params; }

private:
  struct Slot {
    TaskSplit Support, Query;
    std::vector<float> Model, Adapted, Grad, Out;
    float Loss = 0;
    double PreReturn = 0, PostReturn = 0;
  };

  /// The mean over tasks of the trust-region KL's Hessian times V (exact,
  /// or by finite differences of its gradient with hvp_eps), plus damping
  /// times V.
  void hessianVector(const float *V, float *Out);
  /// TRPO's update from the mean gradient; fills the TRPO fields of R.
  void trpoStep(RlIteration &R);
  /// The mean of Slots[i].*Field over the slots, summed in slot order.
  void meanOverSlots(std::vector<float> Slot::*Field, float *Out);

  const Program &P;
  ThreadPool &Pool;
  const KernelRecord &Adapt, &MetaGrad;
  /// trpo_hvp, or trpo_kl_grad for finite-difference products.
  const KernelRecord *Hvp = nullptr, *Surrogate = nullptr;
  uint64_t Seed;
  int64_t Iteration = 0;
  std::vector<float> Params, MeanGrad;
  std::unique_ptr<Optimizer> Optim; // Null for TRPO.
  std::vector<Slot> Slots;
};

/// The mean episode return after `Steps` rounds of adaptation (each round:
/// eval_episodes new episodes of the current policy, then one call of the
/// adapt kernel), over Tasks new tasks.
struct ReturnRow {
  int64_t Steps = 0;
  int64_t Tasks = 0;
  MeanCi Return;
};

/// What measureRollouts measured: the steps taken (episodes that end early
/// take fewer than the horizon) and the wall time.
struct RolloutRate {
  int64_t Tasks = 0;
  int64_t Steps = 0;
  double Seconds = 0;
};

/// Rolls out the parameters FlatParams on Tasks training tasks (the first
/// iteration's keys), `episodes` episodes each, in parallel, and times it.
RolloutRate measureRollouts(const Program &P, ThreadPool &Pool,
                            const float *FlatParams, uint64_t Seed,
                            int64_t Tasks);

/// Evaluates FlatParams on Tasks fresh tasks; one row per eval_steps entry.
std::vector<ReturnRow> evaluateReturns(const Program &P, ThreadPool &Pool,
                                       const float *FlatParams, uint64_t Seed,
                                       int64_t Tasks);

} // namespace metac::runtime

#endif // METAC_RUNTIME_REINFORCEMENT_H
