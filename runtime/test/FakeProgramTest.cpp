//===- FakeProgramTest.cpp - End to end through the executable ------------===//
//
// These tests run metac_fake_program, the runtime's main() linked with the
// hand-written FakeProgram.cpp, exactly as a user runs a compiled program.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "metac/runtime/Checkpoint.h"

#include <gtest/gtest.h>

#include <regex>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

/// The evaluation table of a run's stdout (from its title line on).
std::string evaluationTable(const std::string &Out) {
  size_t Begin = Out.find("evaluation:");
  if (Begin == std::string::npos)
    return "";
  size_t End = Out.find("wall time:", Begin);
  return Out.substr(Begin, End == std::string::npos ? End : End - Begin);
}

} // namespace

TEST(FakeProgramTest, HeaderTableAndWallTime) {
  TempDir Dir;
  CommandResult R = runFake(Dir, "--iterations 50");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  std::vector<std::string> Out = lines(R.Out);
  ASSERT_GE(Out.size(), 10u) << R.Out;
  EXPECT_EQ(Out[0], "fake_linear: 3 parameters (2 model, 1 meta) in 3 tensors");
  EXPECT_EQ(Out[1], "training: 50 iterations, meta-batch 4, support 5, query "
                    "10, adam lr 0.01 betas (0.9, 0.999) eps 1e-08, seed 1, "
                    "threads 1");
  EXPECT_EQ(Out[2], "evaluation: 50 tasks, query 10");
  EXPECT_EQ(Out[3], "shots  steps  loss (mean ± 95% CI)");
  std::regex Row(R"( +(5|10) +[015]  [0-9]+\.[0-9]{4} ± [0-9]+\.[0-9]{4})");
  for (int I = 4; I < 10; ++I)
    EXPECT_TRUE(std::regex_match(Out[I], Row)) << Out[I];
  EXPECT_TRUE(std::regex_match(Out[10], std::regex(R"(wall time: [0-9.]+ s)")))
      << Out[10];
  // Not a terminal: plain progress lines, the last at 100%.
  EXPECT_NE(R.Err.find("iteration 50/50 (100%)"), std::string::npos) << R.Err;
  EXPECT_EQ(R.Err.find('\r'), std::string::npos);
}

TEST(FakeProgramTest, QuietPrintsOnlyTheTable) {
  TempDir Dir;
  CommandResult R = runFake(Dir, "--iterations 5 --quiet --eval-tasks 7");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  EXPECT_EQ(R.Out.rfind("evaluation: 7 tasks, query 10\n", 0), 0u) << R.Out;
  EXPECT_EQ(lines(R.Out).size(), 8u);
  EXPECT_EQ(R.Err, "");
}

TEST(FakeProgramTest, IdenticalLogsAndCheckpointsForAnyThreadCount) {
  TempDir Dir;
  const char *Common = "--iterations 60 --log-every 10 --checkpoint-every 25 "
                       "--eval-tasks 30";
  for (int T : {1, 2, 3}) {
    std::string Args = std::string(Common) + " --threads " + std::to_string(T) +
                       " --log t" + std::to_string(T) +
                       ".jsonl --checkpoint t" + std::to_string(T) + ".ckpt";
    CommandResult R = runFake(Dir, Args);
    ASSERT_EQ(R.ExitCode, 0) << R.Err;
  }
  std::string Log = readFile(Dir.file("t1.jsonl"));
  EXPECT_EQ(lines(Log).size(), 6u + 6u) << Log;
  EXPECT_EQ(lines(Log)[0].rfind("{\"iter\":10,\"loss\":", 0), 0u);
  EXPECT_EQ(
      lines(Log)[6].rfind("{\"eval\":{\"shots\":5,\"steps\":0,\"mean\":", 0),
      0u);
  std::string Ckpt = readFile(Dir.file("t1.ckpt"));
  EXPECT_FALSE(Ckpt.empty());
  for (const char *T : {"2", "3"}) {
    EXPECT_EQ(readFile(Dir.file(std::string("t") + T + ".jsonl")), Log) << T;
    EXPECT_EQ(readFile(Dir.file(std::string("t") + T + ".ckpt")), Ckpt) << T;
  }
  EXPECT_EQ(readCheckpoint(Dir.file("t1.ckpt")).Iteration, 60u);
}

TEST(FakeProgramTest, ResumeIsBitIdentical) {
  TempDir Dir;
  CommandResult R =
      runFake(Dir, "--iterations 20 --log-every 5 --eval-tasks 20 "
                   "--log full.jsonl --checkpoint full.ckpt");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  std::string FullTable = evaluationTable(R.Out);

  R = runFake(Dir, "--iterations 10 --log-every 5 --no-eval --log part.jsonl "
                   "--checkpoint part.ckpt");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  EXPECT_EQ(readCheckpoint(Dir.file("part.ckpt")).Iteration, 10u);
  EXPECT_EQ(evaluationTable(R.Out), "");

  R = runFake(Dir, "--resume part.ckpt --iterations 20 --log-every 5 "
                   "--eval-tasks 20 --log part.jsonl --checkpoint part.ckpt");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  EXPECT_NE(R.Out.find("resuming from 'part.ckpt' at iteration 10"),
            std::string::npos);
  EXPECT_EQ(readFile(Dir.file("part.ckpt")), readFile(Dir.file("full.ckpt")));
  EXPECT_EQ(readFile(Dir.file("part.jsonl")), readFile(Dir.file("full.jsonl")));
  EXPECT_EQ(evaluationTable(R.Out), FullTable);
}

TEST(FakeProgramTest, EvalOnlyReproducesTheEvaluation) {
  TempDir Dir;
  CommandResult Train = runFake(Dir, "--iterations 30 --seed 5 --checkpoint "
                                     "c.ckpt --eval-tasks 25 --log t.csv");
  ASSERT_EQ(Train.ExitCode, 0) << Train.Err;
  CommandResult Eval = runFake(
      Dir, "--eval-only c.ckpt --eval-tasks 25 --threads 2 --log e.csv");
  ASSERT_EQ(Eval.ExitCode, 0) << Eval.Err;
  EXPECT_NE(Eval.Out.find("evaluating 'c.ckpt' (iteration 30), seed 5"),
            std::string::npos)
      << Eval.Out;
  EXPECT_EQ(evaluationTable(Eval.Out), evaluationTable(Train.Out));
  // The CSV training log ends with the same evaluation section.
  std::string TrainLog = readFile(Dir.file("t.csv"));
  std::string EvalLog = readFile(Dir.file("e.csv"));
  EXPECT_EQ(TrainLog.rfind("iter,loss\n", 0), 0u);
  EXPECT_EQ(EvalLog.rfind("shots,steps,mean,ci95\n", 0), 0u);
  EXPECT_EQ(TrainLog.substr(TrainLog.size() - EvalLog.size()), EvalLog);
  EXPECT_NE(TrainLog.find("\n30,"), std::string::npos) << "the final iteration";
}

TEST(FakeProgramTest, BadCheckpointsAreReported) {
  TempDir Dir;
  CommandResult R = runFake(Dir, "--resume missing.ckpt");
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_EQ(R.Err, "metac: error: cannot load checkpoint 'missing.ckpt': No "
                   "such file or directory\n");

  ASSERT_EQ(
      runFake(Dir, "--iterations 3 --no-eval --checkpoint c.ckpt").ExitCode, 0);
  std::string Bytes = readFile(Dir.file("c.ckpt"));
  writeFile(Dir.file("cut.ckpt"), Bytes.substr(0, Bytes.size() - 10));
  R = runFake(Dir, "--eval-only cut.ckpt");
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_NE(R.Err.find("metac: error: cannot load checkpoint 'cut.ckpt': "
                       "truncated"),
            std::string::npos)
      << R.Err;

  R = runFake(Dir, "--resume c.ckpt --seed 2");
  EXPECT_EQ(R.ExitCode, 2);
  EXPECT_EQ(R.Err, "metac: error: --seed 2 differs from the seed 1 of "
                   "checkpoint 'c.ckpt'\n");

  // A checkpoint of another program (the diverging descriptor differs).
  R = runFake(Dir, "--iterations 1 --no-eval --checkpoint other.ckpt",
              "METAC_FAKE_DIVERGE=1");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  R = runFake(Dir, "--resume other.ckpt");
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_NE(R.Err.find("cannot load checkpoint 'other.ckpt': program mismatch"),
            std::string::npos)
      << R.Err;
}

TEST(FakeProgramTest, NonFiniteStopsWithExitCode3AndKeepsTheCheckpoint) {
  TempDir Dir;
  CommandResult R = runFake(Dir,
                            "--iterations 100000 --checkpoint-every 1 "
                            "--checkpoint d.ckpt --log d.jsonl --log-every 1",
                            "METAC_FAKE_DIVERGE=1");
  EXPECT_EQ(R.ExitCode, 3) << R.Err;
  std::smatch M;
  ASSERT_TRUE(std::regex_search(
      R.Err, M,
      std::regex(
          R"(metac: non-finite (gradient for parameter (lin\.w|lin\.b|alpha) |loss \(\S+\) |value in parameter \S+ after the update of )(at )?iteration ([0-9]+))")))
      << R.Err;
  uint64_t Failed = std::stoull(M[4]);
  Checkpoint C = readCheckpoint(Dir.file("d.ckpt"));
  EXPECT_EQ(C.Iteration, Failed - 1) << "the last good checkpoint";
  EXPECT_FALSE(fileExists(Dir.file("d.ckpt.tmp")));
  std::vector<std::string> Log = lines(readFile(Dir.file("d.jsonl")));
  ASSERT_EQ(Log.size(), Failed - 1);
  EXPECT_EQ(Log.back().find("null"), std::string::npos);
}

TEST(FakeProgramTest, SigtermCheckpointsAndResumes) {
  TempDir Dir;
  // Stopped from outside after a moment, long before it could finish.
  std::string Script =
      "'" + std::string(METAC_FAKE_PROGRAM) +
      "' --iterations 1000000000 --checkpoint s.ckpt --no-eval >out.txt "
      "2>err.txt & pid=$!; sleep 1; kill -TERM $pid; wait $pid; echo $? >rc";
  ASSERT_EQ(
      std::system(("cd '" + Dir.path() + "' || exit 1; " + Script).c_str()), 0);
  EXPECT_EQ(readFile(Dir.file("rc")), "130\n") << readFile(Dir.file("err.txt"));
  std::string Err = readFile(Dir.file("err.txt"));
  EXPECT_NE(Err.find("; resume with --resume s.ckpt"), std::string::npos)
      << Err;
  Checkpoint C = readCheckpoint(Dir.file("s.ckpt"));
  EXPECT_GT(C.Iteration, 0u);
  CommandResult R = runFake(Dir, "--resume s.ckpt --iterations " +
                                     std::to_string(C.Iteration + 5) +
                                     " --no-eval --checkpoint s.ckpt");
  ASSERT_EQ(R.ExitCode, 0) << R.Err;
  EXPECT_EQ(readCheckpoint(Dir.file("s.ckpt")).Iteration, C.Iteration + 5);
}
