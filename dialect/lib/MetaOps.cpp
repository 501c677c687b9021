//===- MetaOps.cpp - Verifiers and builders of the meta dialect -----------===//
//
// Every op checks the shape relation it promises, so a bug in MLIR generation
// or in a derivative rule is caught at the op that introduced it rather than
// as a crash in lowering.
//
//===----------------------------------------------------------------------===//
#include "metac/Dialect/MetaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace metac::meta;

#define GET_OP_CLASSES
#include "metac/Dialect/MetaOps.cpp.inc"

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

void ConstantOp::build(OpBuilder &builder, OperationState &state, Type type,
                       float value) {
  auto tensorType = cast<RankedTensorType>(type);
  build(builder, state,
        DenseElementsAttr::get(tensorType, builder.getF32FloatAttr(value)));
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  inferred.push_back(cast<TypedAttr>(adaptor.getValue()).getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getValue().getType());
  if (!type || !type.getElementType().isF32())
    return emitOpError("value must be a tensor of f32");
  return success();
}

//===----------------------------------------------------------------------===//
// CmpOp, SelectOp
//===----------------------------------------------------------------------===//

LogicalResult CmpOp::verify() {
  if (!llvm::is_contained({"lt", "le", "gt", "ge", "eq", "ne"}, getPredicate()))
    return emitOpError("unknown predicate '")
           << getPredicate() << "' (expected lt, le, gt, ge, eq or ne)";
  if (getLhs().getType() != getRhs().getType())
    return emitOpError("operands must have the same type");
  if (shapeOf(getLhs()) != shapeOf(getResult()))
    return emitOpError("result shape must match the operands'");
  return success();
}

LogicalResult SelectOp::verify() {
  if (getTrueValue().getType() != getResult().getType() ||
      getFalseValue().getType() != getResult().getType())
    return emitOpError("both values must have the result type");
  if (shapeOf(getCond()) != shapeOf(getResult()))
    return emitOpError("condition shape must match the result's");
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto a = shapeOf(getLhs()), b = shapeOf(getRhs()), r = shapeOf(getResult());
  if (a.size() != 2 || b.size() != 2 || r.size() != 2)
    return emitOpError("operands and result must be 2-D");
  if (a[1] != b[0])
    return emitOpError("contracting dimensions differ: ")
           << a[1] << " vs " << b[0];
  if (r[0] != a[0] || r[1] != b[1])
    return emitOpError("result must be ") << a[0] << "x" << b[1];
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp, ReshapeOp, BroadcastOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto in = shapeOf(getInput()), out = shapeOf(getResult());
  ArrayRef<int64_t> perm = getPermutation();
  if (perm.size() != in.size() || out.size() != in.size())
    return emitOpError("permutation must have one entry per dimension");
  SmallVector<bool> seen(in.size(), false);
  for (auto [i, p] : llvm::enumerate(perm)) {
    if (p < 0 || p >= (int64_t)in.size() || seen[p])
      return emitOpError("invalid permutation");
    seen[p] = true;
    if (out[i] != in[p])
      return emitOpError("result dimension ") << i << " must be " << in[p];
  }
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("element count changes from ")
           << in.getNumElements() << " to " << out.getNumElements();
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto in = shapeOf(getInput()), out = shapeOf(getResult());
  if (in.size() > out.size())
    return emitOpError("cannot broadcast to a lower rank");
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1 && in[i] != out[lead + i])
      return emitOpError("dimension ")
             << i << " of size " << in[i] << " cannot broadcast to "
             << out[lead + i];
  return success();
}

//===----------------------------------------------------------------------===//
// ReduceSumOp
//===----------------------------------------------------------------------===//

/// `out` is `in` without the dimensions listed (strictly increasing) in
/// `axes`: the shape relation of every reduction.
static LogicalResult verifyReduction(Operation *op, ArrayRef<int64_t> in,
                                     ArrayRef<int64_t> out,
                                     ArrayRef<int64_t> axes) {
  SmallVector<int64_t> expected;
  for (int64_t a : axes)
    if (a < 0 || a >= (int64_t)in.size())
      return op->emitOpError("axis ") << a << " out of range";
  for (int64_t a = 1; a < (int64_t)axes.size(); ++a)
    if (axes[a] <= axes[a - 1])
      return op->emitOpError("axes must be strictly increasing");
  for (auto [i, d] : llvm::enumerate(in))
    if (!llvm::is_contained(axes, (int64_t)i))
      expected.push_back(d);
  if (ArrayRef<int64_t>(expected) != out)
    return op->emitOpError(
        "result shape does not match the reduced input shape");
  return success();
}

LogicalResult ReduceSumOp::verify() {
  return verifyReduction(*this, shapeOf(getInput()), shapeOf(getResult()),
                         getAxes());
}

//===----------------------------------------------------------------------===//
// ReduceMaxOp
//===----------------------------------------------------------------------===//

LogicalResult ReduceMaxOp::verify() {
  // The maximum of no elements has no value.
  if (getAxes().empty())
    return emitOpError("needs at least one axis");
  return verifyReduction(*this, shapeOf(getInput()), shapeOf(getResult()),
                         getAxes());
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

ArrayRef<int64_t> Conv2DOp::getImageShape() { return shapeOf(getInput()); }
ArrayRef<int64_t> Conv2DOp::getFilterShape() { return shapeOf(getFilter()); }
ArrayRef<int64_t> Conv2DOp::getOutputShape() { return shapeOf(getResult()); }
ArrayRef<int64_t> Conv2DInputGradOp::getImageShape() {
  return shapeOf(getResult());
}
ArrayRef<int64_t> Conv2DInputGradOp::getFilterShape() {
  return shapeOf(getFilter());
}
ArrayRef<int64_t> Conv2DInputGradOp::getOutputShape() {
  return shapeOf(getCotangent());
}
ArrayRef<int64_t> Conv2DFilterGradOp::getImageShape() {
  return shapeOf(getInput());
}
ArrayRef<int64_t> Conv2DFilterGradOp::getFilterShape() {
  return shapeOf(getResult());
}
ArrayRef<int64_t> Conv2DFilterGradOp::getOutputShape() {
  return shapeOf(getCotangent());
}

/// The shape relation all three convolution ops share.
template <typename ConvOp> static LogicalResult verifyConv(ConvOp op) {
  ArrayRef<int64_t> x = op.getImageShape(), w = op.getFilterShape(),
                    y = op.getOutputShape();
  ArrayRef<int64_t> strides = op.getStrides(), padding = op.getPadding();
  if (x.size() != 4 || w.size() != 4 || y.size() != 4)
    return op.emitOpError("image, filter and output must be 4-D "
                          "([N,H,W,C], [KH,KW,C,F], [N,OH,OW,F])");
  if (strides.size() != 2 || padding.size() != 2)
    return op.emitOpError("strides and padding need two entries (H, W)");
  if (x[0] != y[0])
    return op.emitOpError("image and output batch sizes differ");
  if (x[3] != w[2])
    return op.emitOpError("image has ")
           << x[3] << " channels but the filter expects " << w[2];
  if (w[3] != y[3])
    return op.emitOpError("filter has ")
           << w[3] << " output channels but the output has " << y[3];
  for (int d = 0; d < 2; ++d) {
    if (strides[d] < 1)
      return op.emitOpError("strides must be positive");
    if (padding[d] < 0 || padding[d] >= w[d])
      return op.emitOpError("padding must be in [0, kernel size)");
    int64_t span = x[1 + d] + 2 * padding[d] - w[d];
    if (span < 0)
      return op.emitOpError("kernel larger than the padded image");
    if (y[1 + d] != span / strides[d] + 1)
      return op.emitOpError("output size ")
             << y[1 + d] << " in dimension " << 1 + d << " should be "
             << span / strides[d] + 1;
  }
  return success();
}

LogicalResult Conv2DOp::verify() { return verifyConv(*this); }
LogicalResult Conv2DInputGradOp::verify() { return verifyConv(*this); }
LogicalResult Conv2DFilterGradOp::verify() { return verifyConv(*this); }

//===----------------------------------------------------------------------===//
// Max pooling
//===----------------------------------------------------------------------===//

/// `image` [N,H,W,C] pooled by `window` gives `pooled` [N,H/kh,W/kw,C].
static LogicalResult verifyPool(Operation *op, ArrayRef<int64_t> image,
                                ArrayRef<int64_t> pooled,
                                ArrayRef<int64_t> window) {
  if (window.size() != 2 || window[0] < 1 || window[1] < 1)
    return op->emitOpError("window must be two positive sizes");
  if (image.size() != 4 || pooled.size() != 4)
    return op->emitOpError("image and pooled tensors must be 4-D (NHWC)");
  if (image[1] < window[0] || image[2] < window[1])
    return op->emitOpError("window larger than the image");
  SmallVector<int64_t> expected{image[0], image[1] / window[0],
                                image[2] / window[1], image[3]};
  if (ArrayRef<int64_t>(expected) != pooled)
    return op->emitOpError("pooled shape must be [N, H / ")
           << window[0] << ", W / " << window[1] << ", C]";
  return success();
}

LogicalResult MaxPoolGatherOp::verify() {
  return verifyPool(*this, shapeOf(getInput()), shapeOf(getResult()),
                    getWindow());
}

LogicalResult MaxPoolScatterOp::verify() {
  return verifyPool(*this, shapeOf(getInput()), shapeOf(getCotangent()),
                    getWindow());
}

//===----------------------------------------------------------------------===//
// SliceOp, PadOp
//===----------------------------------------------------------------------===//

/// `small` placed at `offsets` must lie inside `large`.
static LogicalResult verifyWindow(Operation *op, ArrayRef<int64_t> small,
                                  ArrayRef<int64_t> large,
                                  ArrayRef<int64_t> offsets) {
  if (small.size() != large.size() || offsets.size() != large.size())
    return op->emitOpError("operand, result and offsets must have one rank");
  for (size_t i = 0; i < large.size(); ++i)
    if (offsets[i] < 0 || offsets[i] + small[i] > large[i])
      return op->emitOpError("window out of bounds in dimension ") << i;
  return success();
}

LogicalResult SliceOp::verify() {
  return verifyWindow(*this, shapeOf(getResult()), shapeOf(getInput()),
                      getOffsets());
}

LogicalResult PadOp::verify() {
  return verifyWindow(*this, shapeOf(getInput()), shapeOf(getResult()),
                      getOffsets());
}

//===----------------------------------------------------------------------===//
// GradOp
//===----------------------------------------------------------------------===//

LogicalResult GradOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getArgs().size())
    return emitOpError("region must take one argument per operand");
  for (auto [operand, arg, result] :
       llvm::zip(getArgs(), body.getArguments(), getGradients())) {
    if (operand.getType() != arg.getType())
      return emitOpError("region argument types must match the operands");
    if (operand.getType() != result.getType())
      return emitOpError("each gradient must have its operand's type");
  }
  if (getGradients().size() != getArgs().size())
    return emitOpError("one gradient per operand expected");
  if (!isa<YieldOp>(body.getTerminator()))
    return emitOpError("region must end in meta.yield");
  return success();
}
