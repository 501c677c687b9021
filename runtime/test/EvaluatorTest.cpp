//===- EvaluatorTest.cpp - Confidence intervals and evaluation tasks ------===//

#include "TestUtil.h"

#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Init.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace metac::runtime;
using namespace metac::runtime::test;

TEST(EvaluatorTest, MeanAndCi95ByHand) {
  // sd of {1, 2, 3, 4} with N - 1: sqrt(5 / 3); CI = 1.96 * sd / sqrt(4).
  MeanCi R = meanAndCi95({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(R.Mean, 2.5);
  EXPECT_NEAR(R.Ci95, 1.96 * std::sqrt(5.0 / 3.0) / 2, 1e-12);
  EXPECT_NEAR(R.Ci95, 1.2651746, 1e-7);

  MeanCi Same = meanAndCi95({3, 3, 3});
  EXPECT_EQ(Same.Mean, 3);
  EXPECT_EQ(Same.Ci95, 0);
  MeanCi One = meanAndCi95({7});
  EXPECT_EQ(One.Mean, 7);
  EXPECT_EQ(One.Ci95, 0);
  MeanCi None = meanAndCi95({});
  EXPECT_EQ(None.Mean, 0);
}

namespace {

std::vector<EvalRow> evaluate(unsigned Threads, uint64_t Seed, int Tasks) {
  const Program &P = fakeProgram();
  std::vector<float> Params(P.numParameters());
  initializeParameters(P, 1, Params.data());
  ThreadPool Pool(Threads);
  return Evaluator(P, Pool).run(Params.data(), Seed, Tasks);
}

} // namespace

TEST(EvaluatorTest, RowsFollowShotsThenSteps) {
  std::vector<EvalRow> Rows = evaluate(1, 1, 20);
  ASSERT_EQ(Rows.size(), 6u);
  int64_t Expected[6][2] = {{5, 0}, {5, 1}, {5, 5}, {10, 0}, {10, 1}, {10, 5}};
  for (size_t I = 0; I < 6; ++I) {
    EXPECT_EQ(Rows[I].Shots, Expected[I][0]);
    EXPECT_EQ(Rows[I].Steps, Expected[I][1]);
    EXPECT_EQ(Rows[I].Tasks, 20);
    EXPECT_EQ(Rows[I].NonFinite, 0);
    EXPECT_GT(Rows[I].Loss.Ci95, 0);
  }
  // Inner steps with the initial step size already help.
  EXPECT_LT(Rows[1].Loss.Mean, Rows[0].Loss.Mean);
  EXPECT_LT(Rows[2].Loss.Mean, Rows[1].Loss.Mean);
}

TEST(EvaluatorTest, DeterministicForAnyThreadCount) {
  std::vector<EvalRow> A = evaluate(1, 3, 40), B = evaluate(3, 3, 40);
  ASSERT_EQ(A.size(), B.size());
  for (size_t I = 0; I < A.size(); ++I) {
    EXPECT_EQ(A[I].Loss.Mean, B[I].Loss.Mean);
    EXPECT_EQ(A[I].Loss.Ci95, B[I].Loss.Ci95);
  }
  std::vector<EvalRow> C = evaluate(1, 4, 40);
  EXPECT_NE(A[0].Loss.Mean, C[0].Loss.Mean) << "another seed, other tasks";
}
