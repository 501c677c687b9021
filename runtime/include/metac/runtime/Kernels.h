//===- metac/runtime/Kernels.h - Calling generated kernels ------*- C++ -*-===//
//
// Generated kernels take one `void **` array whose order abi.h fixes per
// kind. This file is the only place that builds those arrays, so the trainer,
// the evaluator and the embedding API cannot disagree about them. Parameters
// and gradients are passed as pointers into flat vectors at each parameter's
// offset: the kernels see separate tensors, the runtime one vector.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_KERNELS_H
#define METAC_RUNTIME_KERNELS_H

#include "metac/runtime/Program.h"

#include <cstdint>
#include <vector>

namespace metac::runtime {

/// The data of one task split (a support or a query set): one buffer per
/// `data` record, each holding Rows examples.
class TaskSplit {
public:
  TaskSplit() = default;
  TaskSplit(const Program &P, int64_t Rows);

  int64_t rows() const { return Rows; }
  float *tensor(size_t I) { return Tensors[I].data(); }
  const float *tensor(size_t I) const { return Tensors[I].data(); }
  /// One pointer per data tensor, as kernels and the embedding API take them.
  const float *const *pointers() const { return Pointers.data(); }
  float *const *mutablePointers() { return Pointers.data(); }

private:
  int64_t Rows = 0;
  std::vector<std::vector<float>> Tensors;
  std::vector<float *> Pointers;
};

/// Runs the `sample n` kernel: fills Out[0..D) (n examples each) with the
/// examples DataKey picks from the task TaskKey.
void callSample(const Program &P, const KernelRecord &K, uint64_t TaskKey,
                uint64_t DataKey, float *const *Out);

/// Samples Split (split.rows() examples) from task TaskKey.
void sampleSplit(const Program &P, uint64_t TaskKey, uint64_t DataKey,
                 TaskSplit &Split);

/// Runs `meta_grad s q`: returns the task's meta-loss and writes its gradient
/// into FlatGrad (laid out like FlatParams).
float callMetaGrad(const Program &P, const KernelRecord &K,
                   const float *FlatParams, const float *const *Support,
                   const float *const *Query, float *FlatGrad);

/// Runs `adapt s`: writes the adapted model parameters into AdaptedModel, in
/// the model-only flat layout (Parameter::ModelOffset).
void callAdapt(const Program &P, const KernelRecord &K, const float *FlatParams,
               const float *const *Support, float *AdaptedModel);

/// Adapts FlatParams (all parameters) on Support in place: Steps runs of
/// `adapt_step s` (s = Support's rows), each rewriting the model
/// parameters. Scratch holds the step's output between runs.
void adaptStepwise(const Program &P, const KernelRecord &Step,
                   float *FlatParams, const float *const *Support,
                   int64_t Steps, std::vector<float> &Scratch);

/// Runs `query_eval q`: writes 1 + metrics floats into Values: the objective
/// of FlatParams on Query, then each metric.
void callQueryEval(const Program &P, const KernelRecord &K,
                   const float *FlatParams, const float *const *Query,
                   float *Values);

/// Runs `eval s q`: writes Program::evalOutputs() floats into Losses: per
/// eval_steps entry, the loss, then each metric.
void callEval(const Program &P, const KernelRecord &K, const float *FlatParams,
              const float *const *Support, const float *const *Query,
              float *Losses);

/// Runs `reset n`: the first observations [n, obs] of n episodes of task
/// TaskKey; EpisodeKey seeds the start states' draws.
void callReset(const Program &P, const KernelRecord &K, uint64_t TaskKey,
               uint64_t EpisodeKey, float *Obs);

/// Runs `step n`: one step of n episodes. Done[e] is nonzero when episode e
/// ended with this step. StepKey seeds the step's draws.
void callStep(const Program &P, const KernelRecord &K, uint64_t TaskKey,
              uint64_t StepKey, const float *Obs, const float *Action,
              float *NextObs, float *Reward, float *Done);

/// Runs `reward n` (environments with a simulator): the reward and done of
/// one step of n episodes from the observations before it, the actions and
/// the simulator's readings after it.
void callReward(const Program &P, const KernelRecord &K, uint64_t TaskKey,
                uint64_t StepKey, const float *Obs, const float *Action,
                const float *NextObs, float *Reward, float *Done);

/// Runs `policy n`: the action distribution (mean and log-std, [n, act]
/// each; for a categorical policy the logits in Mean and LogStd null) for
/// observations Obs, with model parameters in the model-only flat layout (as
/// `adapt` writes them).
void callPolicy(const Program &P, const KernelRecord &K,
                const float *ModelParams, const float *Obs, float *Mean,
                float *LogStd);

/// Runs `trpo_hvp s q`: the Hessian of the task's trust-region KL times
/// FlatVector, into FlatOut (both laid out like FlatParams).
void callTrpoHvp(const Program &P, const KernelRecord &K,
                 const float *FlatParams, const float *const *Support,
                 const float *const *Query, const float *FlatVector,
                 float *FlatOut);

/// Runs `trpo_kl_grad s q`: writes the gradient of the task's trust-region
/// KL at FlatParams into FlatGrad (laid out like FlatParams); returns the KL.
float callTrpoKlGrad(const Program &P, const KernelRecord &K,
                     const float *FlatParams, const float *const *Support,
                     const float *const *Query, float *FlatGrad);

/// Runs `surrogate s q`: writes the meta-objective and the trust-region KL.
void callSurrogate(const Program &P, const KernelRecord &K,
                   const float *FlatParams, const float *const *Support,
                   const float *const *Query, float *LossAndKl);

} // namespace metac::runtime

#endif // METAC_RUNTIME_KERNELS_H
