//===- Passes.h - metac's passes --------------------------------*- C++ -*-===//
#ifndef METAC_TRANSFORMS_PASSES_H
#define METAC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

#include "metac/Dialect/MetaDialect.h"

namespace metac {
#define GEN_PASS_DECL
#include "metac/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

#endif // METAC_TRANSFORMS_PASSES_H
