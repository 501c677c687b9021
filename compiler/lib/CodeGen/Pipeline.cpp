//===- Pipeline.cpp - The pass pipelines of metac -------------------------===//
#include "metac/CodeGen/Pipeline.h"
#include "metac/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void metac::registerMetacDialects(DialectRegistry &registry) {
  registry.insert<meta::MetaDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, bufferization::BufferizationDialect,
                  memref::MemRefDialect, scf::SCFDialect, affine::AffineDialect,
                  cf::ControlFlowDialect, LLVM::LLVMDialect>();
  // One-shot bufferization needs these external models.
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
}

void metac::registerPipelinePasses() {
  registerMetacPasses(); // Generated from Passes.td.
  registerTransformsPasses();
  registerConversionPasses();
  registerLinalgPasses();
  memref::registerMemRefPasses();
  bufferization::registerBufferizationPasses();
}

void metac::buildDifferentiationPipeline(OpPassManager &pm) {
  pm.addPass(createMetaAutodiff());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

// Written as text so that it reads like TOOLCHAIN.md's pipeline and can be
// replayed step by step with meta-opt. Bufferization sits between the two
// halves because it needs an option the textual form lacks in MLIR 19.
static const char *const kTensorPipeline =
    // Tensor level: lower, then per function (on all cores): simplify, fuse
    // elementwise chains, store masks as bytes, so that the loops reading
    // them vectorise, and give each op that writes into a shared fill or
    // tensor.empty its own (after the last CSE).
    "meta-lower-to-linalg,"
    "func.func(canonicalize,cse,metac-fuse-elementwise,canonicalize,"
    "metac-byte-masks,metac-duplicate-inits),"
    // Kernels take the runtime's buffers (destination passing).
    "metac-kernel-abi,"
    // Convolutions are runtime calls; nothing that canonicalises may run
    // between this and bufferization (see LowerToRuntimeCalls.cpp).
    "metac-lower-to-runtime-calls";
static const char *const kBufferPipeline =
    // Intermediates live in slots planned at compile time.
    "func.func(canonicalize,cse),metac-plan-buffers,"
    // Large kernels: one shared function per distinct op; long kernels cut
    // into parts.
    "metac-outline-ops,metac-split-kernels,"
    // Loops. Passes that need no module run per function, on all cores
    // (sinusoid MAML: lowering 1.4 -> 1.1 s wall, the same LLVM IR).
    "func.func(metac-vectorize-matmul,metac-vectorize-transpose,"
    "convert-linalg-to-loops,lower-affine,"
    "convert-scf-to-cf,"
    "expand-strided-metadata,lower-affine,"
    // Transcendentals as arithmetic, so that their loops vectorise.
    "metac-approximate-math)";
// Run on each part of a partitioned module (see Partition.cpp) on a thread
// of its own. The last canonicalisation leaves the kernel table's
// initialiser as built.
static const char *const kLLVMPipeline =
    "convert-vector-to-llvm,finalize-memref-to-llvm{use-aligned-alloc=1},"
    "func.func(convert-math-to-llvm),convert-math-to-libm,"
    "func.func(convert-arith-to-llvm),"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
    "convert-cf-to-llvm,llvm.func(convert-index-to-llvm),"
    "reconcile-unrealized-casts";

LogicalResult metac::buildLoweringPipeline(OpPassManager &pm) {
  if (failed(parsePassPipeline(kTensorPipeline, pm, llvm::errs())))
    return failure();
  // Copies into strided windows (the padding of an image, the spread
  // cotangent of a strided convolution) become linalg.copy, i.e. loops: a
  // memref.copy between non-contiguous buffers would call MLIR's C runner
  // library, which generated programs do not link. Contiguous copies stay
  // memref.copy, which becomes one llvm.memcpy: as loops, the 300 copies of
  // the sinusoid MAML kernels more than doubled LLVM's time (IndVarSimplify).
  bufferization::OneShotBufferizationOptions options;
  options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
    // The condition under which finalize-memref-to-llvm emits llvm.memcpy.
    auto contiguous = [](Value v) {
      auto type = dyn_cast<MemRefType>(v.getType());
      return type && (type.getLayout().isIdentity() ||
                      (type.hasStaticShape() && type.getNumElements() > 0 &&
                       memref::isStaticShapeAndContiguousRowMajor(type)));
    };
    if (contiguous(from) && contiguous(to))
      b.create<memref::CopyOp>(loc, from, to);
    else
      b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  // A kernel's results are computed in the runtime's output buffers
  // instead of copied there: each materialize_in_destination's tensor.empty
  // becomes the output (the sinusoid MAML meta-gradient bufferized with 7
  // such copies, one per gradient).
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createOneShotBufferizePass(options));
  return parsePassPipeline(kBufferPipeline, pm, llvm::errs());
}

LogicalResult metac::buildLLVMConversionPipeline(OpPassManager &pm,
                                                 bool runtimeInterface) {
  if (failed(parsePassPipeline(kLLVMPipeline, pm, llvm::errs())))
    return failure();
  if (runtimeInterface)
    pm.addPass(createMetacEmitRuntimeInterface());
  pm.addNestedPass<LLVM::LLVMFuncOp>(createCanonicalizerPass());
  return success();
}
