//===- LowerToRuntimeCalls.cpp - Ops the runtime computes -----------------===//
//
// The convolutions are not lowered to loops: as seven-deep loop nests they
// ran at a few percent of the machine's peak (the MAML Omniglot network
// trained at 0.2 iterations/s). The runtime computes them instead as im2col
// plus Eigen's blocked GEMM (runtime/lib/Builtins.cpp), the way XLA's CPU
// backend hands convolutions to Eigen. Large matrix products (the ones
// isRuntimeMatmul selects; LowerMetaToLinalg leaves them alone) call that
// GEMM directly:
//
//   %y = meta.conv2d %x, %w ...
// becomes
//   %out = memref.alloc() : memref<NxOHxOWxFxf32>
//   %xm  = bufferization.to_memref %x read_only
//   func.call @metac_conv2d(view(%xm), view(%wm), view(%out), n, h, ...)
//   %y   = bufferization.to_tensor %out restrict writable
//
// where view() is a one-element memref.reinterpret_cast, which the
// bare-pointer calling convention passes as a `float *`.
//
// The pass runs right before One-Shot Bufferize (only empty-tensor
// elimination, which folds nothing, comes between). Run earlier,
// canonicalisation folds `to_memref(to_tensor(%out))` into `%out` when one
// convolution feeds another, the analysis no longer sees the second call read
// the first's result, and an elementwise op may overwrite that buffer in place
// first.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"

namespace metac {
#define GEN_PASS_DEF_METACLOWERTORUNTIMECALLS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;
namespace meta = metac::meta;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The address of `t`'s buffer as a call argument: its future memref
/// (identity layout; bufferization copies a strided one) viewed as a
/// one-element memref, which the bare-pointer calling convention passes as
/// a plain `float *`. Passing the memref itself, not an integer address,
/// keeps the call a use of the buffer, so metac-plan-buffers cannot hand its
/// slot to another buffer before the call has run.
Value bufferArgument(OpBuilder &b, Location loc, Value t, bool readOnly) {
  Value m = t;
  if (auto type = dyn_cast<RankedTensorType>(t.getType()))
    m = b.create<bufferization::ToMemrefOp>(
        loc, MemRefType::get(type.getShape(), type.getElementType()), t,
        readOnly);
  auto memType = cast<MemRefType>(m.getType());
  return b.create<memref::ReinterpretCastOp>(
      loc, MemRefType::get({1}, memType.getElementType()), m, /*offset=*/0,
      /*sizes=*/ArrayRef<int64_t>{1}, /*strides=*/ArrayRef<int64_t>{1});
}

/// Calls the runtime function `name` (runtime/include/metac/runtime/
/// Builtins.h) with buffers lhs, rhs and a fresh result buffer, then `sizes`
/// as i64 arguments; returns the result as a tensor.
Value buildRuntimeCall(OpBuilder &b, Location loc, StringRef name, Value lhs,
                       Value rhs, RankedTensorType resultType,
                       ArrayRef<int64_t> sizes) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  Type ptr = MemRefType::get({1}, b.getF32Type());
  Type i64 = b.getI64Type();
  SmallVector<Type> argTypes{ptr, ptr, ptr};
  argTypes.append(sizes.size(), i64);
  if (!module.lookupSymbol<func::FuncOp>(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto decl =
        b.create<func::FuncOp>(loc, name, b.getFunctionType(argTypes, {}));
    decl.setPrivate();
  }
  // The result buffer first: its live range then covers the inputs' views.
  auto resultMem =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  Value result = b.create<memref::AllocOp>(loc, resultMem);
  SmallVector<Value> args{bufferArgument(b, loc, lhs, /*readOnly=*/true),
                          bufferArgument(b, loc, rhs, /*readOnly=*/true),
                          bufferArgument(b, loc, result, false)};
  for (int64_t v : sizes)
    args.push_back(b.create<arith::ConstantIntOp>(loc, v, 64));
  b.create<func::CallOp>(loc, name, TypeRange{}, args);
  return b.create<bufferization::ToTensorOp>(loc, resultType, result,
                                             /*restrict=*/true,
                                             /*writable=*/true);
}

/// The convolution's shape arguments, in Builtins.h's order.
Value buildConvCall(OpBuilder &b, Location loc, StringRef name, Value lhs,
                    Value rhs, RankedTensorType resultType,
                    ArrayRef<int64_t> image, ArrayRef<int64_t> filter,
                    ArrayRef<int64_t> output, ArrayRef<int64_t> strides,
                    ArrayRef<int64_t> padding) {
  return buildRuntimeCall(b, loc, name, lhs, rhs, resultType,
                          {image[0], image[1], image[2], image[3], filter[0],
                           filter[1], filter[3], output[1], output[2],
                           strides[0], strides[1], padding[0], padding[1]});
}

Value buildMatmul(OpBuilder &b, Location loc, meta::MatmulOp op) {
  ArrayRef<int64_t> lhs = tensorType(op.getLhs()).getShape();
  return buildRuntimeCall(b, loc, "metac_matmul", op.getLhs(), op.getRhs(),
                          op.getType(),
                          {lhs[0], lhs[1], op.getType().getDimSize(1)});
}

Value buildConv2D(OpBuilder &b, Location loc, meta::Conv2DOp op) {
  return buildConvCall(b, loc, "metac_conv2d", op.getInput(), op.getFilter(),
                       op.getType(), tensorType(op.getInput()).getShape(),
                       tensorType(op.getFilter()).getShape(),
                       op.getType().getShape(), op.getStrides(),
                       op.getPadding());
}

Value buildConv2DFilterGrad(OpBuilder &b, Location loc,
                            meta::Conv2DFilterGradOp op) {
  return buildConvCall(
      b, loc, "metac_conv2d_filter_grad", op.getInput(), op.getCotangent(),
      op.getType(), tensorType(op.getInput()).getShape(),
      op.getType().getShape(), tensorType(op.getCotangent()).getShape(),
      op.getStrides(), op.getPadding());
}

Value buildConv2DInputGrad(OpBuilder &b, Location loc,
                           meta::Conv2DInputGradOp op) {
  return buildConvCall(b, loc, "metac_conv2d_input_grad", op.getCotangent(),
                       op.getFilter(), op.getType(), op.getType().getShape(),
                       tensorType(op.getFilter()).getShape(),
                       tensorType(op.getCotangent()).getShape(),
                       op.getStrides(), op.getPadding());
}

struct MetacLowerToRuntimeCallsPass
    : public metac::impl::MetacLowerToRuntimeCallsBase<
          MetacLowerToRuntimeCallsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      auto matmul = dyn_cast<meta::MatmulOp>(op);
      if (isa<meta::Conv2DOp, meta::Conv2DInputGradOp,
              meta::Conv2DFilterGradOp>(op) ||
          (matmul && isRuntimeMatmul(matmul)))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      Value call =
          TypeSwitch<Operation *, Value>(op)
              .Case([&](meta::Conv2DOp c) { return buildConv2D(b, loc, c); })
              .Case([&](meta::MatmulOp m) { return buildMatmul(b, loc, m); })
              .Case([&](meta::Conv2DInputGradOp c) {
                return buildConv2DInputGrad(b, loc, c);
              })
              .Case([&](meta::Conv2DFilterGradOp c) {
                return buildConv2DFilterGrad(b, loc, c);
              });
      op->getResult(0).replaceAllUsesWith(call);
      op->erase();
    }
  }
};

} // namespace
