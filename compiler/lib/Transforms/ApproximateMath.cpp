//===- ApproximateMath.cpp - Transcendental functions as vectorisable code ===//
//
// Lowered as they are, math.tanh becomes a call of libm's tanhf and math.exp
// LLVM's expf: scalar calls, which keep the loop vectoriser from widening
// the loop around them. A policy network's tanh layers and the exp of its
// likelihood ratios made these calls a third of a MAML-RL meta-iteration
// (measured on the cheetah example: 26% expm1f, inside tanhf, and 9%
// tanhf). MLIR's polynomial approximations (Cephes/Eigen-style range
// reduction plus a polynomial, accurate to a few ulp in f32) replace them by
// plain arithmetic that vectorises with the rest of the loop.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace metac {
#define GEN_PASS_DEF_METACAPPROXIMATEMATH
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

struct MetacApproximateMathPass
    : public metac::impl::MetacApproximateMathBase<MetacApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
