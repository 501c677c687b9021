//===- metac/runtime/Evaluator.h - The evaluation protocol ------*- C++ -*-===//
//
// For each shots value s and each of N fresh tasks: sample a support set of s
// examples and a query set of eval_query examples, run the `eval s q` kernel,
// and collect one loss (and each `metric`) per eval_steps entry. The report is
// the mean and the 95% confidence interval 1.96 * sd / sqrt(N) per (shots,
// steps), as in Finn et al. (2017). Tasks come from evalTaskKey(seed, task,
// shots), so they do not depend on training and are identical in every run with
// the same seed.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_EVALUATOR_H
#define METAC_RUNTIME_EVALUATOR_H

#include "metac/runtime/Program.h"
#include "metac/runtime/TaskSource.h"
#include "metac/runtime/ThreadPool.h"

#include <cstdint>
#include <vector>

namespace metac::runtime {

/// The mean and the half-width of the 95% confidence interval of a sample.
struct MeanCi {
  double Mean = 0;
  /// 1.96 * sd / sqrt(N), with the unbiased (N - 1) sample standard
  /// deviation; 0 when N < 2.
  double Ci95 = 0;
};

/// Mean and CI of Values, summed in index order (so the result is
/// reproducible to the last bit).
MeanCi meanAndCi95(const std::vector<double> &Values);

/// One row of the evaluation table.
struct EvalRow {
  int64_t Shots = 0;
  int64_t Steps = 0;
  int64_t Tasks = 0;
  MeanCi Loss;
  /// One per Program::metrics() entry.
  std::vector<MeanCi> Metrics;
  /// Tasks whose loss was NaN or infinite (they make Mean non-finite too).
  int64_t NonFinite = 0;
};

class Evaluator {
public:
  /// Tasks come from Source (evaluation phase), or from the program's sample
  /// kernels when it is null.
  Evaluator(const Program &P, ThreadPool &Pool,
            const TaskSource *Source = nullptr)
      : P(P), Pool(Pool),
        OwnSource(Source ? nullptr : std::make_unique<KernelTaskSource>(P)),
        Source(Source ? *Source : *OwnSource) {}
  // Source may point into the evaluator itself (OwnSource).
  Evaluator(const Evaluator &) = delete;
  Evaluator &operator=(const Evaluator &) = delete;

  /// Evaluates FlatParams on Tasks tasks per shots value; one row per
  /// (shots, steps) in descriptor order.
  std::vector<EvalRow> run(const float *FlatParams, uint64_t Seed,
                           int64_t Tasks) const;

private:
  const Program &P;
  ThreadPool &Pool;
  std::unique_ptr<TaskSource> OwnSource;
  const TaskSource &Source;
};

} // namespace metac::runtime

#endif // METAC_RUNTIME_EVALUATOR_H
