//===- Cli.cpp - Command line of generated programs -----------------------===//
//
// Hand-written rather than getopt: the messages must be exact (they are part
// of the interface and tested), both `--flag value` and `--flag=value` are
// accepted, and numbers are checked strictly (no "10abc", no negative counts).
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Cli.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

using namespace metac::runtime;

[[noreturn]] static void usageError(const std::string &Message) {
  throw Error("error: " + Message, ExitUsage);
}

template <typename T>
static T parseNumber(const std::string &Flag, const std::string &Value, T Min,
                     T Max, const char *Expected) {
  T Result{};
  auto [End, Ec] =
      std::from_chars(Value.data(), Value.data() + Value.size(), Result);
  if (Ec != std::errc() || End != Value.data() + Value.size() || Result < Min ||
      Result > Max)
    usageError(fmt::format("invalid value '{}' for {} (expected {})", Value,
                           Flag, Expected));
  return Result;
}

Options metac::runtime::parseCommandLine(const std::vector<std::string> &Args) {
  Options O;
  const int64_t MaxCount = std::numeric_limits<int64_t>::max();
  for (size_t I = 0; I < Args.size(); ++I) {
    std::string Arg = Args[I];
    if (Arg.size() < 2 || Arg[0] != '-')
      usageError(fmt::format("unexpected argument '{}' (see --help)", Arg));
    std::string Flag = Arg;
    std::optional<std::string> Inline;
    if (size_t Eq = Arg.find('=');
        Arg.rfind("--", 0) == 0 && Eq != std::string::npos) {
      Flag = Arg.substr(0, Eq);
      Inline = Arg.substr(Eq + 1);
    }
    auto Switch = [&] {
      if (Inline)
        usageError(fmt::format("option '{}' takes no value", Flag));
    };
    auto Value = [&]() -> std::string {
      if (Inline)
        return *Inline;
      if (I + 1 >= Args.size())
        usageError(fmt::format("option '{}' needs a value (see --help)", Flag));
      return Args[++I];
    };
    auto Path = [&]() -> std::string {
      std::string V = Value();
      if (V.empty())
        usageError(fmt::format("option '{}' needs a file name", Flag));
      return V;
    };
    if (Flag == "--help" || Flag == "-h") {
      Switch();
      O.Help = true;
    } else if (Flag == "--iterations") {
      O.Iterations = parseNumber<int64_t>(Flag, Value(), 0, MaxCount,
                                          "a non-negative integer");
    } else if (Flag == "--seed") {
      O.Seed = parseNumber<uint64_t>(Flag, Value(), 0,
                                     std::numeric_limits<uint64_t>::max(),
                                     "an unsigned 64-bit integer");
      O.SeedGiven = true;
    } else if (Flag == "--threads") {
      O.Threads = parseNumber<unsigned>(Flag, Value(), 1, 1024,
                                        "an integer from 1 to 1024");
    } else if (Flag == "--log") {
      O.LogPath = Path();
    } else if (Flag == "--log-every") {
      O.LogEvery = parseNumber<int64_t>(Flag, Value(), 1, MaxCount,
                                        "a positive integer");
    } else if (Flag == "--checkpoint") {
      O.CheckpointPath = Path();
    } else if (Flag == "--checkpoint-every") {
      O.CheckpointEvery = parseNumber<int64_t>(Flag, Value(), 1, MaxCount,
                                               "a positive integer");
    } else if (Flag == "--resume") {
      O.ResumePath = Path();
    } else if (Flag == "--eval-only") {
      O.EvalOnlyPath = Path();
    } else if (Flag == "--omniglot") {
      O.OmniglotRoot = Path();
    } else if (Flag == "--plot") {
      O.PlotPath = Path();
      // Caught now rather than after hours of training.
      if (!hasSuffix(O.PlotPath, ".svg"))
        usageError(fmt::format("--plot file '{}' must end in .svg (the "
                               "learning curve is an SVG image)",
                               O.PlotPath));
    } else if (Flag == "--eval-tasks") {
      O.EvalTasks = parseNumber<int64_t>(Flag, Value(), 1, 100000000,
                                         "a positive integer");
    } else if (Flag == "--rollouts") {
      O.Rollouts = parseNumber<int64_t>(Flag, Value(), 1, 100000000,
                                        "a positive integer");
    } else if (Flag == "--no-eval") {
      Switch();
      O.NoEval = true;
    } else if (Flag == "--quiet" || Flag == "-q") {
      Switch();
      O.Quiet = true;
    } else {
      usageError(fmt::format("unknown option '{}' (see --help)", Flag));
    }
  }
  if (O.Help)
    return O;
  if (O.Rollouts &&
      (!O.EvalOnlyPath.empty() || !O.ResumePath.empty() ||
       !O.CheckpointPath.empty() || O.Iterations || !O.LogPath.empty()))
    usageError("--rollouts only measures rollouts: it cannot be combined "
               "with --eval-only, --resume, --checkpoint, --iterations or "
               "--log");
  if (!O.EvalOnlyPath.empty()) {
    if (!O.ResumePath.empty())
      usageError("--eval-only and --resume cannot be combined");
    if (O.NoEval)
      usageError("--eval-only and --no-eval cannot be combined");
    if (!O.CheckpointPath.empty())
      usageError("--eval-only does not train, so --checkpoint has no effect");
    if (O.Iterations)
      usageError("--eval-only does not train, so --iterations has no effect");
  }
  return O;
}

std::string metac::runtime::usage(const std::string &Argv0, const Program *P) {
  std::string Train = "from the program", EvalTasks = Train;
  std::string Name = "a meta-learner compiled by metac";
  if (P) {
    Train = fmt::format("{}", P->settings().Train);
    EvalTasks = fmt::format("{}", P->settings().EvalTasks);
    Name = fmt::format("'{}', a meta-learner compiled by metac", P->name());
  }
  return fmt::format(
      R"(usage: {0} [options]

{1}: meta-trains, then evaluates.

options:
  --iterations N        meta-training iterations (default: {2})
  --seed S              seed of every random choice (default: 1; with
                        --resume or --eval-only: the checkpoint's seed)
  --threads T           threads for the tasks of a meta-batch and for
                        evaluation; results do not depend on T (default: 1)
  --log FILE            metrics log; FILE.jsonl: JSON lines, FILE.csv: CSV
  --log-every K         log every K iterations (default: 100)
  --checkpoint FILE     write a checkpoint (atomically) every
                        --checkpoint-every iterations and at the end
  --checkpoint-every K  (default: 1000)
  --resume FILE         continue training from a checkpoint
  --eval-only FILE      evaluate the parameters of a checkpoint; no training
  --eval-tasks N        evaluation tasks per shots value (default: {3})
  --no-eval             skip the evaluation after training
  --plot FILE.svg       (environment programs) write the learning curve,
                        returns before and after adaptation per iteration,
                        here (default: <learner>-returns.svg)
  --rollouts N          (environment programs) only roll out the initial
                        policy on N tasks and report environment steps
                        per second
  --omniglot DIR        (image programs) take episodes from the real
                        Omniglot in DIR (images_background/,
                        images_evaluation/) instead of the program's source
  --quiet, -q           print only the evaluation table and errors
  --help, -h            show this help

exit status: 0 success, 1 error, 2 bad command line, 3 non-finite loss or
gradient, 130 interrupted (a checkpoint is written first if --checkpoint)
)",
      Argv0, Name, Train, EvalTasks);
}
