//===- MLIRGen.h - From the AST to the meta dialect -------------*- C++ -*-===//
//
// MLIR generation is also semantic analysis: names, types and static shapes
// are checked while the program is turned into kernels, and every problem is
// reported through the DiagnosticEngine at the token that caused it.
//
// The module holds one function per kernel of runtime/include/metac/abi.h
// (tasks' samplers, the meta-gradient, the adaptation, the evaluation), each
// marked `metac.kernel`, plus the descriptor text (`metac.program`) and the
// kernel order (`metac.kernels`) as module attributes.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_MLIRGEN_MLIRGEN_H
#define METAC_MLIRGEN_MLIRGEN_H

#include "metac/Frontend/AST.h"
#include "metac/Frontend/Diagnostics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace metac {

/// What the driver needs to know about the compiled program besides its IR.
struct ProgramInfo {
  struct Parameter {
    std::string name; ///< "dense1.w", or "alpha.dense1.w" for meta ones.
    std::vector<int64_t> shape;
    bool isMeta = false;
    llvm::SMLoc declLoc; ///< The `dense` call, `param` or `meta` item.
  };
  std::string learnerName;
  std::vector<Parameter> parameters; ///< In kernel-argument order.
  std::vector<std::string> dataFields;
  std::string metaGradKernel; ///< Symbol of the training meta_grad kernel.
  int64_t supportSize = 0, querySize = 0, metaBatch = 0;
  /// The tasks come from a built-in image source (glyphs or omniglot): the
  /// executable needs the runtime's data layer.
  bool usesImages = false;
  /// The tasks are an environment with a physics simulator: the executable
  /// needs the runtime's simulator layer (MuJoCo).
  bool usesSimulator = false;
  /// Environment programs: episodes per rollout and their horizon (0 for
  /// other programs), and TRPO's conjugate-gradient iterations (0 without
  /// TRPO). A meta-iteration's cost depends on them.
  int64_t episodes = 0, horizon = 0, trpoCgIters = 0;
};

/// Returns null (after reporting errors) if the program is invalid.
mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(mlir::MLIRContext &context,
                                               const Program &program,
                                               DiagnosticEngine &diags,
                                               ProgramInfo &info);

} // namespace metac

#endif // METAC_MLIRGEN_MLIRGEN_H
