//===- Kernels.cpp - Calling generated kernels ----------------------------===//
//
// The ABI passes `void *` for every buffer, inputs included, so const is cast
// away here; generated kernels never write to their inputs.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Kernels.h"

#include <algorithm>

using namespace metac::runtime;

TaskSplit::TaskSplit(const Program &P, int64_t Rows) : Rows(Rows) {
  for (size_t I = 0; I < P.data().size(); ++I)
    Tensors.emplace_back(static_cast<size_t>(P.dataSize(I, Rows)), 0.0f);
  for (auto &T : Tensors)
    Pointers.push_back(T.data());
}

static void *mut(const void *Ptr) { return const_cast<void *>(Ptr); }

static void pushParams(std::vector<void *> &Args, const Program &P,
                       const float *Flat) {
  for (const Parameter &Param : P.parameters())
    Args.push_back(mut(Flat + Param.Offset));
}

static void pushData(std::vector<void *> &Args, const Program &P,
                     const float *const *Data) {
  for (size_t I = 0; I < P.data().size(); ++I)
    Args.push_back(mut(Data[I]));
}

void metac::runtime::callSample(const Program &P, const KernelRecord &K,
                                uint64_t TaskKey, uint64_t DataKey,
                                float *const *Out) {
  std::vector<void *> Args{&TaskKey, &DataKey};
  pushData(Args, P, Out);
  P.function(K)(Args.data());
}

void metac::runtime::sampleSplit(const Program &P, uint64_t TaskKey,
                                 uint64_t DataKey, TaskSplit &Split) {
  const KernelRecord &K = P.requireKernel(KernelRecord::Sample, Split.rows());
  callSample(P, K, TaskKey, DataKey, Split.mutablePointers());
}

float metac::runtime::callMetaGrad(const Program &P, const KernelRecord &K,
                                   const float *FlatParams,
                                   const float *const *Support,
                                   const float *const *Query, float *FlatGrad) {
  float Loss = 0;
  std::vector<void *> Args;
  Args.reserve(2 * P.parameters().size() + 2 * P.data().size() + 1);
  pushParams(Args, P, FlatParams);
  pushData(Args, P, Support);
  pushData(Args, P, Query);
  Args.push_back(&Loss);
  pushParams(Args, P, FlatGrad);
  P.function(K)(Args.data());
  return Loss;
}

void metac::runtime::callAdapt(const Program &P, const KernelRecord &K,
                               const float *FlatParams,
                               const float *const *Support,
                               float *AdaptedModel) {
  std::vector<void *> Args;
  pushParams(Args, P, FlatParams);
  pushData(Args, P, Support);
  for (const Parameter &Param : P.parameters())
    if (!Param.IsMeta)
      Args.push_back(AdaptedModel + Param.ModelOffset);
  P.function(K)(Args.data());
}

void metac::runtime::adaptStepwise(const Program &P, const KernelRecord &Step,
                                   float *FlatParams,
                                   const float *const *Support, int64_t Steps,
                                   std::vector<float> &Scratch) {
  Scratch.resize(static_cast<size_t>(P.numModelParameters()));
  for (int64_t I = 0; I < Steps; ++I) {
    // A kernel's buffers never overlap: the step writes to Scratch.
    callAdapt(P, Step, FlatParams, Support, Scratch.data());
    for (const Parameter &Param : P.parameters())
      if (!Param.IsMeta)
        std::copy_n(Scratch.data() + Param.ModelOffset, Param.Size,
                    FlatParams + Param.Offset);
  }
}

void metac::runtime::callQueryEval(const Program &P, const KernelRecord &K,
                                   const float *FlatParams,
                                   const float *const *Query, float *Values) {
  std::vector<void *> Args;
  pushParams(Args, P, FlatParams);
  pushData(Args, P, Query);
  Args.push_back(Values);
  P.function(K)(Args.data());
}

void metac::runtime::callEval(const Program &P, const KernelRecord &K,
                              const float *FlatParams,
                              const float *const *Support,
                              const float *const *Query, float *Losses) {
  std::vector<void *> Args;
  pushParams(Args, P, FlatParams);
  pushData(Args, P, Support);
  pushData(Args, P, Query);
  Args.push_back(Losses);
  P.function(K)(Args.data());
}

void metac::runtime::callReset(const Program &P, const KernelRecord &K,
                               uint64_t TaskKey, uint64_t EpisodeKey,
                               float *Obs) {
  std::vector<void *> Args{&TaskKey, &EpisodeKey, Obs};
  P.function(K)(Args.data());
}

void metac::runtime::callStep(const Program &P, const KernelRecord &K,
                              uint64_t TaskKey, uint64_t StepKey,
                              const float *Obs, const float *Action,
                              float *NextObs, float *Reward, float *Done) {
  std::vector<void *> Args{&TaskKey, &StepKey, mut(Obs), mut(Action),
                           NextObs,  Reward,   Done};
  P.function(K)(Args.data());
}

void metac::runtime::callReward(const Program &P, const KernelRecord &K,
                                uint64_t TaskKey, uint64_t StepKey,
                                const float *Obs, const float *Action,
                                const float *NextObs, float *Reward,
                                float *Done) {
  std::vector<void *> Args{&TaskKey,     &StepKey, mut(Obs), mut(Action),
                           mut(NextObs), Reward,   Done};
  P.function(K)(Args.data());
}

void metac::runtime::callPolicy(const Program &P, const KernelRecord &K,
                                const float *ModelParams, const float *Obs,
                                float *Mean, float *LogStd) {
  std::vector<void *> Args;
  for (const Parameter &Param : P.parameters())
    if (!Param.IsMeta)
      Args.push_back(mut(ModelParams + Param.ModelOffset));
  Args.push_back(mut(Obs));
  Args.push_back(Mean);
  if (LogStd)
    Args.push_back(LogStd);
  P.function(K)(Args.data());
}

void metac::runtime::callTrpoHvp(const Program &P, const KernelRecord &K,
                                 const float *FlatParams,
                                 const float *const *Support,
                                 const float *const *Query,
                                 const float *FlatVector, float *FlatOut) {
  std::vector<void *> Args;
  pushParams(Args, P, FlatParams);
  pushData(Args, P, Support);
  pushData(Args, P, Query);
  pushParams(Args, P, FlatVector);
  pushParams(Args, P, FlatOut);
  P.function(K)(Args.data());
}

float metac::runtime::callTrpoKlGrad(const Program &P, const KernelRecord &K,
                                     const float *FlatParams,
                                     const float *const *Support,
                                     const float *const *Query,
                                     float *FlatGrad) {
  // meta_grad's signature, with the KL as the value.
  return callMetaGrad(P, K, FlatParams, Support, Query, FlatGrad);
}

void metac::runtime::callSurrogate(const Program &P, const KernelRecord &K,
                                   const float *FlatParams,
                                   const float *const *Support,
                                   const float *const *Query,
                                   float *LossAndKl) {
  callEval(P, K, FlatParams, Support, Query, LossAndKl);
}
