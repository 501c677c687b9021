//===- LogTest.cpp - Metrics log formats and resume trimming --------------===//

#include "TestUtil.h"

#include "metac/runtime/Error.h"
#include "metac/runtime/Log.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

std::vector<EvalRow> rows() {
  EvalRow A, B;
  A.Shots = 5;
  A.Steps = 0;
  A.Loss = {3.25, 0.5};
  B.Shots = 5;
  B.Steps = 1;
  B.Loss = {0.125, NAN};
  return {A, B};
}

} // namespace

TEST(LogTest, FormatFromExtension) {
  EXPECT_EQ(MetricsLog::formatFor("a/b.jsonl"), MetricsLog::Jsonl);
  EXPECT_EQ(MetricsLog::formatFor("b.csv"), MetricsLog::Csv);
  try {
    MetricsLog::formatFor("b.txt");
    FAIL() << "expected an error";
  } catch (const Error &E) {
    EXPECT_EQ(E.exitCode(), ExitUsage);
    EXPECT_STREQ(E.what(),
                 "error: --log file 'b.txt' must end in .jsonl or .csv");
  }
}

TEST(LogTest, NumbersRoundTrip) {
  EXPECT_EQ(formatNumber(0.1), "0.1");
  EXPECT_EQ(formatNumber(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(formatNumber(NAN), "null");
  EXPECT_EQ(formatNumber(-INFINITY), "null");
}

TEST(LogTest, Jsonl) {
  TempDir Dir;
  std::string Path = Dir.file("m.jsonl");
  {
    MetricsLog Log(Path, 0);
    Log.logIteration(100, 0.5);
    Log.logIteration(200, 0.25);
    Log.logEvaluation(rows());
  }
  EXPECT_EQ(readFile(Path),
            "{\"iter\":100,\"loss\":0.5}\n"
            "{\"iter\":200,\"loss\":0.25}\n"
            "{\"eval\":{\"shots\":5,\"steps\":0,\"mean\":3.25,\"ci95\":0.5}}\n"
            "{\"eval\":{\"shots\":5,\"steps\":1,\"mean\":0.125,\"ci95\":null}}"
            "\n");
}

TEST(LogTest, Csv) {
  TempDir Dir;
  std::string Path = Dir.file("m.csv");
  {
    MetricsLog Log(Path, 0);
    Log.logIteration(100, 0.5);
    Log.logEvaluation(rows());
  }
  EXPECT_EQ(readFile(Path), "iter,loss\n"
                            "100,0.5\n"
                            "\n"
                            "shots,steps,mean,ci95\n"
                            "5,0,3.25,0.5\n"
                            "5,1,0.125,null\n");
  // Evaluation only: no training section.
  {
    MetricsLog Log(Path, 0);
    Log.logEvaluation(rows());
  }
  EXPECT_EQ(lines(readFile(Path))[0], "shots,steps,mean,ci95");
}

TEST(LogTest, MetricColumns) {
  std::vector<EvalRow> Rows = rows();
  Rows[0].Metrics = {{0.75, 0.25}};
  Rows[1].Metrics = {{1.0, 0.0}};
  TempDir Dir;
  std::string Jsonl = Dir.file("m.jsonl"), Csv = Dir.file("m.csv");
  {
    MetricsLog J(Jsonl, 0), C(Csv, 0);
    J.logEvaluation(Rows, {"accuracy"});
    C.logEvaluation(Rows, {"accuracy"});
  }
  EXPECT_EQ(lines(readFile(Jsonl))[0],
            "{\"eval\":{\"shots\":5,\"steps\":0,\"mean\":3.25,\"ci95\":0.5,"
            "\"accuracy\":{\"mean\":0.75,\"ci95\":0.25}}}");
  EXPECT_EQ(readFile(Csv), "shots,steps,mean,ci95,accuracy_mean,accuracy_ci95\n"
                           "5,0,3.25,0.5,0.75,0.25\n"
                           "5,1,0.125,null,1,0\n");
}

TEST(LogTest, ResumeKeepsRowsUpToTheCheckpoint) {
  TempDir Dir;
  for (const char *Name : {"r.jsonl", "r.csv"}) {
    std::string Path = Dir.file(Name);
    {
      MetricsLog Log(Path, 0);
      for (int I = 1; I <= 5; ++I)
        Log.logIteration(I * 100, I);
      Log.logEvaluation(rows());
    }
    std::string Full = readFile(Path);
    // A run resumed from iteration 300 logs 400 and 500 again.
    {
      MetricsLog Log(Path, 300);
      Log.logIteration(400, 4);
      Log.logIteration(500, 5);
      Log.logEvaluation(rows());
    }
    EXPECT_EQ(readFile(Path), Full) << Name;
  }
}

TEST(LogTest, ResumeKeepsCsvRowsWithExtraColumns) {
  // An environment's rows carry returns after the loss; the header names
  // them, and resuming must still recognise it.
  TempDir Dir;
  std::string Path = Dir.file("rl.csv");
  std::vector<std::pair<std::string, double>> Extra = {{"return_before", -3},
                                                       {"return_after", -1}};
  {
    MetricsLog Log(Path, 0);
    for (int I = 1; I <= 4; ++I)
      Log.logIteration(I, 0.5, Extra);
  }
  std::string Full = readFile(Path);
  {
    MetricsLog Log(Path, 2);
    Log.logIteration(3, 0.5, Extra);
    Log.logIteration(4, 0.5, Extra);
  }
  EXPECT_EQ(readFile(Path), Full);
  EXPECT_EQ(lines(Full)[0], "iter,loss,return_before,return_after");
}

TEST(LogTest, ResumeReturnsTheKeptRowsValues) {
  TempDir Dir;
  for (const char *Name : {"v.jsonl", "v.csv"}) {
    std::string Path = Dir.file(Name);
    {
      MetricsLog Log(Path, 0);
      for (int I = 1; I <= 3; ++I)
        Log.logIteration(
            I, 0.25 * I,
            {{"return_before", -10.0 / 3 * I}, {"return_after", std::nan("")}});
    }
    MetricsLog Log(Path, 2);
    ASSERT_EQ(Log.keptRows().size(), 2u) << Name;
    const MetricsLog::Row &Second = Log.keptRows()[1];
    EXPECT_EQ(Second.Iteration, 2);
    // Numbers round-trip exactly; nulls are left out.
    ASSERT_EQ(Second.Values.size(), 3u) << Name;
    EXPECT_EQ(Second.Values[1].first, "loss");
    EXPECT_EQ(Second.Values[1].second, 0.5);
    EXPECT_EQ(Second.Values[2].first, "return_before");
    EXPECT_EQ(Second.Values[2].second, -10.0 / 3 * 2);
  }
}
