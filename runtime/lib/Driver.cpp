//===- Driver.cpp - The run of a generated program ------------------------===//
//
//   descriptor ──► Program ──┐
//   argv ────────► Options ──┼─► Trainer (or checkpoint) ─► Evaluator ─► table
//                            └─► MetricsLog, Progress, checkpoints
//
// Results go to stdout, everything about the process (progress, errors) to
// stderr, so `prog > results.txt` keeps the results clean. Errors are thrown
// as Error and turned into a message and an exit code in exactly one place,
// runMain.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Driver.h"
#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Cli.h"
#include "metac/runtime/Cpu.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Init.h"
#include "metac/runtime/Log.h"
#include "metac/runtime/Plot.h"
#include "metac/runtime/Program.h"
#include "metac/runtime/Progress.h"
#include "metac/runtime/Reinforcement.h"
#include "metac/runtime/ThreadPool.h"
#include "metac/runtime/Trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <malloc.h>
#include <memory>
#include <optional>
#include <unistd.h>

using namespace metac::runtime;

namespace {

volatile std::sig_atomic_t Interrupted = 0;

extern "C" void onInterrupt(int) { Interrupted = 1; }

/// Catches SIGINT and SIGTERM for the duration of training, so that an
/// interrupted run stops between iterations and checkpoints. SA_RESETHAND
/// makes a second Ctrl-C kill the process as usual.
class InterruptGuard {
public:
  InterruptGuard() {
    Interrupted = 0;
    struct sigaction Action = {};
    Action.sa_handler = onInterrupt;
    Action.sa_flags = SA_RESETHAND;
    sigemptyset(&Action.sa_mask);
    sigaction(SIGINT, &Action, &OldInt);
    sigaction(SIGTERM, &Action, &OldTerm);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &OldInt, nullptr);
    sigaction(SIGTERM, &OldTerm, nullptr);
  }

private:
  struct sigaction OldInt = {}, OldTerm = {};
};

class Session {
public:
  Session(const Program &P, const Options &O, std::unique_ptr<TaskSource> T)
      : P(P), O(O), Source(std::move(T)), Pool(O.Threads),
        Began(std::chrono::steady_clock::now()) {}

  int run();

  /// Ends a progress line in flight, so that an error starts a fresh line.
  void finishProgress() {
    if (Bar)
      Bar->finish();
  }

private:
  int train();
  template <class TrainerT>
  int runTraining(TrainerT &T, const std::optional<Checkpoint> &Resumed);
  /// Reports one iteration: the log, the progress line and, for
  /// environments, the learning curve.
  void record(int64_t Iteration, double Loss);
  void record(int64_t Iteration, const RlIteration &R);
  void writeCurve();
  void evaluate(const std::vector<float> &Params, uint64_t Seed);
  void evaluateReturns(const std::vector<float> &Params, uint64_t Seed);
  void printHeader(int64_t Start, int64_t Total, uint64_t Seed);
  void printWallTime();

  const Program &P;
  const Options &O;
  /// Null: the program's sample kernels.
  std::unique_ptr<TaskSource> Source;
  ThreadPool Pool;
  std::chrono::steady_clock::time_point Began;
  std::unique_ptr<MetricsLog> Log;
  std::unique_ptr<Progress> Bar;
  int64_t Total = 0;
  /// Environments: the learning curve of this run.
  Series PreCurve{"before adaptation", {}, {}};
  Series PostCurve{"after 1 step", {}, {}};
  bool PlotWarned = false;
};

} // namespace

void Session::printHeader(int64_t Start, int64_t Total, uint64_t Seed) {
  if (O.Quiet)
    return;
  fmt::print("{}: {} parameters ({} model, {} meta) in {} tensors\n", P.name(),
             P.numParameters(), P.numModelParameters(),
             P.numParameters() - P.numModelParameters(), P.parameters().size());
  const Settings &S = P.settings();
  const OptimizerSpec &Opt = P.optimizer();
  std::string OptText =
      Opt.K == OptimizerSpec::Adam
          ? fmt::format("adam lr {} betas ({}, {}) eps {}", Opt.Lr, Opt.Beta1,
                        Opt.Beta2, Opt.Eps)
          : fmt::format("sgd lr {} momentum {}", Opt.Lr, Opt.Momentum);
  if (Opt.Epochs > 1)
    OptText += fmt::format(", {} epochs per batch", Opt.Epochs);
  if (Start > 0)
    fmt::print("resuming from '{}' at iteration {}\n", O.ResumePath, Start);
  std::string Split = fmt::format("support {}, query {}", S.Support, S.Query);
  if (const EnvironmentSpec *E = P.environment()) {
    Split = fmt::format("environment {}, {} episodes of {} steps per rollout",
                        E->Name, E->Episodes, E->Horizon);
    if (Opt.K == OptimizerSpec::Trpo)
      OptText = fmt::format("trpo max_kl {} damping {} cg_iters {}", Opt.MaxKl,
                            Opt.Damping, Opt.CgIters);
  } else if (const TaskSourceSpec &Src = P.source(); Src.isImages())
    Split = fmt::format("{}-way, {} shot, {} query per class", Src.Way,
                        S.Support / Src.Way, S.Query / Src.Way);
  fmt::print("training: {} iterations, meta-batch {}, {}, {}, seed {}, "
             "threads {}\n",
             Total, S.MetaBatch, Split, OptText, Seed, Pool.size());
  std::fflush(stdout);
}

void Session::printWallTime() {
  if (O.Quiet)
    return;
  double Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Began)
          .count();
  fmt::print("wall time: {:.2f} s\n", Seconds);
  std::fflush(stdout);
}

void Session::evaluateReturns(const std::vector<float> &Params, uint64_t Seed) {
  const Settings &S = P.settings();
  const EnvironmentSpec &E = *P.environment();
  int64_t Tasks = O.EvalTasks.value_or(S.EvalTasks);
  std::vector<ReturnRow> Rows =
      metac::runtime::evaluateReturns(P, Pool, Params.data(), Seed, Tasks);
  fmt::print("evaluation: {} new tasks of {}, {} episodes per adaptation "
             "step\n",
             Tasks, E.Name, E.EvalEpisodes);
  fmt::print("steps  return (mean ± 95% CI)\n");
  std::vector<EvalRow> Logged;
  for (const ReturnRow &R : Rows) {
    fmt::print("{:5}  {:.2f} ± {:.2f}\n", R.Steps, R.Return.Mean,
               R.Return.Ci95);
    // The log's evaluation rows: shots are episodes, the loss column the
    // return.
    EvalRow L;
    L.Shots = E.EvalEpisodes;
    L.Steps = R.Steps;
    L.Tasks = R.Tasks;
    L.Loss = R.Return;
    Logged.push_back(L);
  }
  std::fflush(stdout);
  if (Log)
    Log->logEvaluation(Logged, {});
}

void Session::evaluate(const std::vector<float> &Params, uint64_t Seed) {
  if (P.environment())
    return evaluateReturns(Params, Seed);
  const Settings &S = P.settings();
  int64_t Tasks = O.EvalTasks.value_or(S.EvalTasks);
  std::vector<EvalRow> Rows =
      Evaluator(P, Pool, Source.get()).run(Params.data(), Seed, Tasks);
  const TaskSourceSpec &Src = P.source();
  if (Src.isImages())
    fmt::print("evaluation: {} tasks, {}-way, {} query images per class, "
               "held-out classes\n",
               Tasks, Src.Way, S.EvalQuery / Src.Way);
  else
    fmt::print("evaluation: {} tasks, query {}\n", Tasks, S.EvalQuery);
  std::string Header = "shots  steps  loss (mean ± 95% CI)";
  for (const std::string &M : P.metrics())
    Header += fmt::format("  {} (mean ± 95% CI)", M);
  fmt::print("{}\n", Header);
  for (const EvalRow &R : Rows) {
    std::string Line = fmt::format("{:5}  {:5}  {:.4f} ± {:.4f}", R.Shots,
                                   R.Steps, R.Loss.Mean, R.Loss.Ci95);
    for (const MeanCi &M : R.Metrics)
      Line += fmt::format("  {:.4f} ± {:.4f}", M.Mean, M.Ci95);
    fmt::print("{}\n", Line);
  }
  std::fflush(stdout);
  for (const EvalRow &R : Rows)
    if (R.NonFinite)
      fmt::print(stderr,
                 "metac: warning: {} of {} evaluation tasks gave a non-finite "
                 "loss (shots {}, steps {})\n",
                 R.NonFinite, R.Tasks, R.Shots, R.Steps);
  if (Log)
    Log->logEvaluation(Rows, P.metrics());
}

void Session::record(int64_t Iteration, double Loss) {
  if (Log && (Iteration % O.LogEvery == 0 || Iteration == Total))
    Log->logIteration(Iteration, Loss);
  if (Bar)
    Bar->update(Iteration, Loss);
}

void Session::record(int64_t Iteration, const RlIteration &R) {
  if (Log && (Iteration % O.LogEvery == 0 || Iteration == Total))
    Log->logIteration(Iteration, R.Loss,
                      {{"return_before", R.PreReturn},
                       {"return_after", R.PostReturn},
                       {"kl", R.Kl},
                       {"step_accepted", R.Accepted ? 1.0 : 0.0}});
  if (Bar)
    Bar->update(
        Iteration, R.Loss,
        fmt::format("return {:.4g} -> {:.4g}", R.PreReturn, R.PostReturn));
  PreCurve.X.push_back(double(Iteration));
  PreCurve.Y.push_back(R.PreReturn);
  PostCurve.X.push_back(double(Iteration));
  PostCurve.Y.push_back(R.PostReturn);
  // Rewritten now and then, so that a long run can be watched.
  if (Iteration % 25 == 0)
    writeCurve();
}

void Session::writeCurve() {
  if (!P.environment() || PreCurve.X.empty())
    return;
  std::string Path =
      O.PlotPath.empty() ? P.name() + "-returns.svg" : O.PlotPath;
  // A plot that cannot be written must not cost the training run: warn
  // once and go on (the log and checkpoints have the results).
  try {
    writeLineChartSvg(Path,
                      fmt::format("{}: mean return per episode on {}", P.name(),
                                  P.environment()->Name),
                      "meta-iteration", "return", {PreCurve, PostCurve});
  } catch (const Error &E) {
    if (!PlotWarned) {
      finishProgress();
      fmt::print(stderr, "metac: warning: no learning curve: {}\n", E.what());
    }
    PlotWarned = true;
  }
}

int Session::train() {
  uint64_t Seed = O.Seed;
  std::optional<Checkpoint> Resumed;
  if (!O.ResumePath.empty()) {
    Resumed = readCheckpoint(O.ResumePath);
    checkCompatible(*Resumed, P, O.ResumePath);
    if (O.SeedGiven && O.Seed != Resumed->Seed)
      throw Error(fmt::format("error: --seed {} differs from the seed {} of "
                              "checkpoint '{}'",
                              O.Seed, Resumed->Seed, O.ResumePath),
                  ExitUsage);
    Seed = Resumed->Seed;
  }
  if (P.environment()) {
    RlTrainer T(P, Pool, Seed);
    return runTraining(T, Resumed);
  }
  Trainer T(P, Pool, Seed, Source.get());
  return runTraining(T, Resumed);
}

template <class TrainerT>
int Session::runTraining(TrainerT &T,
                         const std::optional<Checkpoint> &Resumed) {
  if (Resumed)
    T.restore(*Resumed);
  const int64_t Start = T.iteration();
  Total = O.Iterations.value_or(P.settings().Train);

  printHeader(Start, Total, T.seed());
  if (!O.LogPath.empty()) {
    Log = std::make_unique<MetricsLog>(O.LogPath, Start);
    // A resumed environment run's learning curve starts with the returns
    // its log kept (every --log-every iterations of the earlier runs).
    for (const MetricsLog::Row &Row : Log->keptRows()) {
      std::optional<double> Before, After;
      for (const auto &[Name, Value] : Row.Values) {
        if (Name == "return_before")
          Before = Value;
        else if (Name == "return_after")
          After = Value;
      }
      // Each curve keeps what it has: a null (non-finite) return in one
      // column does not drop the other's point.
      if (Before) {
        PreCurve.X.push_back(double(Row.Iteration));
        PreCurve.Y.push_back(*Before);
      }
      if (After) {
        PostCurve.X.push_back(double(Row.Iteration));
        PostCurve.Y.push_back(*After);
      }
    }
  }
  if (!O.Quiet && Start < Total)
    Bar = std::make_unique<Progress>(Start, Total, ::isatty(STDERR_FILENO));

  int64_t LastCheckpoint = Resumed ? Start : -1;
  auto Save = [&] {
    if (O.CheckpointPath.empty() || LastCheckpoint == T.iteration())
      return;
    writeCheckpoint(O.CheckpointPath, T.snapshot());
    LastCheckpoint = T.iteration();
  };

  {
    // Only the training loop can stop cleanly between two steps; outside it
    // (evaluation) SIGINT keeps its default meaning.
    InterruptGuard Guard;
    while (T.iteration() < Total) {
      auto Result = T.step();
      int64_t Iter = T.iteration();
      record(Iter, Result);
      if (Iter % O.CheckpointEvery == 0)
        Save();
      if (Interrupted && Iter < Total) {
        Save();
        writeCurve();
        finishProgress();
        fmt::print(
            stderr, "metac: interrupted after iteration {}{}\n", Iter,
            O.CheckpointPath.empty()
                ? ""
                : fmt::format("; resume with --resume {}", O.CheckpointPath));
        return ExitInterrupted;
      }
    }
  }
  Save();
  finishProgress();
  writeCurve();
  if (Start >= Total && Start > 0 && !O.Quiet)
    fmt::print("nothing to train: the checkpoint is at iteration {}\n", Start);
  if (!O.Quiet && P.environment() && !PreCurve.X.empty() && !PlotWarned)
    fmt::print("learning curve: {}\n",
               O.PlotPath.empty() ? P.name() + "-returns.svg" : O.PlotPath);

  if (!O.NoEval && P.hasEvaluation())
    evaluate(T.parameters(), T.seed());
  printWallTime();
  return ExitSuccess;
}

int Session::run() {
  if (O.Rollouts) {
    const EnvironmentSpec *E = P.environment();
    if (!E)
      throw Error(fmt::format("error: --rollouts: program '{}' has no "
                              "environment",
                              P.name()),
                  ExitUsage);
    std::vector<float> Params(P.numParameters());
    initializeParameters(P, O.Seed, Params.data());
    RolloutRate R = measureRollouts(P, Pool, Params.data(), O.Seed, O.Rollouts);
    fmt::print("rollouts: {} tasks x {} episodes of {}, {} steps in {:.3f} "
               "s: {:.0f} steps/s ({} thread{})\n",
               R.Tasks, E->Episodes, E->Name, R.Steps, R.Seconds,
               R.Steps / std::max(R.Seconds, 1e-9), Pool.size(),
               Pool.size() == 1 ? "" : "s");
    return ExitSuccess;
  }
  if (O.EvalOnlyPath.empty())
    return train();
  if (!P.hasEvaluation())
    throw Error(fmt::format("error: --eval-only: program '{}' defines no "
                            "evaluation (no `list eval_shots`)",
                            P.name()),
                ExitUsage);
  Checkpoint C = readCheckpoint(O.EvalOnlyPath);
  checkCompatible(C, P, O.EvalOnlyPath);
  uint64_t Seed = O.SeedGiven ? O.Seed : C.Seed;
  if (!O.Quiet) {
    fmt::print("{}: evaluating '{}' (iteration {}), seed {}, threads {}\n",
               P.name(), O.EvalOnlyPath, C.Iteration, Seed, Pool.size());
    std::fflush(stdout);
  }
  if (!O.LogPath.empty())
    Log = std::make_unique<MetricsLog>(O.LogPath, 0);
  evaluate(C.Params, Seed);
  printWallTime();
  return ExitSuccess;
}

int metac::runtime::runMain(int Argc, char **Argv, const char *Target,
                            const char *Descriptor,
                            const metac_kernel_fn *Kernels,
                            ImageSourceFactory Images,
                            SimulatorFactory Simulators) {
  // Generated kernels allocate their buffer slots on every call
  // (PlanBuffers.cpp). glibc would serve slots above 128 KiB with mmap and
  // return them with munmap, so every call faulted all their pages in again:
  // a fifth of MAML-RL's time was the kernel zeroing pages. Keep them in
  // the heap (32 MiB is glibc's largest threshold) and the heap untrimmed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  // Declared outside the try block: the session refers to them and is still
  // alive in the handlers.
  Program P;
  Options O;
  std::unique_ptr<Session> S;
  try {
    // Loading the descriptor and the command line runs no kernel, so --help
    // works on any CPU (and says which one the program was compiled for).
    P = Program::load(Descriptor, Kernels);
    O = parseCommandLine(std::vector<std::string>(Argv + 1, Argv + Argc));
    if (O.Help) {
      fmt::print("{}\n{}", usage(Argc > 0 ? Argv[0] : "program", &P),
                 describeTarget(Target));
      return ExitSuccess;
    }
    // Before anything could run an instruction this CPU does not have.
    checkTargetCpu(Target);
    // Validate the log's extension before spending time on training.
    if (!O.LogPath.empty())
      MetricsLog::formatFor(O.LogPath);
    std::unique_ptr<TaskSource> Tasks;
    if (P.source().isImages()) {
      if (!Images)
        throw Error("error: this executable was linked without the image "
                    "data layer (libmetac_data) its `source` record needs");
      TaskSourceOptions TO;
      TO.OmniglotRoot = O.OmniglotRoot;
      TO.Verbose = !O.Quiet;
      TO.Evaluation = !O.NoEval;
      Tasks = Images(P, TO);
    } else if (!O.OmniglotRoot.empty()) {
      throw Error(fmt::format("error: --omniglot: program '{}' samples its "
                              "own tasks (it has no image source)",
                              P.name()),
                  ExitUsage);
    }
    if (const EnvironmentSpec *Env = P.environment(); Env && Env->Sim) {
      if (!Simulators)
        throw Error("error: this executable was linked without the simulator "
                    "layer (libmetac_sim) its `simulator` record needs");
      P.attachSimulator(Simulators(*Env));
    }
    S = std::make_unique<Session>(P, O, std::move(Tasks));
    return S->run();
  } catch (const Error &E) {
    std::fflush(stdout);
    if (S)
      S->finishProgress();
    fmt::print(stderr, "metac: {}\n", E.what());
    return E.exitCode();
  } catch (const std::exception &E) {
    std::fflush(stdout);
    if (S)
      S->finishProgress();
    fmt::print(stderr, "metac: internal error: {}\n", E.what());
    return ExitFailure;
  }
}
