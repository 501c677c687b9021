//===- VectorizeMatmul.cpp - Matrix products with rows held in registers --===//
//
// A product C[i, j] += A[i, k] * B[k, j] in the row-update loop order (i, k, j)
// is vectorised by LLVM along j, but C's row is loaded and stored again for
// every k: LLVM does not keep a row in registers across the k loop. In the
// sinusoid MAML kernels, where rows are 40 wide, the two products of the
// 40 x 40 layer took 54% of the training time this way. Here a product whose
// rows are short enough for the register file becomes
//
//   for i: acc = C[i, :]; for k: acc += broadcast(A[i, k]) * B[k, :];
//          C[i, :] = acc
//
// with the row held in 8-lane vectors (LLVM scalarised one <40 x float>).
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace metac {
#define GEN_PASS_DEF_METACVECTORIZEMATMUL
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

constexpr int64_t kLanes = 8; // f32 lanes of an AVX register.

/// Whether a buffer's rows are contiguous (unit innermost stride), so that a
/// row is one vector load.
bool hasContiguousRows(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return type.hasStaticShape() && type.getRank() == 2 &&
         type.getElementType().isF32() &&
         succeeded(getStridesAndOffset(type, strides, offset)) &&
         strides.back() == 1;
}

/// The (i, k, j) row-update product of metac-lower-to-linalg, on buffers.
bool isRowUpdateProduct(linalg::GenericOp op) {
  if (!op->hasAttr("metac.contraction") || !op.hasPureBufferSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3)
    return false;
  MLIRContext *ctx = op.getContext();
  AffineExpr i, k, j;
  bindDims(ctx, i, k, j);
  auto map = [&](AffineExpr a, AffineExpr b) {
    return AffineMap::get(3, 0, {a, b}, ctx);
  };
  // A may be read transposed: A[i, k] at X[k, i].
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if ((maps[0] != map(i, k) && maps[0] != map(k, i)) || maps[1] != map(k, j) ||
      maps[2] != map(i, j))
    return false;
  auto it = op.getIteratorTypesArray();
  if (it[0] != utils::IteratorType::parallel ||
      it[1] != utils::IteratorType::reduction ||
      it[2] != utils::IteratorType::parallel)
    return false;
  if (!llvm::all_of(op->getOperands(), [](Value v) {
        auto type = dyn_cast<MemRefType>(v.getType());
        return type && hasContiguousRows(type);
      }))
    return false;
  // C's rows stay in registers until the end: C must not share memory with
  // A or B (bufferization never makes it so; a hand-written input could).
  Value c = metac::rootAllocation(op.getDpsInits()[0]);
  if (c == metac::rootAllocation(op.getDpsInputs()[0]) ||
      c == metac::rootAllocation(op.getDpsInputs()[1]))
    return false;
  // The body must be out + in0 * in1.
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(body.front());
  auto add = dyn_cast<arith::AddFOp>(*std::next(body.begin()));
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto arg = [&](unsigned n) { return body.getArgument(n); };
  return mul && add && yield.getOperand(0) == add.getResult() &&
         ((mul.getLhs() == arg(0) && mul.getRhs() == arg(1)) ||
          (mul.getLhs() == arg(1) && mul.getRhs() == arg(0))) &&
         ((add.getLhs() == arg(2) && add.getRhs() == mul.getResult()) ||
          (add.getRhs() == arg(2) && add.getLhs() == mul.getResult()));
}

struct MetacVectorizeMatmulPass
    : public metac::impl::MetacVectorizeMatmulBase<MetacVectorizeMatmulPass> {
  using MetacVectorizeMatmulBase::MetacVectorizeMatmulBase;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> products;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!isRowUpdateProduct(op))
        return;
      int64_t width =
          cast<MemRefType>(op.getDpsInits()[0].getType()).getDimSize(1);
      // Whole vectors of 8 lanes (AVX), few enough to stay in registers
      // with the row of B they meet.
      if (width % kLanes == 0 && width <= maxWidth)
        products.push_back(op);
    });
    for (linalg::GenericOp op : products)
      rewrite(op);
  }

  void rewrite(linalg::GenericOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value a = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1],
          c = op.getDpsInits()[0];
    auto cType = cast<MemRefType>(c.getType());
    int64_t rows = cType.getDimSize(0), width = cType.getDimSize(1);
    AffineExpr d0 = getAffineDimExpr(0, op.getContext());
    bool transposedA = op.getIndexingMapsArray()[0].getResult(0) != d0;
    int64_t depth =
        cast<MemRefType>(a.getType()).getDimSize(transposedA ? 0 : 1);
    // One vector per 8 columns: LLVM scalarised a single <40 x float>.
    auto chunkType = VectorType::get({kLanes}, b.getF32Type());
    int64_t chunks = width / kLanes;
    auto index = [&](int64_t v) {
      return b.create<arith::ConstantIndexOp>(loc, v).getResult();
    };
    Value zero = index(0), one = index(1);
    SmallVector<Value> columns;
    for (int64_t j = 0; j < chunks; ++j)
      columns.push_back(index(j * kLanes));
    // Two rows at a time when their accumulators fit the 16 vector
    // registers of AVX2 beside a row of B and two broadcasts: each row of B
    // loaded then serves both.
    int64_t block = rows % 2 == 0 && 2 * chunks <= 12 ? 2 : 1;
    b.create<scf::ForOp>(
        loc, zero, index(rows), index(block), ValueRange{},
        [&](OpBuilder &b, Location loc, Value i0, ValueRange) {
          SmallVector<Value> rowIndex{i0};
          if (block == 2)
            rowIndex.push_back(b.create<arith::AddIOp>(loc, i0, one));
          // acc[r * chunks + c]: row r of the block, columns chunk c.
          SmallVector<Value> acc;
          for (Value i : rowIndex)
            for (Value col : columns)
              acc.push_back(b.create<vector::LoadOp>(loc, chunkType, c,
                                                     ValueRange{i, col}));
          auto inner = b.create<scf::ForOp>(
              loc, zero, index(depth), one, acc,
              [&](OpBuilder &b, Location loc, Value k, ValueRange carried) {
                SmallVector<Value> splats;
                for (Value i : rowIndex) {
                  Value x = b.create<memref::LoadOp>(
                      loc, a,
                      transposedA ? ValueRange{k, i} : ValueRange{i, k});
                  splats.push_back(
                      b.create<vector::BroadcastOp>(loc, chunkType, x));
                }
                SmallVector<Value> sums(carried.begin(), carried.end());
                for (auto [ci, col] : llvm::enumerate(columns)) {
                  Value row = b.create<vector::LoadOp>(loc, chunkType, bMat,
                                                       ValueRange{k, col});
                  for (auto [r, splat] : llvm::enumerate(splats)) {
                    Value &sum = sums[r * chunks + ci];
                    sum = b.create<vector::FMAOp>(loc, splat, row, sum);
                  }
                }
                b.create<scf::YieldOp>(loc, sums);
              });
          for (auto [r, i] : llvm::enumerate(rowIndex))
            for (auto [ci, col] : llvm::enumerate(columns))
              b.create<vector::StoreOp>(loc, inner.getResult(r * chunks + ci),
                                        c, ValueRange{i, col});
          b.create<scf::YieldOp>(loc);
        });
    op.erase();
  }
};

} // namespace
