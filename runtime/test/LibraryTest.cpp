//===- LibraryTest.cpp - The embedding API over the fake program ----------===//

#include "TestUtil.h"

#include "metac/metac.h"
#include "metac/runtime/Init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

/// Buffers for one task split of the fake program (x and y).
struct Split {
  explicit Split(int N) : X(N), Y(N), Ptrs{X.data(), Y.data()} {}
  std::vector<float> X, Y;
  float *Ptrs[2];
  const float *const *in() const { return Ptrs; }
};

} // namespace

TEST(LibraryTest, Sizes) {
  EXPECT_EQ(metac_num_parameters(), 3);
  EXPECT_EQ(metac_num_model_parameters(), 2);
  EXPECT_EQ(metac_support_size(), 5);
  EXPECT_EQ(metac_query_size(), 10);
  EXPECT_EQ(metac_num_data(), 2);
  EXPECT_EQ(metac_data_size(1, 7), 7);
  EXPECT_STREQ(metac_last_error(), "");
  EXPECT_EQ(metac_data_size(2, 7), -1);
  EXPECT_STREQ(metac_last_error(), "metac: data index 2 is out of range");
  EXPECT_EQ(metac_data_size(0, 0), -1);
  EXPECT_EQ(metac_num_data(), 2);
  EXPECT_STREQ(metac_last_error(), "") << "success clears the error";
}

TEST(LibraryTest, InitMatchesTheRuntime) {
  std::vector<float> A(3), B(3);
  ASSERT_EQ(metac_init_parameters(5, A.data()), 0);
  initializeParameters(fakeProgram(), 5, B.data());
  EXPECT_EQ(A, B);
  EXPECT_EQ(A[1], 0.0f) << "lin.b is zeros";
  EXPECT_FLOAT_EQ(A[2], 0.1f) << "alpha is const 0.1";
  EXPECT_NE(metac_init_parameters(5, nullptr), 0);
  EXPECT_STREQ(metac_last_error(), "metac: flat is null");
}

TEST(LibraryTest, SampleTask) {
  Split S(5), T(5);
  ASSERT_EQ(metac_sample_task(11, 22, 5, S.Ptrs), 0);
  ASSERT_EQ(metac_sample_task(11, 22, 5, T.Ptrs), 0);
  EXPECT_EQ(S.X, T.X);
  EXPECT_EQ(S.Y, T.Y);
  ASSERT_EQ(metac_sample_task(11, 23, 5, T.Ptrs), 0);
  EXPECT_NE(S.X, T.X) << "another data key picks other examples";
  // Same task: the line y = a x + c through both sets is the same.
  double A = (S.Y[0] - S.Y[1]) / (S.X[0] - S.X[1]);
  double A2 = (T.Y[0] - T.Y[1]) / (T.X[0] - T.X[1]);
  EXPECT_NEAR(A, A2, 1e-4);

  Split Big(7);
  EXPECT_NE(metac_sample_task(11, 22, 7, Big.Ptrs), 0);
  EXPECT_STREQ(metac_last_error(),
               "metac: the program has no `sample 7` kernel");
}

TEST(LibraryTest, MetaGradientMatchesFiniteDifferences) {
  Split S(5), Q(10);
  metac_sample_task(1, 2, 5, S.Ptrs);
  metac_sample_task(1, 3, 10, Q.Ptrs);
  std::vector<float> Params = {0.7f, -0.3f, 0.05f}, Grad(3);
  float Loss = metac_meta_loss_grad(Params.data(), S.in(), Q.in(), Grad.data());
  ASSERT_TRUE(std::isfinite(Loss)) << metac_last_error();
  std::vector<float> Scratch(3);
  for (int K = 0; K < 3; ++K) {
    const float H = 1e-2f;
    std::vector<float> Plus = Params, Minus = Params;
    Plus[K] += H;
    Minus[K] -= H;
    double Numeric =
        (metac_meta_loss_grad(Plus.data(), S.in(), Q.in(), Scratch.data()) -
         metac_meta_loss_grad(Minus.data(), S.in(), Q.in(), Scratch.data())) /
        (2 * H);
    EXPECT_NEAR(Grad[K], Numeric, 1e-2 * (1 + std::fabs(Numeric)))
        << "parameter " << K;
  }
  EXPECT_TRUE(
      std::isnan(metac_meta_loss_grad(nullptr, S.in(), Q.in(), Grad.data())));
  EXPECT_STREQ(metac_last_error(), "metac: flat_params is null");
}

TEST(LibraryTest, AdaptTakesOneInnerStep) {
  Split S(5);
  metac_sample_task(8, 9, 5, S.Ptrs);
  std::vector<float> Params = {0.2f, 0.1f, 0.1f}, Adapted(2);
  ASSERT_EQ(metac_adapt(Params.data(), S.in(), Adapted.data()), 0);
  double Gw = 0, Gb = 0;
  for (int I = 0; I < 5; ++I) {
    double R = Params[0] * S.X[I] + Params[1] - S.Y[I];
    Gw += 2 * R * S.X[I] / 5;
    Gb += 2 * R / 5;
  }
  EXPECT_NEAR(Adapted[0], Params[0] - Params[2] * Gw, 1e-5);
  EXPECT_NEAR(Adapted[1], Params[1] - Params[2] * Gb, 1e-5);
}

TEST(LibraryTest, DocumentedExampleIsTheTestedOne) {
  std::string Doc = readFile(METAC_ABI_DOC);
  std::string Example = readFile(METAC_EMBEDDING_EXAMPLE);
  size_t Code = Example.find("#include <metac/metac.h>");
  ASSERT_NE(Code, std::string::npos);
  EXPECT_NE(Doc.find("```c\n" + Example.substr(Code) + "```"),
            std::string::npos)
      << "docs/abi.md and runtime/test/EmbeddingExample.c differ";
}
