//===- MetaDialect.h - The meta dialect -------------------------*- C++ -*-===//
#ifndef METAC_DIALECT_METADIALECT_H
#define METAC_DIALECT_METADIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "metac/Dialect/DerivativeInterface.h.inc"
#include "metac/Dialect/MetaOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "metac/Dialect/MetaOps.h.inc"

#endif // METAC_DIALECT_METADIALECT_H
