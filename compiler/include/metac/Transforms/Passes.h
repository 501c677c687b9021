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
#include "mlir/Pass/Pass.h"

#include "metac/Dialect/MetaDialect.h"

namespace metac {
#define GEN_PASS_DECL
#include "metac/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "metac/Transforms/Passes.h.inc"

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
