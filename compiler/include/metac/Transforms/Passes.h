//===- Passes.h - metac's passes --------------------------------*- C++ -*-===//
#ifndef METAC_TRANSFORMS_PASSES_H
#define METAC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Pass/Pass.h"

#include "metac/Dialect/MetaDialect.h"

namespace metac {
#define GEN_PASS_DECL
#include "metac/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "metac/Transforms/Passes.h.inc"

/// The allocation (a slot, a kernel argument) a buffer is a view of.
inline mlir::Value rootAllocation(mlir::Value v) {
  while (mlir::Operation *def = v.getDefiningOp()) {
    if (auto view = llvm::dyn_cast<mlir::ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (llvm::isa<mlir::memref::CollapseShapeOp,
                       mlir::memref::ExpandShapeOp, mlir::memref::CastOp,
                       mlir::memref::ReinterpretCastOp>(def))
      v = def->getOperand(0);
    else
      break;
  }
  return v;
}

/// Whether a buffer can cross a call as a bare pointer (the kernels' calling
/// convention): static shape, strides and offset.
inline bool passableAsBarePointer(mlir::MemRefType type) {
  if (!type.hasStaticShape())
    return false;
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  if (mlir::failed(mlir::getStridesAndOffset(type, strides, offset)))
    return false;
  return !mlir::ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, mlir::ShapedType::isDynamic);
}

/// Whether a matrix product is computed by the runtime's Eigen GEMM
/// (metac-lower-to-runtime-calls) rather than by generated loops: products
/// large enough for blocking and packing to pay (on the MAML-RL policy,
/// [2000, 100] x [100, 100] ran at about 10 GFLOP/s as loops). Both
/// lowering passes ask this one predicate.
inline bool isRuntimeMatmul(meta::MatmulOp op) {
  auto lhs = llvm::cast<mlir::RankedTensorType>(op.getLhs().getType());
  int64_t m = lhs.getDimSize(0), k = lhs.getDimSize(1),
          n = op.getType().getDimSize(1);
  return m >= 8 && k >= 8 && n >= 8 && m * k * n >= 65536;
}
} // namespace metac

#endif // METAC_TRANSFORMS_PASSES_H
