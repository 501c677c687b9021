//===- Conv2DTest.cpp - The runtime's convolutions against direct loops ---===//
//
// metac_conv2d and its two gradients (Builtins.h) are im2col + GEMM; here
// they are compared with the definition written as plain loops, over shapes
// that exercise strides, padding, non-square kernels, 1x1 kernels and
// several image blocks.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Builtins.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

struct Shape {
  int64_t N, H, W, C, KH, KW, F, SH, SW, PH, PW;
  int64_t oh() const { return (H + 2 * PH - KH) / SH + 1; }
  int64_t ow() const { return (W + 2 * PW - KW) / SW + 1; }
};

std::vector<float> randomVector(size_t N, unsigned Seed) {
  std::mt19937 G(Seed);
  std::uniform_real_distribution<float> U(-1, 1);
  std::vector<float> V(N);
  for (float &X : V)
    X = U(G);
  return V;
}

class Conv2DTest : public ::testing::TestWithParam<Shape> {};

TEST_P(Conv2DTest, MatchesTheDefinition) {
  const Shape S = GetParam();
  const int64_t OH = S.oh(), OW = S.ow();
  auto In = randomVector(S.N * S.H * S.W * S.C, 1);
  auto Filter = randomVector(S.KH * S.KW * S.C * S.F, 2);
  auto DOut = randomVector(S.N * OH * OW * S.F, 3);
  // The definition: out = conv(in, filter); the gradients of
  // sum(dOut * out) by the chain rule, accumulated in double.
  std::vector<double> Out(DOut.size()), DIn(In.size()), DFilter(Filter.size());
  for (int64_t N = 0; N < S.N; ++N)
    for (int64_t Y = 0; Y < OH; ++Y)
      for (int64_t X = 0; X < OW; ++X)
        for (int64_t I = 0; I < S.KH; ++I)
          for (int64_t J = 0; J < S.KW; ++J) {
            int64_t IY = Y * S.SH + I - S.PH, IX = X * S.SW + J - S.PW;
            if (IY < 0 || IY >= S.H || IX < 0 || IX >= S.W)
              continue;
            for (int64_t C = 0; C < S.C; ++C)
              for (int64_t F = 0; F < S.F; ++F) {
                int64_t O = ((N * OH + Y) * OW + X) * S.F + F;
                int64_t Px = ((N * S.H + IY) * S.W + IX) * S.C + C;
                int64_t W = ((I * S.KW + J) * S.C + C) * S.F + F;
                Out[O] += double(In[Px]) * Filter[W];
                DIn[Px] += double(DOut[O]) * Filter[W];
                DFilter[W] += double(DOut[O]) * In[Px];
              }
          }
  // Garbage in the outputs: the functions must overwrite, not accumulate.
  std::vector<float> GotOut(Out.size(), NAN), GotDIn(DIn.size(), NAN),
      GotDFilter(DFilter.size(), NAN);
#define SHAPE_ARGS                                                             \
  S.N, S.H, S.W, S.C, S.KH, S.KW, S.F, OH, OW, S.SH, S.SW, S.PH, S.PW
  metac_conv2d(In.data(), Filter.data(), GotOut.data(), SHAPE_ARGS);
  metac_conv2d_input_grad(DOut.data(), Filter.data(), GotDIn.data(),
                          SHAPE_ARGS);
  metac_conv2d_filter_grad(In.data(), DOut.data(), GotDFilter.data(),
                           SHAPE_ARGS);
#undef SHAPE_ARGS
  auto Expect = [](const std::vector<float> &Got,
                   const std::vector<double> &Want, const char *What) {
    for (size_t I = 0; I < Want.size(); ++I)
      ASSERT_NEAR(Got[I], Want[I], 1e-4 * (1 + std::fabs(Want[I])))
          << What << " entry " << I;
  };
  Expect(GotOut, Out, "output");
  Expect(GotDIn, DIn, "input gradient");
  Expect(GotDFilter, DFilter, "filter gradient");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2DTest,
    // N, H, W, C, KH, KW, F, SH, SW, PH, PW
    ::testing::Values(Shape{2, 5, 5, 3, 3, 3, 4, 1, 1, 1, 1},   // same size
                      Shape{3, 7, 6, 2, 3, 3, 5, 2, 2, 1, 1},   // strided
                      Shape{2, 6, 6, 2, 2, 3, 3, 2, 1, 0, 1},   // uneven
                      Shape{4, 4, 4, 5, 1, 1, 6, 1, 1, 0, 0},   // 1x1
                      Shape{40, 9, 9, 3, 3, 3, 8, 2, 2, 1, 1},  // blocks
                      Shape{1, 3, 3, 1, 3, 3, 2, 1, 1, 2, 2})); // wide pad

} // namespace
