//===- VectorizeTranspose.cpp - Transposed reads as 8 x 8 register tiles --===//
//
// The backward pass of a dense layer reads weights and products transposed:
// a copy W^T of a 40 x 40 weight, an addition of a transposed cotangent. As
// loops, LLVM vectorised these along the output row and read the transposed
// operand with gathers (vgatherqps, one per 8 elements), and they took 19%
// of sinusoid MAML's training time. Here an elementwise linalg.generic on
// 2-D f32 buffers whose sides are multiples of 8, with an operand read
// transposed, is computed in 8 x 8 tiles: each transposed operand's tile is
// eight row loads and the three-stage shuffle network of an AVX register
// transpose (unpack, 64-bit shuffle, 128-bit permute: 24 shuffles), every
// other operand's tile eight row loads, and the body runs on 8-lane rows.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace metac {
#define GEN_PASS_DEF_METACVECTORIZETRANSPOSE
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

constexpr int64_t kTile = 8; // f32 lanes of an AVX register.

/// A static 2-D buffer with unit innermost stride (a row is one load) and
/// sides that are multiples of the tile. Not i1: in memory MLIR gives each
/// i1 a byte, but LLVM reads a vector of i1 as packed bits.
bool isTileable(Type t) {
  auto type = dyn_cast<MemRefType>(t);
  SmallVector<int64_t> strides;
  int64_t offset;
  return type && type.hasStaticShape() && type.getRank() == 2 &&
         type.getDimSize(0) % kTile == 0 && type.getDimSize(1) % kTile == 0 &&
         type.getElementType().isIntOrFloat() &&
         type.getElementTypeBitWidth() >= 8 &&
         succeeded(getStridesAndOffset(type, strides, offset)) &&
         strides.back() == 1;
}

enum class Access { Direct, Transposed };

/// The accesses of an elementwise 2-D generic with at least one f32 operand
/// read transposed, or nothing if the op is not one.
std::optional<SmallVector<Access>> tiledAccesses(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 2 || op.getNumReductionLoops() != 0)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap transposed =
      AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0}, ctx);
  SmallVector<Access> accesses;
  bool anyTransposed = false;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isTileable(operand.get().getType()))
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (map == identity) {
      accesses.push_back(Access::Direct);
    } else if (map == transposed && op.isDpsInput(&operand) &&
               getElementTypeOrSelf(operand.get().getType()).isF32()) {
      accesses.push_back(Access::Transposed);
      anyTransposed = true;
    } else {
      return std::nullopt;
    }
  }
  if (!anyTransposed ||
      op.getMatchingIndexingMap(op.getDpsInitOperand(0)) != identity)
    return std::nullopt;
  // The tiles visit the output in another order than the loops would: an
  // input in the output's allocation must be the output itself, read
  // directly (each tile then reads what it writes, before writing it).
  Value out = op.getDpsInitOperand(0)->get();
  for (auto [operand, access] : llvm::zip(op->getOpOperands(), accesses))
    if (metac::rootAllocation(operand.get()) == metac::rootAllocation(out) &&
        (access == Access::Transposed || operand.get() != out))
      return std::nullopt;
  // The body: elementwise arithmetic on scalars only.
  for (Operation &inner : op.getBody()->without_terminator())
    if (!inner.hasTrait<OpTrait::Elementwise>() || inner.getNumRegions() ||
        !llvm::all_of(inner.getResultTypes(),
                      [](Type t) { return t.isIntOrIndexOrFloat(); }))
      return std::nullopt;
  return accesses;
}

/// Rows 0..7 of the transpose of the 8 x 8 tile whose rows are `rows`.
SmallVector<Value> transposeTile(OpBuilder &b, Location loc,
                                 ArrayRef<Value> rows) {
  auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) -> Value {
    return b.create<vector::ShuffleOp>(loc, x, y, mask);
  };
  // Stage 1: interleave pairs of rows (unpcklps / unpckhps).
  SmallVector<Value> t;
  for (int p = 0; p < 4; ++p) {
    t.push_back(
        shuffle(rows[2 * p], rows[2 * p + 1], {0, 8, 1, 9, 4, 12, 5, 13}));
    t.push_back(
        shuffle(rows[2 * p], rows[2 * p + 1], {2, 10, 3, 11, 6, 14, 7, 15}));
  }
  // Stage 2: pairs of 64-bit halves (shufps).
  const int64_t low[] = {0, 1, 8, 9, 4, 5, 12, 13};
  const int64_t high[] = {2, 3, 10, 11, 6, 7, 14, 15};
  SmallVector<Value> s = {shuffle(t[0], t[2], low), shuffle(t[0], t[2], high),
                          shuffle(t[1], t[3], low), shuffle(t[1], t[3], high),
                          shuffle(t[4], t[6], low), shuffle(t[4], t[6], high),
                          shuffle(t[5], t[7], low), shuffle(t[5], t[7], high)};
  // Stage 3: 128-bit halves (vperm2f128).
  SmallVector<Value> out;
  for (int c = 0; c < 4; ++c)
    out.push_back(shuffle(s[c], s[c + 4], {0, 1, 2, 3, 8, 9, 10, 11}));
  for (int c = 0; c < 4; ++c)
    out.push_back(shuffle(s[c], s[c + 4], {4, 5, 6, 7, 12, 13, 14, 15}));
  return out;
}

void tile(linalg::GenericOp op, ArrayRef<Access> accesses) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto outType = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  Value zero = index(0), step = index(kTile);
  Block *body = op.getBody();
  auto rowsLoop =
      b.create<scf::ForOp>(loc, zero, index(outType.getDimSize(0)), step);
  b.setInsertionPointToStart(rowsLoop.getBody());
  auto colsLoop =
      b.create<scf::ForOp>(loc, zero, index(outType.getDimSize(1)), step);
  b.setInsertionPointToStart(colsLoop.getBody());
  Value i = rowsLoop.getInductionVar(), j = colsLoop.getInductionVar();
  auto plus = [&](Value base, int64_t k) -> Value {
    return k ? b.create<arith::AddIOp>(loc, base, index(k)).getResult() : base;
  };
  // tiles[operand][c]: row c of the operand's tile at (i, j), as the body
  // sees it.
  SmallVector<SmallVector<Value>> tiles;
  for (auto [operand, access] : llvm::zip(op->getOpOperands(), accesses)) {
    Value buffer = operand.get();
    auto rowType = VectorType::get({kTile}, getElementTypeOrSelf(buffer));
    SmallVector<Value> rows;
    bool output = op.isDpsInit(&operand);
    if (output && !op.payloadUsesValueFromOperand(&operand)) {
      tiles.push_back({});
      continue;
    }
    for (int64_t c = 0; c < kTile; ++c) {
      // A transposed operand's tile at (i, j) is rows j..j+7 of the buffer
      // from column i.
      SmallVector<Value, 2> at;
      if (access == Access::Direct)
        at = {plus(i, c), j};
      else
        at = {plus(j, c), i};
      rows.push_back(b.create<vector::LoadOp>(loc, rowType, buffer, at));
    }
    tiles.push_back(access == Access::Direct ? rows
                                             : transposeTile(b, loc, rows));
  }
  // The body, once per row of the tile, on 8-lane vectors. Values from
  // outside the body (constants) are broadcast, once for the tile.
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  IRMapping splats;
  for (int64_t c = 0; c < kTile; ++c) {
    IRMapping map;
    for (auto [arg, t] : llvm::zip(body->getArguments(), tiles))
      if (!t.empty())
        map.map(arg, t[c]);
    auto lookup = [&](Value v) -> Value {
      if (Value mapped = map.lookupOrNull(v))
        return mapped;
      if (Value splat = splats.lookupOrNull(v))
        return splat;
      Value splat = b.create<vector::BroadcastOp>(
          loc, VectorType::get({kTile}, v.getType()), v);
      splats.map(v, splat);
      return splat;
    };
    for (Operation &inner : body->without_terminator()) {
      OperationState state(loc, inner.getName());
      for (Value operand : inner.getOperands())
        state.operands.push_back(lookup(operand));
      for (Type t : inner.getResultTypes())
        state.types.push_back(VectorType::get({kTile}, t));
      state.attributes = inner.getAttrs();
      Operation *vectorized = b.create(state);
      map.map(inner.getResults(), vectorized->getResults());
    }
    b.create<vector::StoreOp>(loc, lookup(yield.getOperand(0)),
                              op.getDpsInitOperand(0)->get(),
                              ValueRange{plus(i, c), j});
  }
  op.erase();
}

struct MetacVectorizeTransposePass
    : public metac::impl::MetacVectorizeTransposeBase<
          MetacVectorizeTransposePass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, SmallVector<Access>>> ops;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (auto accesses = tiledAccesses(op))
        ops.push_back({op, *accesses});
    });
    for (auto &[op, accesses] : ops)
      tile(op, accesses);
  }
};

} // namespace
