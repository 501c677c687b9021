//===- RngTest.cpp - Key derivation and parameter initialisation ----------===//

#include "metac/runtime/Rng.h"
#include "metac/runtime/Init.h"
#include "metac/runtime/Program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace metac::runtime;

TEST(RngTest, SplitmixMatchesReference) {
  // splitmix64 from state 0: the first output of the reference generator
  // (Vigna's splitmix64.c) is mix(0) with our convention of adding the gamma.
  EXPECT_EQ(rng::mix(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng::mix(0x9e3779b97f4a7c15ULL), 0x6e789e6aa1b965f4ULL);
}

TEST(RngTest, KeysAreDeterministic) {
  EXPECT_EQ(rng::trainTaskKey(1, 5, 3), rng::trainTaskKey(1, 5, 3));
  EXPECT_EQ(rng::evalTaskKey(7, 9, 5), rng::evalTaskKey(7, 9, 5));
  uint64_t T = rng::trainTaskKey(1, 5, 3);
  EXPECT_EQ(rng::supportDataKey(T), rng::supportDataKey(T));
}

TEST(RngTest, KeysAreDistinct) {
  std::set<uint64_t> Keys;
  size_t Count = 0;
  // Seeds equal to the domain numbers included: they once cancelled.
  for (uint64_t Seed : {0, 1, 2, 3, 4, 5})
    for (uint64_t Iter = 0; Iter < 100; ++Iter)
      for (uint64_t Task = 0; Task < 32; ++Task) {
        uint64_t K = rng::trainTaskKey(Seed, Iter, Task);
        Keys.insert(K);
        Keys.insert(rng::supportDataKey(K));
        Keys.insert(rng::queryDataKey(K));
        Keys.insert(rng::evalTaskKey(Seed, Iter * 32 + Task, 5));
        Keys.insert(rng::evalTaskKey(Seed, Iter * 32 + Task, 10));
        Count += 5;
      }
  EXPECT_EQ(Keys.size(), Count);
  // Swapping the components must not give the same key.
  EXPECT_NE(rng::trainTaskKey(1, 2, 3), rng::trainTaskKey(1, 3, 2));
  EXPECT_NE(rng::trainTaskKey(1, 0, 0), rng::evalTaskKey(1, 0, 0));
}

TEST(RngTest, UniformIsInUnitInterval) {
  EXPECT_EQ(rng::uniform01(0), 0.0);
  EXPECT_LT(rng::uniform01(~uint64_t(0)), 1.0);
  rng::CounterRng R(42);
  double Sum = 0;
  const int N = 100000;
  for (int I = 0; I < N; ++I) {
    double U = R.uniform(I);
    ASSERT_GE(U, 0.0);
    ASSERT_LT(U, 1.0);
    Sum += U;
  }
  EXPECT_NEAR(Sum / N, 0.5, 4 * std::sqrt(1.0 / 12 / N));
}

namespace {

struct Moments {
  double Mean = 0, Std = 0, Min = INFINITY, Max = -INFINITY;
};

Moments momentsOf(const Initializer &Init, uint64_t Seed, int N) {
  Moments M;
  double Sum = 0, Sum2 = 0;
  for (int I = 0; I < N; ++I) {
    double V = initialValue(Init, Seed, 0, I);
    Sum += V;
    Sum2 += V * V;
    M.Min = std::min(M.Min, V);
    M.Max = std::max(M.Max, V);
  }
  M.Mean = Sum / N;
  M.Std = std::sqrt(Sum2 / N - M.Mean * M.Mean);
  return M;
}

constexpr int Samples = 200000;

} // namespace

TEST(InitTest, Zeros) {
  Moments M = momentsOf({Initializer::Zeros, 0, 0}, 1, 1000);
  EXPECT_EQ(M.Min, 0.0);
  EXPECT_EQ(M.Max, 0.0);
}

TEST(InitTest, Const) {
  Moments M = momentsOf({Initializer::Const, 0.25, 0}, 1, 1000);
  EXPECT_EQ(M.Min, 0.25);
  EXPECT_EQ(M.Max, 0.25);
}

TEST(InitTest, Uniform) {
  Moments M = momentsOf({Initializer::Uniform, -1, 3}, 1, Samples);
  double Std = 4 / std::sqrt(12.0);
  EXPECT_NEAR(M.Mean, 1.0, 5 * Std / std::sqrt(Samples));
  EXPECT_NEAR(M.Std, Std, 0.01 * Std);
  EXPECT_GE(M.Min, -1.0);
  EXPECT_LE(M.Max, 3.0);
  EXPECT_LT(M.Min, -0.99);
  EXPECT_GT(M.Max, 2.99);
}

TEST(InitTest, Normal) {
  Moments M = momentsOf({Initializer::Normal, 2, 0.5}, 3, Samples);
  EXPECT_NEAR(M.Mean, 2.0, 5 * 0.5 / std::sqrt(Samples));
  EXPECT_NEAR(M.Std, 0.5, 0.01 * 0.5);
  // A normal sample this large reaches beyond 4 sigma on both sides.
  EXPECT_LT(M.Min, 2.0 - 4 * 0.5);
  EXPECT_GT(M.Max, 2.0 + 4 * 0.5);
}

TEST(InitTest, TruncatedNormal) {
  Moments M = momentsOf({Initializer::TruncatedNormal, -1, 2}, 5, Samples);
  // The standard normal truncated to [-2, 2] has sd 0.8796.
  EXPECT_NEAR(M.Mean, -1.0, 5 * 2 / std::sqrt(Samples));
  EXPECT_NEAR(M.Std, 2 * 0.8796, 0.01 * 2);
  EXPECT_GE(M.Min, -1.0 - 2 * 2);
  EXPECT_LE(M.Max, -1.0 + 2 * 2);
  EXPECT_LT(M.Min, -4.9);
  EXPECT_GT(M.Max, 2.9);
}

TEST(InitTest, DeterministicAndSeedDependent) {
  Initializer Init{Initializer::Normal, 0, 1};
  EXPECT_EQ(initialValue(Init, 1, 2, 3), initialValue(Init, 1, 2, 3));
  EXPECT_NE(initialValue(Init, 1, 2, 3), initialValue(Init, 2, 2, 3));
  EXPECT_NE(initialValue(Init, 1, 2, 3), initialValue(Init, 1, 3, 3));
  EXPECT_NE(initialValue(Init, 1, 2, 3), initialValue(Init, 1, 2, 4));
}

TEST(InitTest, ValuesDoNotDependOnOtherParameters) {
  auto Make = [](const char *FirstShape) {
    return Program::parse(std::string("metac-program 1\nname t\n") +
                          "param a " + FirstShape + " normal 0 1\n" +
                          "param b 3 uniform 0 1\n"
                          "data x 1\n"
                          "setting support 1\nsetting query 1\n"
                          "setting meta_batch 1\nsetting train 1\n"
                          "optimizer sgd lr 1 momentum 0\n"
                          "kernel 0 sample 1\nkernel 1 meta_grad 1 1\nend\n");
  };
  Program Small = Make("2"), Large = Make("5x7");
  std::vector<float> A(Small.numParameters()), B(Large.numParameters());
  initializeParameters(Small, 9, A.data());
  initializeParameters(Large, 9, B.data());
  for (int I = 0; I < 3; ++I)
    EXPECT_EQ(A[2 + I], B[35 + I]) << "entry " << I << " of b";
  EXPECT_EQ(A[0], B[0]);
  EXPECT_EQ(A[1], B[1]);
}
