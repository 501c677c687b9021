//===- Evaluator.cpp - The evaluation protocol ----------------------------===//

#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Kernels.h"
#include "metac/runtime/Rng.h"

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

std::vector<EvalRow> Evaluator::run(const float *FlatParams, uint64_t Seed,
                                    int64_t Tasks) const {
  const Settings &S = P.settings();
  const size_t NumSteps = S.EvalSteps.size();
  // Per step: the loss, then each metric.
  const size_t PerStep = 1 + P.metrics().size();
  const size_t PerTask = static_cast<size_t>(P.evalOutputs());
  std::vector<EvalRow> Rows;
  for (int64_t Shots : S.EvalShots) {
    const KernelRecord &Eval =
        P.requireKernel(KernelRecord::Eval, Shots, S.EvalQuery);
    // Each task writes only its own losses; buffers are per worker call.
    std::vector<float> Outputs(static_cast<size_t>(Tasks) * PerTask);
    Pool.parallelFor(static_cast<size_t>(Tasks), [&](size_t I) {
      TaskSplit Support(P, Shots), Query(P, S.EvalQuery);
      uint64_t TaskKey = rng::evalTaskKey(Seed, I, Shots);
      Source.sample(TaskKey, Phase::Evaluation, Support, Query);
      callEval(P, Eval, FlatParams, Support.pointers(), Query.pointers(),
               Outputs.data() + I * PerTask);
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
