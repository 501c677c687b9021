//===- LowerMetaToLinalg.cpp - meta ops to linalg on tensors --------------===//
//
//   meta.add/sin/...      -> linalg.generic (elementwise; fusable)
//   meta.broadcast        -> linalg.generic with a projected input map
//   meta.reduce_sum       -> linalg.generic with reduction iterators
//   meta.transpose        -> linalg.generic with a permuted input map
//   meta.matmul           -> linalg.matmul into a zero-filled tensor
//   meta.reshape          -> tensor.collapse_shape + tensor.expand_shape
//   meta.slice / pad      -> tensor.extract_slice / insert_slice into zeros
//   meta.random_*         -> linalg.generic hashing (key, stream, index)
//   meta.reduce_max       -> linalg.generic from -inf
//   meta.conv2d*          -> left alone: metac-lower-to-runtime-calls turns
//                            them into calls of the runtime's functions
//   meta.max_pool_*       -> a window argmax linalg.generic (+ a gather back)
//
// Everything except matmul is a linalg.generic so that
// linalg-fuse-elementwise-ops can merge chains of them into one loop nest.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace metac {
#define GEN_PASS_DEF_METALOWERTOLINALG
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;
namespace meta = metac::meta;

namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A linalg.generic writing `resultType` from `inputs` read through `inputMaps`
/// (the output is read through the identity); `body` maps the input scalars
/// (and the output's current value, last) to the new output scalar.
Value buildGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                   ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                   BodyFn body, ArrayRef<utils::IteratorType> iterators = {},
                   AffineMap outputMap = {}, Value init = {}) {
  int64_t rank = iterators.empty() ? resultType.getRank() : iterators.size();
  SmallVector<utils::IteratorType> its(iterators.begin(), iterators.end());
  if (its.empty())
    its.assign(rank, utils::IteratorType::parallel);
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(outputMap
                     ? outputMap
                     : AffineMap::getMultiDimIdentityMap(rank, b.getContext()));
  if (!init)
    init = b.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                     resultType.getElementType());
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, its,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args));
      });
  return generic.getResult(0);
}

/// Elementwise op over same-shaped operands.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, BodyFn body) {
  SmallVector<AffineMap> maps(
      inputs.size(),
      AffineMap::getMultiDimIdentityMap(resultType.getRank(), b.getContext()));
  return buildGeneric(b, loc, resultType, inputs, maps, body);
}

Value f32Const(OpBuilder &b, Location loc, double v) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v));
}

/// A tensor of `type` with every element `v`.
Value filled(OpBuilder &b, Location loc, RankedTensorType type, double v) {
  Value empty =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  return b.create<linalg::FillOp>(loc, f32Const(b, loc, v), empty).getResult(0);
}

Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  return filled(b, loc, type, 0.0);
}

/// Scalar body of each elementwise meta op.
Value scalarBody(Operation *op, OpBuilder &b, Location loc, ValueRange a) {
  auto cmp = [&](arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y).getResult();
  };
  return TypeSwitch<Operation *, Value>(op)
      .Case(
          [&](meta::AddOp) { return b.create<arith::AddFOp>(loc, a[0], a[1]); })
      .Case(
          [&](meta::SubOp) { return b.create<arith::SubFOp>(loc, a[0], a[1]); })
      .Case(
          [&](meta::MulOp) { return b.create<arith::MulFOp>(loc, a[0], a[1]); })
      .Case(
          [&](meta::DivOp) { return b.create<arith::DivFOp>(loc, a[0], a[1]); })
      // Ties pick the lhs, matching the derivative rule.
      .Case([&](meta::MaxOp) {
        return b.create<arith::SelectOp>(
            loc, cmp(arith::CmpFPredicate::OGE, a[0], a[1]), a[0], a[1]);
      })
      .Case([&](meta::MinOp) {
        return b.create<arith::SelectOp>(
            loc, cmp(arith::CmpFPredicate::OLE, a[0], a[1]), a[0], a[1]);
      })
      .Case([&](meta::NegOp) { return b.create<arith::NegFOp>(loc, a[0]); })
      .Case([&](meta::SinOp) { return b.create<math::SinOp>(loc, a[0]); })
      .Case([&](meta::CosOp) { return b.create<math::CosOp>(loc, a[0]); })
      .Case([&](meta::ExpOp) { return b.create<math::ExpOp>(loc, a[0]); })
      .Case([&](meta::LogOp) { return b.create<math::LogOp>(loc, a[0]); })
      .Case([&](meta::TanhOp) { return b.create<math::TanhOp>(loc, a[0]); })
      .Case([&](meta::SqrtOp) { return b.create<math::SqrtOp>(loc, a[0]); })
      .Case([&](meta::AbsOp) { return b.create<math::AbsFOp>(loc, a[0]); })
      .Case([&](meta::SquareOp) {
        return b.create<arith::MulFOp>(loc, a[0], a[0]);
      })
      .Case([&](meta::SigmoidOp) {
        Value one = f32Const(b, loc, 1.0);
        Value e =
            b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[0]));
        return b.create<arith::DivFOp>(loc, one,
                                       b.create<arith::AddFOp>(loc, one, e));
      })
      .Case([&](meta::ReluOp) {
        Value zero = f32Const(b, loc, 0.0);
        return b.create<arith::SelectOp>(
            loc, cmp(arith::CmpFPredicate::OGT, a[0], zero), a[0], zero);
      })
      .Case([&](meta::SignOp) {
        Value zero = f32Const(b, loc, 0.0);
        Value pos = b.create<arith::UIToFPOp>(
            loc, b.getF32Type(), cmp(arith::CmpFPredicate::OGT, a[0], zero));
        Value neg = b.create<arith::UIToFPOp>(
            loc, b.getF32Type(), cmp(arith::CmpFPredicate::OLT, a[0], zero));
        return b.create<arith::SubFOp>(loc, pos, neg);
      })
      .Case([&](meta::CmpOp c) {
        auto p = llvm::StringSwitch<arith::CmpFPredicate>(c.getPredicate())
                     .Case("lt", arith::CmpFPredicate::OLT)
                     .Case("le", arith::CmpFPredicate::OLE)
                     .Case("gt", arith::CmpFPredicate::OGT)
                     .Case("ge", arith::CmpFPredicate::OGE)
                     .Case("eq", arith::CmpFPredicate::OEQ)
                     .Default(arith::CmpFPredicate::UNE);
        return cmp(p, a[0], a[1]);
      })
      .Case([&](meta::SelectOp) {
        return b.create<arith::SelectOp>(loc, a[0], a[1], a[2]);
      })
      .Default([](Operation *) { return Value(); });
}

bool isElementwise(Operation *op) {
  return isa<meta::AddOp, meta::SubOp, meta::MulOp, meta::DivOp, meta::MaxOp,
             meta::MinOp, meta::NegOp, meta::SinOp, meta::CosOp, meta::ExpOp,
             meta::LogOp, meta::TanhOp, meta::SqrtOp, meta::AbsOp,
             meta::SquareOp, meta::SigmoidOp, meta::ReluOp, meta::SignOp,
             meta::CmpOp, meta::SelectOp>(op);
}

/// Row-major reshape through a rank-1 tensor (static shapes only).
Value buildReshape(OpBuilder &b, Location loc, Value input,
                   RankedTensorType resultType) {
  RankedTensorType inType = tensorType(input);
  if (inType == resultType)
    return input;
  auto allInOne = [](int64_t rank) {
    ReassociationIndices all;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    return SmallVector<ReassociationIndices>{all};
  };
  Value flat = input;
  auto flatType =
      RankedTensorType::get({inType.getNumElements()}, inType.getElementType());
  if (inType.getRank() == 0)
    flat = b.create<tensor::ExpandShapeOp>(loc, flatType, input,
                                           SmallVector<ReassociationIndices>{});
  else if (inType.getRank() > 1)
    flat = b.create<tensor::CollapseShapeOp>(loc, flatType, input,
                                             allInOne(inType.getRank()));
  if (resultType.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(
        loc, resultType, flat, SmallVector<ReassociationIndices>{});
  if (resultType.getRank() == 1)
    return flat;
  return b.create<tensor::ExpandShapeOp>(loc, resultType, flat,
                                         allInOne(resultType.getRank()));
}

/// splitmix64's finaliser: a bijective 64-bit mixer.
Value mix64(OpBuilder &b, Location loc, Value z) {
  auto c = [&](uint64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(int64_t(v)));
  };
  auto xorShift = [&](Value x, int s) {
    return b.create<arith::XOrIOp>(loc, x,
                                   b.create<arith::ShRUIOp>(loc, x, c(s)));
  };
  z = b.create<arith::MulIOp>(loc, xorShift(z, 30), c(0xbf58476d1ce4e5b9ULL));
  z = b.create<arith::MulIOp>(loc, xorShift(z, 27), c(0x94d049bb133111ebULL));
  return xorShift(z, 31);
}

/// A uniform float in [0, 1) from (key, stream, counter): 24 random bits.
Value hashUniform(OpBuilder &b, Location loc, Value key, int64_t stream,
                  Value counter) {
  Value golden = b.create<arith::ConstantOp>(
      loc, b.getI64IntegerAttr(int64_t(0x9E3779B97F4A7C15ULL * (stream + 1))));
  Value h = mix64(b, loc, b.create<arith::AddIOp>(loc, counter, golden));
  h = mix64(b, loc, b.create<arith::XOrIOp>(loc, h, key));
  Value top = b.create<arith::ShRUIOp>(
      loc, h, b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(40)));
  Value f = b.create<arith::UIToFPOp>(loc, b.getF32Type(), top);
  return b.create<arith::MulFOp>(loc, f, f32Const(b, loc, 1.0 / 16777216.0));
}

/// Linear (row-major) index of the current linalg.generic iteration.
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  Value index = b.create<arith::ConstantIndexOp>(loc, 0);
  for (auto [d, size] : llvm::enumerate(shape)) {
    Value scaled = b.create<arith::MulIOp>(
        loc, index, b.create<arith::ConstantIndexOp>(loc, size));
    index =
        b.create<arith::AddIOp>(loc, scaled, b.create<linalg::IndexOp>(loc, d));
  }
  return b.create<arith::IndexCastOp>(loc, b.getI64Type(), index);
}

Value buildRandom(OpBuilder &b, Location loc, Value keyTensor, int64_t stream,
                  RankedTensorType type, bool normal) {
  Value key = b.create<tensor::ExtractOp>(loc, keyTensor, ValueRange{});
  return buildGeneric(
      b, loc, type, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange) {
        Value i = linearIndex(nb, nl, type.getShape());
        if (!normal)
          return hashUniform(nb, nl, key, stream, i);
        // Box-Muller with counters 2i and 2i+1; 1 - u1 is in (0, 1].
        Value two = nb.create<arith::ConstantOp>(nl, nb.getI64IntegerAttr(2));
        Value i2 = nb.create<arith::MulIOp>(nl, i, two);
        Value i2p1 = nb.create<arith::AddIOp>(
            nl, i2, nb.create<arith::ConstantOp>(nl, nb.getI64IntegerAttr(1)));
        Value u1 = nb.create<arith::SubFOp>(
            nl, f32Const(nb, nl, 1.0), hashUniform(nb, nl, key, stream, i2));
        Value u2 = hashUniform(nb, nl, key, stream, i2p1);
        Value r = nb.create<math::SqrtOp>(
            nl, nb.create<arith::MulFOp>(nl, f32Const(nb, nl, -2.0),
                                         nb.create<math::LogOp>(nl, u1)));
        Value theta = nb.create<arith::MulFOp>(
            nl, f32Const(nb, nl, 6.283185307179586), u2);
        return nb
            .create<arith::MulFOp>(nl, r, nb.create<math::CosOp>(nl, theta))
            .getResult();
      });
}

/// Reduces `input` over `axes` into a tensor of `type` filled with `init`,
/// folding each element into the accumulator with `combine(x, acc)`.
Value buildReduction(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
    RankedTensorType type, double init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = tensorType(input).getRank();
  SmallVector<utils::IteratorType> its;
  SmallVector<AffineExpr> kept;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    its.push_back(reduced ? utils::IteratorType::reduction
                          : utils::IteratorType::parallel);
    if (!reduced)
      kept.push_back(getAffineDimExpr(i, ctx));
  }
  return buildGeneric(
      b, loc, type, input, AffineMap::getMultiDimIdentityMap(rank, ctx),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        return combine(nb, nl, a[0], a[1]);
      },
      its, AffineMap::get(rank, 0, kept, ctx), filled(b, loc, type, init));
}

/// Marks a matrix product so that -metac-fuse-elementwise leaves its operands
/// alone.
Value markContraction(Value product) {
  product.getDefiningOp()->setAttr("metac.contraction",
                                   UnitAttr::get(product.getContext()));
  return product;
}

/// The matrix whose transpose `v` is, when `v` is a lowered 2-D transpose
/// (a copy whose input map swaps the loops); else null.
Value transposedSource(Value v) {
  auto copy = v.getDefiningOp<linalg::GenericOp>();
  if (!copy || copy.getNumDpsInputs() != 1 || copy.getNumLoops() != 2)
    return Value();
  MLIRContext *ctx = v.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> swap = {AffineMap::get(2, 0, {d1, d0}, ctx),
                                 AffineMap::get(2, 0, {d0, d1}, ctx)};
  Block &body = copy.getRegion().front();
  if (copy.getIndexingMapsArray() != swap || body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return Value();
  return copy.getDpsInputs()[0];
}

/// C = A B for small matrices, in the loop order LLVM vectorises best.
/// With n >= 16 columns: loops (i, k, j), C[i, :] += A[i, k] * B[k, :], the
/// innermost loop a full-width row update. With fewer columns that row update
/// is a masked vector whose store cannot forward to the next iteration's load
/// (measured: a quarter of MAML's time in one such loop), so B is first
/// transposed and loops (i, j, k) compute dot products of contiguous rows,
/// accumulated in a register.
Value buildMatmul(OpBuilder &b, Location loc, meta::MatmulOp m) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType type = m.getType();
  int64_t n = type.getDimSize(1);
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  // May fuse into an FMA and reassociate; deterministic, since the compiled
  // order is fixed.
  auto flags = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  auto fma = [flags](OpBuilder &nb, Location nl, ValueRange a) {
    Value p = nb.create<arith::MulFOp>(nl, a[0], a[1], flags);
    return nb.create<arith::AddFOp>(nl, a[2], p, flags).getResult();
  };
  if (n >= 16) {
    // d0 = i, d1 = k, d2 = j. A[i, k] is constant along the row, so a
    // transposed A is read in place (A = Xᵀ: X[k, i]) rather than copied
    // first: the copies were a tenth of sinusoid MAML's time.
    Value lhs = m.getLhs();
    AffineMap lhsMap = AffineMap::get(3, 0, {d0, d1}, ctx);
    if (Value x = transposedSource(lhs)) {
      lhs = x;
      lhsMap = AffineMap::get(3, 0, {d1, d0}, ctx);
    }
    SmallVector<AffineMap> maps = {lhsMap, AffineMap::get(3, 0, {d1, d2}, ctx)};
    return markContraction(buildGeneric(
        b, loc, type, ValueRange{lhs, m.getRhs()}, maps, fma, {par, red, par},
        AffineMap::get(3, 0, {d0, d2}, ctx), zeros(b, loc, type)));
  }
  // Bᵀ, then d0 = i, d1 = j, d2 = k. When B is itself a transpose, Bᵀ is
  // its source: no copy either way.
  Value bt = transposedSource(m.getRhs());
  if (!bt) {
    auto bType = cast<RankedTensorType>(m.getRhs().getType());
    auto btType = RankedTensorType::get(
        {bType.getDimSize(1), bType.getDimSize(0)}, bType.getElementType());
    bt = buildGeneric(b, loc, btType, m.getRhs(),
                      AffineMap::get(2, 0, {d1, d0}, ctx),
                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d0, d2}, ctx),
                                 AffineMap::get(3, 0, {d1, d2}, ctx)};
  return markContraction(buildGeneric(
      b, loc, type, ValueRange{m.getLhs(), bt}, maps, fma, {par, par, red},
      AffineMap::get(3, 0, {d0, d1}, ctx), zeros(b, loc, type)));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Per pooling window of `input`, the running maximum and, beside it, the
/// element of `values` at the maximum or, with `wantIndex`, the maximum's
/// window offset a*kw + b as a float: loops (n, i, j, a, b, c). An empty
/// [kh, kw] tensor gives linalg the window loops' sizes, as linalg's own
/// pooling ops do. Ties keep the first maximum in row-major window order.
Value buildWindowArgmax(OpBuilder &b, Location loc, Value input, Value values,
                        ArrayRef<int64_t> window, RankedTensorType pooledType,
                        bool wantIndex) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  AffineMap image = AffineMap::get(
      6, 0, {d(0), d(1) * window[0] + d(3), d(2) * window[1] + d(4), d(5)},
      ctx);
  AffineMap shape = AffineMap::get(6, 0, {d(3), d(4)}, ctx);
  AffineMap pooled = AffineMap::get(6, 0, {d(0), d(1), d(2), d(5)}, ctx);
  Value windowShape = b.create<tensor::EmptyOp>(loc, window, b.getF32Type());
  Value lowest =
      filled(b, loc, pooledType, -std::numeric_limits<double>::infinity());
  SmallVector<Value> inputs{input, windowShape};
  SmallVector<AffineMap> maps{image, shape};
  if (!wantIndex) {
    inputs.insert(inputs.begin() + 1, values);
    maps.insert(maps.begin() + 1, image);
  }
  maps.push_back(pooled);
  maps.push_back(pooled);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{pooledType, pooledType}, inputs,
      ValueRange{lowest, zeros(b, loc, pooledType)}, maps,
      SmallVector<utils::IteratorType>{par, par, par, red, red, par},
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = a[0], best = a[a.size() - 2], kept = a.back();
        Value candidate;
        if (wantIndex) {
          Value offset = nb.create<arith::AddIOp>(
              nl,
              nb.create<arith::MulIOp>(
                  nl, nb.create<linalg::IndexOp>(nl, 3),
                  nb.create<arith::ConstantIndexOp>(nl, window[1])),
              nb.create<linalg::IndexOp>(nl, 4));
          candidate = nb.create<arith::UIToFPOp>(
              nl, nb.getF32Type(),
              nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), offset));
        } else {
          candidate = a[1];
        }
        Value better =
            nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGT, x, best);
        nb.create<linalg::YieldOp>(
            nl, ValueRange{
                    nb.create<arith::SelectOp>(nl, better, x, best),
                    nb.create<arith::SelectOp>(nl, better, candidate, kept)});
      });
  return generic.getResult(1);
}

/// max_pool_scatter: the argmax offset of every window, then, for every
/// image element covered by a window, the window's cotangent if the element
/// is its argmax, else zero. Rows and columns beyond the last whole window
/// stay zero.
Value buildMaxPoolScatter(OpBuilder &b, Location loc,
                          meta::MaxPoolScatterOp op) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  ArrayRef<int64_t> k = op.getWindow();
  RankedTensorType pooledType = tensorType(op.getCotangent());
  Value argmax = buildWindowArgmax(b, loc, op.getInput(), Value(), k,
                                   pooledType, /*wantIndex=*/true);
  ArrayRef<int64_t> ps = pooledType.getShape();
  auto coveredType = RankedTensorType::get(
      {ps[0], ps[1] * k[0], ps[2] * k[1], ps[3]}, b.getF32Type());
  AffineMap window = AffineMap::get(
      4, 0, {d(0), d(1).floorDiv(k[0]), d(2).floorDiv(k[1]), d(3)}, ctx);
  Value covered = buildGeneric(
      b, loc, coveredType, ValueRange{op.getCotangent(), argmax},
      {window, window}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto idx = [&](unsigned dim) {
          return nb.create<linalg::IndexOp>(nl, dim).getResult();
        };
        auto cst = [&](int64_t v) {
          return nb.create<arith::ConstantIndexOp>(nl, v).getResult();
        };
        Value offset = nb.create<arith::AddIOp>(
            nl,
            nb.create<arith::MulIOp>(
                nl, nb.create<arith::RemUIOp>(nl, idx(1), cst(k[0])),
                cst(k[1])),
            nb.create<arith::RemUIOp>(nl, idx(2), cst(k[1])));
        Value offsetF = nb.create<arith::UIToFPOp>(
            nl, nb.getF32Type(),
            nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), offset));
        Value hit = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OEQ,
                                             a[1], offsetF);
        return nb.create<arith::SelectOp>(nl, hit, a[0], f32Const(nb, nl, 0.0))
            .getResult();
      });
  if (coveredType == op.getType())
    return covered;
  return b.create<tensor::InsertSliceOp>(
      loc, covered, zeros(b, loc, op.getType()), ValueRange{}, ValueRange{},
      ValueRange{}, ArrayRef<int64_t>{0, 0, 0, 0}, coveredType.getShape(),
      ArrayRef<int64_t>{1, 1, 1, 1});
}

/// Lowers one meta op; returns the replacement value.
Value lower(Operation *op, OpBuilder &b) {
  Location loc = op->getLoc();
  MLIRContext *ctx = b.getContext();
  if (isElementwise(op)) {
    return buildElementwise(b, loc, tensorType(op->getResult(0)),
                            op->getOperands(),
                            [&](OpBuilder &nb, Location nl, ValueRange args) {
                              return scalarBody(op, nb, nl, args.drop_back());
                            });
  }
  return TypeSwitch<Operation *, Value>(op)
      .Case([&](meta::ConstantOp c) {
        return b.create<arith::ConstantOp>(loc, cast<TypedAttr>(c.getValue()));
      })
      .Case([&](meta::StopGradientOp s) { return s.getInput(); })
      .Case([&](meta::MatmulOp m) { return buildMatmul(b, loc, m); })
      .Case([&](meta::TransposeOp t) {
        ArrayRef<int64_t> perm = t.getPermutation();
        // result[i...] = input[perm(i)...]: input dim perm[i] is loop i.
        SmallVector<AffineExpr> exprs(perm.size());
        for (auto [i, p] : llvm::enumerate(perm))
          exprs[p] = getAffineDimExpr(i, ctx);
        AffineMap map = AffineMap::get(perm.size(), 0, exprs, ctx);
        return buildGeneric(
            b, loc, t.getType(), t.getInput(), map,
            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
      })
      .Case([&](meta::ReshapeOp r) {
        return buildReshape(b, loc, r.getInput(), r.getType());
      })
      .Case([&](meta::BroadcastOp bc) {
        // Drop the input's size-1 dimensions, then read the rest through a
        // projected permutation of the result's loops.
        ArrayRef<int64_t> in = tensorType(bc.getInput()).getShape();
        ArrayRef<int64_t> out = bc.getType().getShape();
        size_t lead = out.size() - in.size();
        SmallVector<int64_t> kept;
        SmallVector<AffineExpr> exprs;
        for (size_t i = 0; i < in.size(); ++i)
          if (in[i] != 1) {
            kept.push_back(in[i]);
            exprs.push_back(getAffineDimExpr(lead + i, ctx));
          }
        Value squeezed = buildReshape(
            b, loc, bc.getInput(), RankedTensorType::get(kept, b.getF32Type()));
        AffineMap map = AffineMap::get(out.size(), 0, exprs, ctx);
        return buildGeneric(
            b, loc, bc.getType(), squeezed, map,
            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
      })
      .Case([&](meta::ReduceSumOp r) {
        // Reassociation lets LLVM vectorise the sum. The order is still
        // fixed by the compiled code, so results stay reproducible.
        return buildReduction(
            b, loc, r.getInput(), r.getAxes(), r.getType(), 0.0,
            [](OpBuilder &nb, Location nl, Value x, Value acc) {
              return nb
                  .create<arith::AddFOp>(nl, x, acc,
                                         arith::FastMathFlags::reassoc)
                  .getResult();
            });
      })
      .Case([&](meta::ReduceMaxOp r) {
        return buildReduction(
            b, loc, r.getInput(), r.getAxes(), r.getType(),
            -std::numeric_limits<double>::infinity(),
            [](OpBuilder &nb, Location nl, Value x, Value acc) {
              return nb.create<arith::MaximumFOp>(nl, x, acc).getResult();
            });
      })
      .Case([&](meta::MaxPoolGatherOp p) {
        return buildWindowArgmax(b, loc, p.getInput(), p.getValues(),
                                 p.getWindow(), p.getType(),
                                 /*wantIndex=*/false);
      })
      .Case([&](meta::MaxPoolScatterOp p) {
        return buildMaxPoolScatter(b, loc, p);
      })
      .Case([&](meta::SliceOp s) {
        int64_t rank = s.getType().getRank();
        return b.create<tensor::ExtractSliceOp>(
            loc, s.getType(), s.getInput(), ValueRange{}, ValueRange{},
            ValueRange{}, s.getOffsets(), s.getType().getShape(),
            SmallVector<int64_t>(rank, 1));
      })
      .Case([&](meta::PadOp p) {
        auto inType = tensorType(p.getInput());
        return b.create<tensor::InsertSliceOp>(
            loc, p.getInput(), zeros(b, loc, p.getType()), ValueRange{},
            ValueRange{}, ValueRange{}, p.getOffsets(), inType.getShape(),
            SmallVector<int64_t>(inType.getRank(), 1));
      })
      .Case([&](meta::RandomUniformOp r) {
        return buildRandom(b, loc, r.getKey(), r.getStream(), r.getType(),
                           /*normal=*/false);
      })
      .Case([&](meta::RandomNormalOp r) {
        return buildRandom(b, loc, r.getKey(), r.getStream(), r.getType(),
                           /*normal=*/true);
      })
      .Default([](Operation *) { return Value(); });
}

struct MetaLowerToLinalgPass
    : public metac::impl::MetaLowerToLinalgBase<MetaLowerToLinalgPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<meta::MetaDialect>(op->getDialect()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (isa<meta::GradOp>(op)) {
        op->emitOpError("must be expanded by -meta-autodiff before lowering");
        return signalPassFailure();
      }
    }
    for (Operation *op : ops) {
      // Convolutions and large matrix products become runtime calls just
      // before bufferization (metac-lower-to-runtime-calls).
      if (isa<meta::Conv2DOp, meta::Conv2DInputGradOp,
              meta::Conv2DFilterGradOp>(op))
        continue;
      if (auto m = dyn_cast<meta::MatmulOp>(op); m && isRuntimeMatmul(m))
        continue;
      OpBuilder b(op);
      Value replacement = lower(op, b);
      if (!replacement) {
        op->emitOpError("has no lowering");
        return signalPassFailure();
      }
      op->getResult(0).replaceAllUsesWith(replacement);
      op->erase();
    }
  }
};

} // namespace
