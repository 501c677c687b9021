//===- metac/runtime/Cli.h - Command line of generated programs -*- C++ -*-===//
//
// Every executable metac produces accepts the same flags (docs/runtime.md).
// Parsing is separate from running so that the messages for bad flags can be
// tested without starting a run.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_CLI_H
#define METAC_RUNTIME_CLI_H

#include "metac/runtime/Program.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metac::runtime {

struct Options {
  bool Help = false;
  /// Overrides `setting train`.
  std::optional<int64_t> Iterations;
  uint64_t Seed = 1;
  /// Whether --seed was given (a resumed or evaluated checkpoint otherwise
  /// supplies the seed).
  bool SeedGiven = false;
  unsigned Threads = 1;
  std::string LogPath;
  int64_t LogEvery = 100;
  std::string CheckpointPath;
  int64_t CheckpointEvery = 1000;
  std::string ResumePath;
  std::string EvalOnlyPath;
  /// Overrides `setting eval_tasks`.
  std::optional<int64_t> EvalTasks;
  bool NoEval = false;
  bool Quiet = false;
  /// --omniglot DIR: episodes from a real Omniglot folder (image programs).
  std::string OmniglotRoot;
  /// Environment programs: where the learning curve goes (SVG); empty for
  /// the default, `<learner>-returns.svg`.
  std::string PlotPath;
  /// Environment programs: only roll out the initial policy on this many
  /// tasks and report environment steps per second (a benchmark).
  int64_t Rollouts = 0;
};

/// Parses the arguments after argv[0]. Throws Error with exit code 2 and a
/// message such as "error: unknown option '--foo' (see --help)".
Options parseCommandLine(const std::vector<std::string> &Args);

/// The --help text. Defaults that come from the program are shown when P is
/// given.
std::string usage(const std::string &Argv0, const Program *P);

} // namespace metac::runtime

#endif // METAC_RUNTIME_CLI_H
