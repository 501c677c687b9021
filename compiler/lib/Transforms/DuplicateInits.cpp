//===- DuplicateInits.cpp - One init per op that writes into it -----------===//
//
// Linalg ops write their results into their init operands. After CSE, many
// ops share one init:
//
// - Every matrix product and reduction that reverse mode emits starts from
//   a zero tensor, and CSE leaves one linalg.fill of each shape. One-Shot
//   Bufferize lets only one of its writers work in place; each other writer
//   gets a fresh buffer and a memref.copy of the zeros. The sinusoid MAML
//   meta-gradient kernel made 32 such copies per task (memmove was 4.6% of
//   the 2-thread training profile). A fill per writer writes the zeros
//   instead of reading and writing them, and its buffer lives only from the
//   fill to the op, so the buffer plan can reuse it.
//
// - Ops share one tensor.empty per shape. Bufferization is indifferent to
//   that, but empty-tensor elimination, which makes a kernel compute its
//   result in the runtime's output buffer, replaces the tensor.empty, not
//   the one use: every op sharing it then wrote into the output buffer, and
//   One-Shot Bufferize, trusting the `restrict` of that buffer's to_tensor,
//   let them overwrite values still live (sinusoid MAML's meta-gradient had
//   the wrong sign in 820 of 1761 entries). With a tensor.empty per writer,
//   the elimination changes exactly the op whose result is the output.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

namespace metac {
#define GEN_PASS_DEF_METACDUPLICATEINITS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

/// Whether `use` is an init operand that its op writes into.
bool writesInto(OpOperand &use) {
  auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
  return dps && dps.isDpsInit(&use);
}

/// Gives every writer of `init`'s result but one its own clone of `init`,
/// created right before the writer. Readers keep the original, and so does
/// the first writer in `init`'s block when there are no readers.
void duplicate(Operation *init, bool writersOnly) {
  SmallVector<OpOperand *> writers;
  bool read = false;
  for (OpOperand &use : init->getResult(0).getUses()) {
    if (!writersOnly || writesInto(use))
      writers.push_back(&use);
    else
      read = true;
  }
  OpOperand *keep = nullptr;
  if (!read)
    for (OpOperand *w : writers)
      if (w->getOwner()->getBlock() == init->getBlock() &&
          (!keep || w->getOwner()->isBeforeInBlock(keep->getOwner())))
        keep = w;
  for (OpOperand *w : writers) {
    if (w == keep)
      continue;
    OpBuilder builder(w->getOwner());
    w->set(builder.clone(*init)->getResult(0));
  }
}

struct DuplicateInits : metac::impl::MetacDuplicateInitsBase<DuplicateInits> {
  void runOnOperation() override {
    // Fills first: their clones share the fill's tensor.empty, which the
    // second walk then splits.
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills)
      duplicate(fill, /*writersOnly=*/true);
    // A tensor.empty has no contents to read, so every use may have its own.
    SmallVector<tensor::EmptyOp> empties;
    getOperation().walk([&](tensor::EmptyOp e) { empties.push_back(e); });
    for (tensor::EmptyOp e : empties)
      duplicate(e, /*writersOnly=*/false);
  }
};

} // namespace
