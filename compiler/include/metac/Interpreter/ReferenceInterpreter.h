//===- ReferenceInterpreter.h - meta dialect in double precision -*- C++
//-*-===//
//
// Evaluates functions of the meta dialect (after -meta-autodiff) on double
// tensors, op by op, with the textbook definition of each op. It is the
// oracle of the derivative tests: finite differences need more precision
// than the f32 code metac generates, and an independent evaluator checks the
// lowering too.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_INTERPRETER_REFERENCEINTERPRETER_H
#define METAC_INTERPRETER_REFERENCEINTERPRETER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <string>
#include <vector>

namespace metac {

/// A dense row-major tensor of doubles (booleans are 0/1; keys are stored
/// as their bit pattern in `key`).
struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  uint64_t key = 0;

  int64_t size() const { return (int64_t)data.size(); }
};

/// Runs `fn` on `args`; on failure `error` says which op was not supported.
mlir::LogicalResult interpret(mlir::func::FuncOp fn,
                              const std::vector<RefTensor> &args,
                              std::vector<RefTensor> &results,
                              std::string &error);

} // namespace metac

#endif // METAC_INTERPRETER_REFERENCEINTERPRETER_H
