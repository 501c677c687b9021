//===- Pipeline.h - From the meta dialect to a native object ----*- C++ -*-===//
//
//   meta (with meta.grad)
//     | -meta-autodiff, -canonicalize, -cse (buildDifferentiationPipeline)
//   meta (plain ops)
//     | -meta-lower-to-linalg ... -metac-emit-runtime-interface
//     |                                            (buildLoweringPipeline)
//   LLVM dialect
//     | translateToOptimizedLLVMIR                 (O0-O3, host CPU)
//   LLVM IR -> object files (emitObjectFiles, in parallel parts)
//           -> executable (linkProgram)
//
//===----------------------------------------------------------------------===//
#ifndef METAC_CODEGEN_PIPELINE_H
#define METAC_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include <memory>
#include <string>

namespace mlir {
class DialectRegistry;
}

namespace metac {

/// Registers the dialects every metac tool reads and writes.
void registerMetacDialects(mlir::DialectRegistry &registry);

/// Registers metac's passes and the upstream passes the pipelines use, so
/// meta-opt can run any stage by name.
void registerPipelinePasses();

/// Expands meta.grad and simplifies what it produced.
void buildDifferentiationPipeline(mlir::OpPassManager &pm);

/// meta dialect (no meta.grad left) to LLVM dialect with the runtime ABI.
mlir::LogicalResult buildLoweringPipeline(mlir::OpPassManager &pm);

/// Translates an LLVM-dialect module and optimises it for the host CPU.
std::unique_ptr<llvm::Module>
translateToOptimizedLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                           unsigned optLevel, std::string &error);

/// Translates an LLVM-dialect module, optimises it for the host CPU and
/// writes it as one object file per path: with several paths the module is
/// split into that many parts, compiled in parallel (each part on a thread).
bool emitObjectFiles(mlir::ModuleOp module, unsigned optLevel,
                     llvm::ArrayRef<std::string> paths, std::string &error);

/// The optional runtime layer an executable links besides the core.
enum class RuntimeLayer {
  None,
  /// The tasks come from a built-in image source: the data layer
  /// (libmetac_data, FreeType, libpng).
  Images,
  /// The environment has a physics simulator: libmetac_sim and MuJoCo.
  Simulator
};

/// Links objects with the runtime into an executable, or a shared library
/// when `shared` is set (no main(); the embedding API of metac/metac.h).
bool linkProgram(llvm::ArrayRef<std::string> objectPaths,
                 llvm::StringRef outputPath, bool shared, RuntimeLayer layer,
                 std::string &error);

} // namespace metac

#endif // METAC_CODEGEN_PIPELINE_H
