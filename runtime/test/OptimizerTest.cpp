//===- OptimizerTest.cpp - Adam and SGD against hand-computed steps -------===//

#include "metac/runtime/Optimizer.h"
#include "metac/runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace metac::runtime;

TEST(OptimizerTest, AdamFirstStepMovesEachEntryByLr) {
  // At t = 1 the bias-corrected moments are g and g^2, so every entry moves
  // by lr * g / (|g| + eps) ≈ lr * sign(g).
  AdamOptimizer Adam(3, 0.1f, 0.9f, 0.999f, 1e-8f);
  float P[3] = {1.0f, -2.0f, 0.5f};
  const float G[3] = {0.5f, -1.0f, 0.0f};
  Adam.step(P, G);
  EXPECT_NEAR(P[0], 0.9f, 1e-6);
  EXPECT_NEAR(P[1], -1.9f, 1e-6);
  EXPECT_EQ(P[2], 0.5f) << "a zero gradient leaves the entry alone";
  EXPECT_EQ(Adam.steps(), 1u);
  // m = 0.1 g, v = 0.001 g^2.
  // (1 - beta) is rounded to float, hence the relative tolerances.
  EXPECT_NEAR(Adam.state()[0], 0.05f, 0.05 * 1e-6);
  EXPECT_NEAR(Adam.state()[1], -0.1f, 0.1 * 1e-6);
  EXPECT_NEAR(Adam.state()[3], 0.00025f, 0.00025 * 1e-4);
  EXPECT_NEAR(Adam.state()[4], 0.001f, 0.001 * 1e-4);
}

TEST(OptimizerTest, AdamSecondStepByHand) {
  AdamOptimizer Adam(1, 0.1f, 0.9f, 0.999f, 1e-8f);
  float P[1] = {1.0f};
  float G1[1] = {0.5f}, G2[1] = {2.0f};
  Adam.step(P, G1);
  Adam.step(P, G2);
  // m2 = 0.9 * 0.05 + 0.1 * 2 = 0.245; v2 = 0.999 * 0.00025 + 0.001 * 4
  // = 0.00424975; mhat = 0.245 / 0.19; vhat = 0.00424975 / 0.001999.
  double MHat = 0.245 / 0.19, VHat = 0.00424975 / 0.001999;
  double Expected = 0.9 - 0.1 * MHat / (std::sqrt(VHat) + 1e-8);
  EXPECT_NEAR(P[0], Expected, 1e-6);
  EXPECT_NEAR(P[0], 0.8115624, 1e-6) << "the number worked out on paper";
}

TEST(OptimizerTest, SgdWithMomentumByHand) {
  SgdOptimizer Sgd(2, 0.1f, 0.9f);
  float P[2] = {1.0f, 0.0f};
  const float G[2] = {1.0f, -2.0f};
  // b = 1, 1.9, 2.71 (times g); p = 1 - 0.1 * cumulative b.
  Sgd.step(P, G);
  EXPECT_FLOAT_EQ(P[0], 0.9f);
  Sgd.step(P, G);
  EXPECT_FLOAT_EQ(P[0], 0.71f);
  Sgd.step(P, G);
  EXPECT_FLOAT_EQ(P[0], 0.439f);
  EXPECT_FLOAT_EQ(P[1], 1.122f);
  EXPECT_FLOAT_EQ(Sgd.state()[0], 2.71f);
}

TEST(OptimizerTest, PlainSgdHasNoState) {
  SgdOptimizer Sgd(2, 0.5f, 0.0f);
  float P[2] = {1.0f, 2.0f};
  const float G[2] = {1.0f, -1.0f};
  Sgd.step(P, G);
  EXPECT_FLOAT_EQ(P[0], 0.5f);
  EXPECT_FLOAT_EQ(P[1], 2.5f);
  EXPECT_TRUE(Sgd.state().empty());
}

TEST(OptimizerTest, RestoredStateContinuesExactly) {
  OptimizerSpec Spec;
  Spec.K = OptimizerSpec::Adam;
  Spec.Lr = 0.01f;
  auto A = Optimizer::create(Spec, 4);
  float P[4] = {1, 2, 3, 4};
  const float G[4] = {0.3f, -0.7f, 1.1f, 0.0f};
  A->step(P, G);
  A->step(P, G);
  float Q[4];
  std::copy(P, P + 4, Q);

  auto B = Optimizer::create(Spec, 4);
  B->restore(A->steps(), A->state());
  A->step(P, G);
  B->step(Q, G);
  for (int I = 0; I < 4; ++I)
    EXPECT_EQ(P[I], Q[I]);
  EXPECT_THROW(B->restore(1, std::vector<float>(3)), Error);
}

TEST(OptimizerTest, AdamBitsDoNotDependOnAlignment) {
  // Which entries a vectorised loop covers, and which its scalar remainder,
  // depends on where the buffers start; the update must not (results are
  // promised identical for any number of threads, which moves buffers).
  constexpr int N = 1761, Steps = 20;
  uint32_t State = 12345;
  auto Uniform = [&] { // in [-1, 1)
    State = State * 1664525u + 1013904223u;
    return static_cast<float>(State >> 8) / 8388608.0f - 1.0f;
  };
  std::vector<float> Init(N), Grads(N * Steps);
  for (float &X : Init)
    X = Uniform();
  for (float &X : Grads)
    X = 0.1f * Uniform();
  std::vector<float> Reference;
  for (int Offset = 0; Offset < 16; ++Offset) {
    std::vector<float> P(N + Offset), G(N + Offset);
    std::copy(Init.begin(), Init.end(), P.begin() + Offset);
    AdamOptimizer Adam(N, 0.01f, 0.9f, 0.999f, 1e-8f);
    for (int Step = 0; Step < Steps; ++Step) {
      std::copy(Grads.begin() + Step * N, Grads.begin() + (Step + 1) * N,
                G.begin() + Offset);
      Adam.step(P.data() + Offset, G.data() + Offset);
    }
    std::vector<float> Result(P.begin() + Offset, P.end());
    if (Offset == 0)
      Reference = Result;
    else
      EXPECT_EQ(std::memcmp(Result.data(), Reference.data(), N * 4), 0)
          << "offset " << Offset;
  }
}
