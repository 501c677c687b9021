//===- KernelABI.cpp - Destination-passing signatures for kernels ---------===//
//
// MLIR generation writes kernels as tensor functions:
//   func.func @k(%p: tensor<1x40xf32>, ...) -> (tensor<f32>, ...)
// The runtime owns every buffer and passes them as one pointer array, so a
// kernel becomes
//   func.func @k(%p: memref<1x40xf32>, ..., %out0: memref<f32>, ...)
// reading its inputs through `bufferization.to_tensor restrict` and writing
// each result with `bufferization.materialize_in_destination`. `restrict`
// promises the runtime never aliases two buffers of one call, which is what
// lets bufferization write results in place.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace metac {
#define GEN_PASS_DEF_METACKERNELABI
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;

namespace {

MemRefType bufferTypeOf(Type tensor) {
  auto t = cast<RankedTensorType>(tensor);
  return MemRefType::get(t.getShape(), t.getElementType());
}

LogicalResult convertKernel(func::FuncOp kernel) {
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("kernel must be a single block");
  Block &entry = kernel.getBody().front();
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  OpBuilder b(kernel.getContext());
  Location loc = kernel.getLoc();

  // Inputs: the block argument becomes a memref, read as a tensor.
  b.setInsertionPointToStart(&entry);
  SmallVector<Type> argTypes;
  for (BlockArgument arg : entry.getArguments()) {
    auto tensorType = dyn_cast<RankedTensorType>(arg.getType());
    if (!tensorType || !tensorType.hasStaticShape())
      return kernel.emitError("kernel arguments must be static tensors");
    arg.setType(bufferTypeOf(tensorType));
    auto read = b.create<bufferization::ToTensorOp>(loc, tensorType, arg,
                                                    /*restrict=*/true,
                                                    /*writable=*/false);
    arg.replaceAllUsesExcept(read, read);
    argTypes.push_back(arg.getType());
  }

  // Outputs: one buffer per result, written in place.
  b.setInsertionPoint(ret);
  for (Value result : ret.getOperands()) {
    BlockArgument out = entry.addArgument(bufferTypeOf(result.getType()), loc);
    argTypes.push_back(out.getType());
    auto write = b.create<bufferization::MaterializeInDestinationOp>(
        loc, TypeRange{}, result, out);
    write.setRestrict(true);
    write.setWritable(true);
  }
  b.create<func::ReturnOp>(loc);
  ret.erase();
  kernel.setFunctionType(b.getFunctionType(argTypes, {}));
  return success();
}

struct MetacKernelABIPass
    : public metac::impl::MetacKernelABIBase<MetacKernelABIPass> {
  void runOnOperation() override {
    for (auto kernel : getOperation().getOps<func::FuncOp>())
      if (kernel->hasAttr("metac.kernel") && failed(convertKernel(kernel)))
        return signalPassFailure();
  }
};

} // namespace
