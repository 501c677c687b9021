//===- metac/runtime/TaskSource.h - Where tasks come from -------*- C++ -*-===//
//
// The trainer and the evaluator ask a TaskSource for the support and query
// sets of a task. A program that writes its task distribution (`tasks Sine
// { ... sample(n) { ... } }`) is sampled by its own generated `sample`
// kernels (KernelTaskSource). A program with a built-in image source
// (`tasks Chars = glyphs(way = 5)`, descriptor record `source`) is sampled
// by the data layer, library metac_data (runtime/lib/ImageTasks.cpp), which
// only executables of such programs link: runMain receives its factory.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_TASKSOURCE_H
#define METAC_RUNTIME_TASKSOURCE_H

#include "metac/runtime/Kernels.h"
#include "metac/runtime/Program.h"

#include <cstdint>
#include <memory>
#include <string>

namespace metac::runtime {

/// Meta-training tasks and held-out evaluation tasks. Sources with a
/// background/evaluation split (image classes) draw them from different
/// classes; a written distribution has one set of tasks for both.
enum class Phase { Training, Evaluation };

class TaskSource {
public:
  virtual ~TaskSource();
  /// Fills Support and Query (whose rows() are the sizes) with task TaskKey:
  /// a pure function of its arguments, called from many threads at once.
  virtual void sample(uint64_t TaskKey, Phase Ph, TaskSplit &Support,
                      TaskSplit &Query) const = 0;
};

/// The program's `sample` kernels: support and query are independent draws
/// from the same task (rng::supportDataKey / rng::queryDataKey).
class KernelTaskSource : public TaskSource {
public:
  explicit KernelTaskSource(const Program &P) : P(P) {}
  void sample(uint64_t TaskKey, Phase Ph, TaskSplit &Support,
              TaskSplit &Query) const override;

private:
  const Program &P;
};

/// Run-time choices a source may need (command-line flags).
struct TaskSourceOptions {
  /// --omniglot DIR: the real Omniglot folder, for either image source.
  std::string OmniglotRoot;
  /// Print what is being loaded (a glyph set build takes seconds).
  bool Verbose = true;
  /// Whether evaluation tasks will be asked for (not with --no-eval), so a
  /// folder too small for evaluation episodes can still train.
  bool Evaluation = true;
};

/// Creates the source of a program with a `source` record; throws Error when
/// the data cannot be had (a missing folder, a corrupt file).
using ImageSourceFactory = std::unique_ptr<TaskSource> (*)(
    const Program &P, const TaskSourceOptions &Options);

} // namespace metac::runtime

#endif // METAC_RUNTIME_TASKSOURCE_H
