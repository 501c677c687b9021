//===- PlanBuffers.cpp - Static arena planning for kernel intermediates --===//
//
// A kernel is straight-line code over statically shaped buffers, so the live
// range of every intermediate is known at compile time. Each `memref.alloc`
// becomes a `memref.view` at a fixed offset of one arena; two buffers share
// bytes only when their live ranges do not overlap. The hot loop then makes
// at most one allocation per kernel call (none when the arena fits the stack
// limit), and the arena size is the kernel's peak intermediate memory.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace metac {
#define GEN_PASS_DEF_METACPLANBUFFERS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;

namespace {

constexpr int64_t kAlignment = 64; // One cache line; enough for AVX-512.

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes;
  unsigned start, end; // Positions in the kernel's block, inclusive.
  int64_t offset = 0;
};

/// Position (in `block`) of the last op that touches `root` or a view of it.
unsigned lastUse(Value root, Block &block,
                 const DenseMap<Operation *, unsigned> &position) {
  unsigned last = 0;
  SmallVector<Value> worklist{root};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      // A deallocation ends the buffer's life; it is not a use.
      if (isa<memref::DeallocOp>(user))
        continue;
      Operation *top = block.findAncestorOpInBlock(*user);
      if (top)
        last = std::max(last, position.lookup(top));
      // Views alias the buffer: their uses extend its life.
      if (isa<ViewLikeOpInterface>(user) ||
          isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
              memref::CastOp, memref::ReinterpretCastOp>(user))
        for (Value r : user->getResults())
          worklist.push_back(r);
    }
  }
  return last;
}

int64_t bytesOf(MemRefType type) {
  int64_t elementBytes = (type.getElementTypeBitWidth() + 7) / 8;
  return type.getNumElements() * elementBytes;
}

LogicalResult planKernel(func::FuncOp kernel, int64_t stackLimit) {
  Block &block = kernel.getBody().front();
  DenseMap<Operation *, unsigned> position;
  unsigned index = 0;
  for (Operation &op : block)
    position[&op] = index++;

  SmallVector<Buffer> buffers;
  for (Operation &op : block) {
    auto alloc = dyn_cast<memref::AllocOp>(&op);
    if (!alloc)
      continue;
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return alloc.emitError("kernel buffers must be static and contiguous");
    unsigned start = position[&op];
    buffers.push_back(
        {alloc, bytesOf(type), start,
         std::max(start, lastUse(alloc.getResult(), block, position))});
  }
  // Larger buffers first, so the big ones pack tightly at low offsets.
  SmallVector<Buffer *> order;
  for (Buffer &b : buffers)
    order.push_back(&b);
  llvm::stable_sort(order, [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });

  int64_t arenaBytes = 0;
  SmallVector<Buffer *> placed;
  for (Buffer *buf : order) {
    // First fit among the intervals left free by buffers live at the same time.
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *other : placed)
      if (other->start <= buf->end && buf->start <= other->end)
        busy.push_back({other->offset, other->offset + other->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + buf->bytes <= lo)
        break;
      offset = std::max<int64_t>(offset, llvm::alignTo(hi, kAlignment));
    }
    buf->offset = offset;
    arenaBytes = std::max(arenaBytes, offset + buf->bytes);
    placed.push_back(buf);
  }
  arenaBytes = (int64_t)llvm::alignTo(std::max<int64_t>(arenaBytes, 1), kAlignment);

  OpBuilder b(kernel.getContext());
  kernel->setAttr("metac.arena_bytes", b.getI64IntegerAttr(arenaBytes));
  if (buffers.empty())
    return success();

  Location loc = kernel.getLoc();
  b.setInsertionPointToStart(&block);
  auto arenaType = MemRefType::get({arenaBytes}, b.getI8Type());
  IntegerAttr align = b.getI64IntegerAttr(kAlignment);
  Value arena;
  if (arenaBytes <= stackLimit) {
    arena = b.create<memref::AllocaOp>(loc, arenaType, ValueRange{}, align);
  } else {
    arena = b.create<memref::AllocOp>(loc, arenaType, ValueRange{}, align);
    b.setInsertionPoint(block.getTerminator());
    b.create<memref::DeallocOp>(loc, arena);
  }
  for (Buffer &buf : buffers) {
    b.setInsertionPoint(buf.alloc);
    Value offset = b.create<arith::ConstantIndexOp>(loc, buf.offset);
    Value view = b.create<memref::ViewOp>(loc, buf.alloc.getType(), arena,
                                          offset, ValueRange{});
    // Deallocations of planned buffers go: the arena owns their bytes.
    for (Operation *user : llvm::make_early_inc_range(buf.alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    buf.alloc.replaceAllUsesWith(view);
    buf.alloc.erase();
  }
  return success();
}

struct MetacPlanBuffersPass
    : public metac::impl::MetacPlanBuffersBase<MetacPlanBuffersPass> {
  using MetacPlanBuffersBase::MetacPlanBuffersBase;
  void runOnOperation() override {
    for (auto kernel : getOperation().getOps<func::FuncOp>()) {
      if (!kernel->hasAttr("metac.kernel"))
        continue;
      if (!kernel.getBody().hasOneBlock()) {
        kernel.emitError("buffer planning needs a single-block kernel");
        return signalPassFailure();
      }
      if (failed(planKernel(kernel, stackLimit)))
        return signalPassFailure();
    }
  }
};

} // namespace
