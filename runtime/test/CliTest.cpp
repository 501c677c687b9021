//===- CliTest.cpp - Flags, their errors, and --help ----------------------===//

#include "TestUtil.h"

#include "metac/runtime/Cli.h"
#include "metac/runtime/Error.h"

#include <gtest/gtest.h>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

std::string cliError(const std::vector<std::string> &Args) {
  try {
    parseCommandLine(Args);
  } catch (const Error &E) {
    EXPECT_EQ(E.exitCode(), ExitUsage);
    return E.what();
  }
  return "";
}

} // namespace

TEST(CliTest, Defaults) {
  Options O = parseCommandLine({});
  EXPECT_FALSE(O.Iterations);
  EXPECT_EQ(O.Seed, 1u);
  EXPECT_FALSE(O.SeedGiven);
  EXPECT_EQ(O.Threads, 1u);
  EXPECT_EQ(O.LogEvery, 100);
  EXPECT_EQ(O.CheckpointEvery, 1000);
  EXPECT_FALSE(O.EvalTasks);
  EXPECT_FALSE(O.NoEval);
  EXPECT_FALSE(O.Quiet);
}

TEST(CliTest, EveryFlag) {
  Options O = parseCommandLine(
      {"--iterations", "50", "--seed=18446744073709551615", "--threads", "3",
       "--log", "m.jsonl", "--log-every=7", "--checkpoint", "c.ckpt",
       "--checkpoint-every", "9", "--resume", "r.ckpt", "--eval-tasks", "11",
       "--no-eval", "--quiet"});
  EXPECT_EQ(*O.Iterations, 50);
  EXPECT_EQ(O.Seed, 18446744073709551615ULL);
  EXPECT_TRUE(O.SeedGiven);
  EXPECT_EQ(O.Threads, 3u);
  EXPECT_EQ(O.LogPath, "m.jsonl");
  EXPECT_EQ(O.LogEvery, 7);
  EXPECT_EQ(O.CheckpointPath, "c.ckpt");
  EXPECT_EQ(O.CheckpointEvery, 9);
  EXPECT_EQ(O.ResumePath, "r.ckpt");
  EXPECT_EQ(*O.EvalTasks, 11);
  EXPECT_TRUE(O.NoEval);
  EXPECT_TRUE(O.Quiet);
  EXPECT_EQ(parseCommandLine({"--eval-only", "e.ckpt"}).EvalOnlyPath, "e.ckpt");
  EXPECT_TRUE(parseCommandLine({"-h"}).Help);
}

TEST(CliTest, Errors) {
  EXPECT_EQ(cliError({"--foo"}), "error: unknown option '--foo' (see --help)");
  EXPECT_EQ(cliError({"--foo=3"}),
            "error: unknown option '--foo' (see --help)");
  EXPECT_EQ(cliError({"train"}),
            "error: unexpected argument 'train' (see --help)");
  EXPECT_EQ(cliError({"--seed"}),
            "error: option '--seed' needs a value (see --help)");
  EXPECT_EQ(cliError({"--threads", "0"}),
            "error: invalid value '0' for --threads (expected an integer from "
            "1 to 1024)");
  EXPECT_EQ(cliError({"--seed", "-1"}),
            "error: invalid value '-1' for --seed (expected an unsigned 64-bit "
            "integer)");
  EXPECT_EQ(cliError({"--iterations", "10abc"}),
            "error: invalid value '10abc' for --iterations (expected a "
            "non-negative integer)");
  EXPECT_EQ(cliError({"--log-every", "0"}),
            "error: invalid value '0' for --log-every (expected a positive "
            "integer)");
  EXPECT_EQ(cliError({"--quiet=yes"}),
            "error: option '--quiet' takes no value");
  EXPECT_EQ(cliError({"--log="}), "error: option '--log' needs a file name");
  EXPECT_EQ(cliError({"--eval-only", "a", "--resume", "b"}),
            "error: --eval-only and --resume cannot be combined");
  EXPECT_EQ(cliError({"--eval-only", "a", "--no-eval"}),
            "error: --eval-only and --no-eval cannot be combined");
  EXPECT_EQ(cliError({"--plot", "curve.png"}),
            "error: --plot file 'curve.png' must end in .svg (the learning "
            "curve is an SVG image)");
  EXPECT_EQ(cliError({"--plot", "svg"}),
            "error: --plot file 'svg' must end in .svg (the learning curve is "
            "an SVG image)");
}

TEST(CliTest, UsageListsEveryFlag) {
  std::string Text = usage("prog", &fakeProgram());
  for (const char *Flag :
       {"--iterations", "--seed", "--threads", "--log ", "--log-every",
        "--checkpoint ", "--checkpoint-every", "--resume", "--eval-only",
        "--eval-tasks", "--no-eval", "--quiet", "--help"})
    EXPECT_NE(Text.find(Flag), std::string::npos) << Flag;
  EXPECT_NE(Text.find("(default: 200)"), std::string::npos)
      << "the program's train setting";
}

TEST(CliTest, ExecutableReportsBadFlags) {
  TempDir Dir;
  CommandResult R = runFake(Dir, "--foo");
  EXPECT_EQ(R.ExitCode, 2);
  EXPECT_EQ(R.Err, "metac: error: unknown option '--foo' (see --help)\n");
  EXPECT_EQ(R.Out, "");

  R = runFake(Dir, "--threads two");
  EXPECT_EQ(R.ExitCode, 2);
  EXPECT_EQ(R.Err, "metac: error: invalid value 'two' for --threads (expected "
                   "an integer from 1 to 1024)\n");

  R = runFake(Dir, "--log metrics.txt");
  EXPECT_EQ(R.ExitCode, 2);
  EXPECT_EQ(R.Err, "metac: error: --log file 'metrics.txt' must end in .jsonl "
                   "or .csv\n");
}

TEST(CliTest, ExecutableHelp) {
  TempDir Dir;
  CommandResult R = runFake(Dir, "--help");
  EXPECT_EQ(R.ExitCode, 0);
  EXPECT_NE(R.Out.find("'fake_linear', a meta-learner compiled by metac"),
            std::string::npos)
      << R.Out;
  EXPECT_NE(R.Out.find("--checkpoint-every"), std::string::npos);
  EXPECT_EQ(R.Err, "");
}
