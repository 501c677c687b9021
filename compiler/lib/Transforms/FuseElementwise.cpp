//===- FuseElementwise.cpp - Elementwise fusion that spares contractions --===//
//
// Upstream's elementwise fusion merges a producer linalg.generic into each
// consumer whose indexing maps allow it. Into a matrix product that is a bad
// trade: the producer is recomputed for every output column, and a fused
// transpose turns contiguous row reads into gathers. This pass runs the same
// patterns with a control function that refuses exactly that case.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace metac {
#define GEN_PASS_DEF_METACFUSEELEMENTWISE
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

struct MetacFuseElementwisePass
    : public metac::impl::MetacFuseElementwiseBase<MetacFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *consumer = fused->getOwner();
      if (consumer->hasAttr("metac.contraction"))
        return false;
      // Upstream's default: fuse only a producer with a single use, so no
      // work is duplicated.
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
