//===- metac/runtime/Log.h - Metrics log (JSONL or CSV) ---------*- C++ -*-===//
//
// The metrics log is meant to be diffed and plotted, so it holds results and
// nothing else: no times, no host names. Two runs with the same seed and
// flags write the same bytes, whatever the thread count. The format follows
// the file extension:
//
//   .jsonl  {"iter":100,"loss":0.523}            one line per logged iteration
//           {"eval":{"shots":5,"steps":1,"mean":0.65,"ci95":0.07}}
//   .csv    iter,loss                             header, then one row each
//           100,0.523
//           <blank line>
//           shots,steps,mean,ci95                 evaluation section
//           5,1,0.65,0.07
//
// Numbers are printed in the shortest form that reads back to the same
// double, which is what makes the bytes reproducible.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_LOG_H
#define METAC_RUNTIME_LOG_H

#include "metac/runtime/Evaluator.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace metac::runtime {

class MetricsLog {
public:
  enum Format { Jsonl, Csv };

  /// The format for Path's extension; throws Error (exit code 2) for any
  /// other extension.
  static Format formatFor(const std::string &Path);

  /// Opens Path. A fresh run (ResumeIteration = 0) truncates it. A resumed
  /// run keeps the training rows up to ResumeIteration and drops everything
  /// after them, so that the finished file has the same bytes as the log of
  /// an uninterrupted run.
  MetricsLog(const std::string &Path, int64_t ResumeIteration);
  ~MetricsLog();
  MetricsLog(const MetricsLog &) = delete;
  MetricsLog &operator=(const MetricsLog &) = delete;

  /// Extra: more columns of the row (the same names on every call), such as
  /// a reinforcement-learning run's returns.
  void
  logIteration(int64_t Iteration, double Loss,
               const std::vector<std::pair<std::string, double>> &Extra = {});
  /// Metrics names the EvalRow::Metrics columns (Program::metrics()).
  void logEvaluation(const std::vector<EvalRow> &Rows,
                     const std::vector<std::string> &Metrics = {});

  /// A training row kept on resume: its iteration and its named values
  /// (loss and the extra columns; null values are left out).
  struct Row {
    int64_t Iteration = 0;
    std::vector<std::pair<std::string, double>> Values;
  };
  /// The rows a resumed run kept, in order (empty for a fresh run).
  const std::vector<Row> &keptRows() const { return Kept; }

private:
  void write(const std::string &Text);

  std::string Path;
  Format Fmt;
  std::FILE *File = nullptr;
  bool HasRows = false;
  std::vector<Row> Kept;
};

/// A double as the log writes it: shortest round-trip form, `null` for NaN
/// and infinities (which JSON cannot express).
std::string formatNumber(double V);

} // namespace metac::runtime

#endif // METAC_RUNTIME_LOG_H
