//===- Pipeline.h - From the meta dialect to a native object ----*- C++ -*-===//
//
//   meta (with meta.grad)
//     | -meta-autodiff, -canonicalize, -cse (buildDifferentiationPipeline)
//   meta (plain ops)
//     | -meta-lower-to-linalg ... -metac-approximate-math
//     |                                            (buildLoweringPipeline)
//   loops over buffers
//     | partitionModule: one module per core, each on a thread of its own:
//     | -convert-vector-to-llvm ... -canonicalize (buildLLVMConversionPipeline)
//   LLVM dialect
//     | emitObjectFile                       (O0-O3, host CPU or --cpu)
//   object files -> executable (linkProgram)
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

/// meta dialect (no meta.grad left) to loops over buffers: kernels with the
/// runtime's calling convention, their ops outlined and buffers planned.
mlir::LogicalResult buildLoweringPipeline(mlir::OpPassManager &pm);

/// Loops over buffers to the LLVM dialect; with `runtimeInterface`, also
/// emits the runtime's entry points and kernel table (in the one part that
/// holds the kernels).
mlir::LogicalResult buildLLVMConversionPipeline(mlir::OpPassManager &pm,
                                                bool runtimeInterface);

/// Splits a module that buildLoweringPipeline produced into at most `count`
/// modules, which convert to LLVM and compile independently and link into
/// one program. The first keeps the kernels (and the module's attributes);
/// the functions they call are spread over all parts by size. A function
/// called from another part is renamed `__metac_<name>` with external
/// linkage (hidden once in LLVM IR, see emitObjectFile) and declared where
/// it is called. Returns the module itself, alone, if it holds anything but
/// functions and private globals.
llvm::SmallVector<mlir::OwningOpRef<mlir::ModuleOp>>
partitionModule(mlir::OwningOpRef<mlir::ModuleOp> module, unsigned count);

/// Registers what translation to LLVM IR needs in the context. Call it
/// before translating modules of the context on several threads.
void prepareTranslation(mlir::MLIRContext &context);

/// Checks that `cpu` can be compiled for: "native" (the host CPU and all of
/// its features) or a CPU name LLVM knows for the host's architecture
/// (x86-64, x86-64-v3, skylake-avx512, ...).
bool checkTargetCpu(llvm::StringRef cpu, std::string &error);

/// Translates an LLVM-dialect module and optimises it for `cpu` (see
/// checkTargetCpu).
std::unique_ptr<llvm::Module>
translateToOptimizedLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                           unsigned optLevel, llvm::StringRef cpu,
                           std::string &error);

/// Translates an LLVM-dialect module, optimises it for `cpu` and writes it
/// as an object file. The part that defines metac_program() also gets the
/// `metac_target` record of the CPU. Thread-safe for different modules once
/// prepareTranslation has run.
bool emitObjectFile(mlir::ModuleOp module, unsigned optLevel,
                    llvm::StringRef cpu, llvm::StringRef path,
                    std::string &error);

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
/// Objects compiled for a `cpu` other than "native" get the runtime built
/// for the highest x86-64 level that CPU has.
bool linkProgram(llvm::ArrayRef<std::string> objectPaths,
                 llvm::StringRef outputPath, bool shared, RuntimeLayer layer,
                 llvm::StringRef cpu, std::string &error);

} // namespace metac

#endif // METAC_CODEGEN_PIPELINE_H
