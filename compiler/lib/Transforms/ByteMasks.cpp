//===- ByteMasks.cpp - Boolean tensors between linalg ops as bytes --------===//
//
// A ReLU's backward pass reads the mask its forward pass stored, as a
// tensor of i1. In memory LLVM gives each i1 a byte, but a vector of i1 is
// bit-packed, so the loop vectoriser cannot load eight of them as one
// vector: it loaded each byte on its own and assembled the mask bit by bit
// (perf on sinusoid MAML: the three elementwise ops that read masks took
// 18% of a meta-iteration). Stored as i8 and truncated after the load, the
// masks are one byte-vector load and a compare.
//
// Only masks whose every use is an input of a linalg.generic, produced by a
// linalg.generic that does not read its output, change: nothing else sees
// the new type.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

namespace metac {
#define GEN_PASS_DEF_METACBYTEMASKS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

bool isBoolTensor(Type t) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  return tensor && tensor.getElementType().isInteger(1);
}

/// Whether `result` (of a linalg.generic) can be stored as bytes: its
/// output operand is a fresh tensor.empty the body does not read, and every
/// use is an input of another linalg.generic.
bool canWiden(linalg::GenericOp op, OpResult result) {
  if (!isBoolTensor(result.getType()))
    return false;
  OpOperand *init = op.getDpsInitOperand(result.getResultNumber());
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      op.payloadUsesValueFromOperand(init))
    return false;
  return llvm::all_of(result.getUses(), [](OpOperand &use) {
    auto user = dyn_cast<linalg::GenericOp>(use.getOwner());
    return user && user.isDpsInput(&use);
  });
}

void widen(linalg::GenericOp op, OpResult result, OpBuilder &b) {
  Type i8 = b.getI8Type();
  Location loc = op.getLoc();
  auto boolType = cast<RankedTensorType>(result.getType());
  auto byteType = boolType.clone(i8);
  // The producer writes bytes: a new empty output, and 0/1 extended.
  OpOperand *init = op.getDpsInitOperand(result.getResultNumber());
  auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
  b.setInsertionPoint(op);
  init->set(b.create<tensor::EmptyOp>(loc, byteType.getShape(), i8,
                                      empty.getDynamicSizes()));
  op.getMatchingBlockArgument(init).setType(i8);
  result.setType(byteType);
  auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
  OpOperand &yielded = yield->getOpOperand(result.getResultNumber());
  b.setInsertionPoint(yield);
  yielded.set(b.create<arith::ExtUIOp>(loc, i8, yielded.get()));
  // Each consumer truncates what it loads back to i1.
  for (OpOperand &use : result.getUses()) {
    auto user = cast<linalg::GenericOp>(use.getOwner());
    BlockArgument arg = user.getMatchingBlockArgument(&use);
    arg.setType(i8);
    b.setInsertionPointToStart(user.getBody());
    auto bit = b.create<arith::TruncIOp>(loc, b.getI1Type(), arg);
    arg.replaceAllUsesExcept(bit, bit);
  }
}

struct MetacByteMasksPass
    : public metac::impl::MetacByteMasksBase<MetacByteMasksPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, OpResult>> masks;
    getOperation()->walk([&](linalg::GenericOp op) {
      for (OpResult result : op->getResults())
        if (canWiden(op, result))
          masks.push_back({op, result});
    });
    OpBuilder b(&getContext());
    for (auto [op, result] : masks)
      widen(op, result, b);
  }
};

} // namespace
