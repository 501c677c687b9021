//===- MetaFolds.cpp - Constant folding and algebraic simplification ------===//
//
// Reverse mode seeds cotangents with ones and fills the gradients of unused
// paths with zeros. These folders remove both, so `-canonicalize` after
// `-meta-autodiff` leaves only the arithmetic the derivative really needs.
//
// Note: x * 0 folds to 0 even though IEEE says inf * 0 = nan. The zeros this
// targets are structural (no dependence), so the fold is what a symbolic
// derivative means; a non-finite forward value is caught by the runtime.
//
//===----------------------------------------------------------------------===//
#include "metac/Dialect/MetaDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include <cmath>
#include <functional>

using namespace mlir;
using namespace metac::meta;

/// The value of a splat f32 constant, if `attr` is one.
static std::optional<float> splatValue(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat() || !dense.getElementType().isF32())
    return std::nullopt;
  return dense.getSplatValue<float>();
}

static bool isSplatOf(Attribute attr, float v) {
  std::optional<float> s = splatValue(attr);
  return s && *s == v;
}

static Attribute splat(Type type, float v) {
  auto t = cast<RankedTensorType>(type);
  return DenseElementsAttr::get(t, FloatAttr::get(t.getElementType(), v));
}

static OpFoldResult foldBinary(Operation *op, Attribute lhs, Attribute rhs,
                               function_ref<float(float, float)> fn) {
  std::optional<float> a = splatValue(lhs), b = splatValue(rhs);
  if (a && b)
    return splat(op->getResult(0).getType(), fn(*a, *b));
  return {};
}

static OpFoldResult foldUnary(Operation *op, Attribute input,
                              function_ref<float(float)> fn) {
  if (std::optional<float> a = splatValue(input))
    return splat(op->getResult(0).getType(), fn(*a));
  return {};
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 0.0f))
    return getLhs();
  if (isSplatOf(adaptor.getLhs(), 0.0f))
    return getRhs();
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 0.0f))
    return getLhs();
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1.0f))
    return getLhs();
  if (isSplatOf(adaptor.getLhs(), 1.0f))
    return getRhs();
  if (isSplatOf(adaptor.getLhs(), 0.0f) || isSplatOf(adaptor.getRhs(), 0.0f))
    return splat(getType(), 0.0f);
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1.0f))
    return getLhs();
  if (isSplatOf(adaptor.getLhs(), 0.0f))
    return splat(getType(), 0.0f);
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a / b; });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a >= b ? a : b; });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](float a, float b) { return a <= b ? a : b; });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return foldUnary(*this, adaptor.getInput(), [](float x) { return -x; });
}

#define METAC_UNARY_FOLD(OP, EXPR)                                             \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary(*this, adaptor.getInput(), [](float x) { return EXPR; }); \
  }
METAC_UNARY_FOLD(SinOp, std::sin(x))
METAC_UNARY_FOLD(CosOp, std::cos(x))
METAC_UNARY_FOLD(ExpOp, std::exp(x))
METAC_UNARY_FOLD(LogOp, std::log(x))
METAC_UNARY_FOLD(TanhOp, std::tanh(x))
METAC_UNARY_FOLD(SigmoidOp, 1.0f / (1.0f + std::exp(-x)))
METAC_UNARY_FOLD(ReluOp, x > 0.0f ? x : 0.0f)
METAC_UNARY_FOLD(SqrtOp, std::sqrt(x))
METAC_UNARY_FOLD(AbsOp, std::fabs(x))
METAC_UNARY_FOLD(SquareOp, x *x)
METAC_UNARY_FOLD(SignOp, float((x > 0.0f) - (x < 0.0f)))
METAC_UNARY_FOLD(StopGradientOp, x)
#undef METAC_UNARY_FOLD

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  if (getTrueValue() == getFalseValue())
    return getTrueValue();
  if (auto cond = dyn_cast_or_null<DenseElementsAttr>(adaptor.getCond()))
    if (cond.isSplat())
      return cond.getSplatValue<bool>() ? getTrueValue() : getFalseValue();
  if (isSplatOf(adaptor.getTrueValue(), 0.0f) &&
      isSplatOf(adaptor.getFalseValue(), 0.0f))
    return splat(getType(), 0.0f);
  return {};
}

OpFoldResult MatmulOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getLhs(), 0.0f) || isSplatOf(adaptor.getRhs(), 0.0f))
    return splat(getType(), 0.0f);
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  if (llvm::equal(getPermutation(),
                  llvm::seq<int64_t>(0, getPermutation().size())))
    return getInput();
  // transpose(transpose(x, p), q) == x when q undoes p.
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> p = inner.getPermutation(), q = getPermutation();
    bool identity = true;
    for (size_t i = 0; i < q.size(); ++i)
      identity &= p[q[i]] == (int64_t)i;
    if (identity)
      return inner.getInput();
  }
  return foldUnary(*this, adaptor.getInput(), [](float x) { return x; });
}

namespace {
/// transpose(matmul(a, transpose(x))) -> matmul(x, transpose(a)): the
/// backward pass of a dense layer computes (W X^T)^T this way. As written it
/// is a narrow product (n = the batch) of dot products and a transposed read
/// of its result; rewritten it is a row-update product over the layer's
/// width and a transpose of W, which -metac-vectorize-transpose does in
/// register tiles. The same products of the same terms, summed over k in
/// another order.
struct TransposeOfProduct : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto swapsTwo = [](TransposeOp t) {
      return t && llvm::equal(t.getPermutation(), ArrayRef<int64_t>{1, 0});
    };
    auto product = op.getInput().getDefiningOp<MatmulOp>();
    if (!swapsTwo(op) || !product || !product->hasOneUse())
      return failure();
    auto rhs = product.getRhs().getDefiningOp<TransposeOp>();
    if (!swapsTwo(rhs))
      return failure();
    Value lhs = product.getLhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    Value lhsT = rewriter.create<TransposeOp>(
        op.getLoc(),
        RankedTensorType::get({lhsType.getDimSize(1), lhsType.getDimSize(0)},
                              lhsType.getElementType()),
        lhs, rewriter.getDenseI64ArrayAttr({1, 0}));
    rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getType(), rhs.getInput(),
                                          lhsT);
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<TransposeOfProduct>(context);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return foldUnary(*this, adaptor.getInput(), [](float x) { return x; });
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldUnary(*this, adaptor.getInput(), [](float x) { return x; });
}

OpFoldResult ReduceSumOp::fold(FoldAdaptor adaptor) {
  if (getAxes().empty())
    return getInput();
  auto in = cast<RankedTensorType>(getInput().getType());
  float count = float(in.getNumElements()) /
                float(std::max<int64_t>(1, getType().getNumElements()));
  return foldUnary(*this, adaptor.getInput(),
                   [count](float x) { return x * count; });
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldUnary(*this, adaptor.getInput(), [](float x) { return x; });
}

OpFoldResult PadOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (isSplatOf(adaptor.getInput(), 0.0f))
    return splat(getType(), 0.0f);
  return {};
}

OpFoldResult ReduceMaxOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(), [](float x) { return x; });
}

// The convolution and pooling ops are linear in their cotangent-like
// operand, so a zero there (reverse mode's unused paths) gives zero.
static OpFoldResult foldLinearInZero(Operation *op, Attribute linear) {
  if (isSplatOf(linear, 0.0f))
    return splat(op->getResult(0).getType(), 0.0f);
  return {};
}

OpFoldResult Conv2DOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldLinearInZero(*this, adaptor.getInput()))
    return r;
  return foldLinearInZero(*this, adaptor.getFilter());
}

OpFoldResult Conv2DInputGradOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldLinearInZero(*this, adaptor.getCotangent()))
    return r;
  return foldLinearInZero(*this, adaptor.getFilter());
}

OpFoldResult Conv2DFilterGradOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldLinearInZero(*this, adaptor.getInput()))
    return r;
  return foldLinearInZero(*this, adaptor.getCotangent());
}

OpFoldResult MaxPoolGatherOp::fold(FoldAdaptor adaptor) {
  return foldLinearInZero(*this, adaptor.getValues());
}

OpFoldResult MaxPoolScatterOp::fold(FoldAdaptor adaptor) {
  return foldLinearInZero(*this, adaptor.getCotangent());
}
