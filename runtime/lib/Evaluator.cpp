//===- Evaluator.cpp - The evaluation protocol ----------------------------===//

#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Kernels.h"
#include "metac/runtime/Rng.h"

#include <algorithm>
#include <cmath>

using namespace metac::runtime;

MeanCi metac::runtime::meanAndCi95(const std::vector<double> &Values) {
  MeanCi R;
  const size_t N = Values.size();
  if (N == 0)
    return R;
  double Sum = 0;
  for (double V : Values)
    Sum += V;
  R.Mean = Sum / static_cast<double>(N);
  if (N < 2)
    return R;
  double SquaredDeviations = 0;
  for (double V : Values)
    SquaredDeviations += (V - R.Mean) * (V - R.Mean);
  double Sd = std::sqrt(SquaredDeviations / static_cast<double>(N - 1));
  R.Ci95 = 1.96 * Sd / std::sqrt(static_cast<double>(N));
  return R;
}

/// The distinct step counts of a list, ascending.
static std::vector<int64_t> sortedSteps(std::vector<int64_t> Steps) {
  std::sort(Steps.begin(), Steps.end());
  Steps.erase(std::unique(Steps.begin(), Steps.end()), Steps.end());
  return Steps;
}

std::vector<EvalRow> Evaluator::run(const float *FlatParams, uint64_t Seed,
                                    int64_t Tasks) const {
  const Settings &S = P.settings();
  const size_t NumSteps = S.EvalSteps.size();
  // Per step: the loss, then each metric.
  const size_t PerStep = 1 + P.metrics().size();
  const size_t PerTask = static_cast<size_t>(P.evalOutputs());
  std::vector<EvalRow> Rows;
  const bool Stepwise = P.adaptsStepwise();
  for (int64_t Shots : S.EvalShots) {
    // Each task writes only its own losses; buffers are per worker call.
    std::vector<float> Outputs(static_cast<size_t>(Tasks) * PerTask);
    Pool.parallelFor(static_cast<size_t>(Tasks), [&](size_t I) {
      TaskSplit Support(P, Shots), Query(P, S.EvalQuery);
      uint64_t TaskKey = rng::evalTaskKey(Seed, I, Shots);
      Source.sample(TaskKey, Phase::Evaluation, Support, Query);
      float *Out = Outputs.data() + I * PerTask;
      if (!Stepwise) {
        callEval(P, P.requireKernel(KernelRecord::Eval, Shots, S.EvalQuery),
                 FlatParams, Support.pointers(), Query.pointers(), Out);
        return;
      }
      // One step at a time, measuring after each listed count.
      const KernelRecord &Step =
          P.requireKernel(KernelRecord::AdaptStep, Shots);
      const KernelRecord &Measure =
          P.requireKernel(KernelRecord::QueryEval, S.EvalQuery);
      std::vector<float> Params(FlatParams, FlatParams + P.numParameters());
      std::vector<float> Scratch;
      int64_t Done = 0;
      for (int64_t Target : sortedSteps(S.EvalSteps)) {
        adaptStepwise(P, Step, Params.data(), Support.pointers(), Target - Done,
                      Scratch);
        Done = Target;
        for (size_t K = 0; K < NumSteps; ++K)
          if (S.EvalSteps[K] == Target)
            callQueryEval(P, Measure, Params.data(), Query.pointers(),
                          Out + K * PerStep);
      }
    });
    for (size_t K = 0; K < NumSteps; ++K) {
      EvalRow Row;
      // Image episodes count shots per class; the kernels see rows.
      Row.Shots = P.source().isImages() ? Shots / P.source().Way : Shots;
      Row.Steps = S.EvalSteps[K];
      Row.Tasks = Tasks;
      std::vector<double> Values(static_cast<size_t>(Tasks));
      for (int64_t I = 0; I < Tasks; ++I) {
        Values[I] = Outputs[I * PerTask + K * PerStep];
        if (!std::isfinite(Values[I]))
          ++Row.NonFinite;
      }
      Row.Loss = meanAndCi95(Values);
      for (size_t M = 1; M < PerStep; ++M) {
        for (int64_t I = 0; I < Tasks; ++I)
          Values[I] = Outputs[I * PerTask + K * PerStep + M];
        Row.Metrics.push_back(meanAndCi95(Values));
      }
      Rows.push_back(Row);
    }
  }
  return Rows;
}
