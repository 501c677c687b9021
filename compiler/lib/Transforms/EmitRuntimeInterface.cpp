//===- EmitRuntimeInterface.cpp - metac_program() and metac_kernels[] -----===//
//
// The last pass before translation to LLVM IR. It gives every kernel the
// uniform entry `void entry(void **args)` of runtime/include/metac/abi.h,
// collects the entries in the table `metac_kernels` (ids in the order of the
// module's `metac.kernels` attribute) and emits `metac_program()`, which
// returns the descriptor text of the module's `metac.program` attribute.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace metac {
#define GEN_PASS_DEF_METACEMITRUNTIMEINTERFACE
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;

namespace {

struct MetacEmitRuntimeInterfacePass
    : public metac::impl::MetacEmitRuntimeInterfaceBase<
          MetacEmitRuntimeInterfacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto names = module->getAttrOfType<ArrayAttr>("metac.kernels");
    auto program = module->getAttrOfType<StringAttr>("metac.program");
    if (!names || !program) {
      module.emitError("module lacks metac.kernels or metac.program");
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    Location loc = module.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto voidType = LLVM::LLVMVoidType::get(ctx);

    // One `void entry(void **args)` per kernel.
    SmallVector<LLVM::LLVMFuncOp> entries;
    for (Attribute nameAttr : names) {
      StringRef name = cast<StringAttr>(nameAttr).getValue();
      auto kernel = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
      if (!kernel) {
        module.emitError("kernel '") << name << "' was not lowered to LLVM";
        return signalPassFailure();
      }
      kernel.setLinkage(LLVM::Linkage::Internal);
      // Evaluation kernels run a few thousand times per run, and unroll
      // every evaluated inner step: optimising them for size instead of
      // speed cut the sinusoid example's compile time from 2.9 s to 1.8 s
      // and made its 1,200 evaluation calls take 0.27 s instead of 0.06 s.
      if (name.starts_with("eval_"))
        kernel->setAttr("passthrough",
                        b.getArrayAttr({b.getStringAttr("minsize"),
                                        b.getStringAttr("optsize"),
                                        b.getStringAttr("cold")}));
      // The runtime never passes overlapping buffers to one call (abi.h), so
      // LLVM may vectorise without run-time overlap checks.
      for (unsigned i = 0, e = kernel.getNumArguments(); i < e; ++i)
        kernel.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                          UnitAttr::get(ctx));
      auto entry = b.create<LLVM::LLVMFuncOp>(
          loc, ("metac_entry_" + name).str(),
          LLVM::LLVMFunctionType::get(voidType, {ptr}),
          LLVM::Linkage::Internal);
      OpBuilder eb = OpBuilder::atBlockEnd(entry.addEntryBlock(b));
      Value argv = entry.getArgument(0);
      SmallVector<Value> buffers;
      for (unsigned i = 0, e = kernel.getNumArguments(); i < e; ++i) {
        if (!isa<LLVM::LLVMPointerType>(kernel.getArgument(i).getType())) {
          kernel.emitError("kernel arguments must be bare pointers");
          return signalPassFailure();
        }
        Value slot = eb.create<LLVM::GEPOp>(loc, ptr, ptr, argv,
                                            ArrayRef<LLVM::GEPArg>{(int32_t)i});
        buffers.push_back(eb.create<LLVM::LoadOp>(loc, ptr, slot));
      }
      eb.create<LLVM::CallOp>(loc, kernel, buffers);
      eb.create<LLVM::ReturnOp>(loc, ValueRange{});
      entries.push_back(entry);
    }

    // const metac_kernel_fn metac_kernels[N]
    auto tableType = LLVM::LLVMArrayType::get(ptr, entries.size());
    auto table = b.create<LLVM::GlobalOp>(loc, tableType, /*isConstant=*/true,
                                          LLVM::Linkage::External,
                                          "metac_kernels", Attribute());
    {
      Block *init = b.createBlock(&table.getInitializerRegion());
      OpBuilder ib = OpBuilder::atBlockEnd(init);
      Value array = ib.create<LLVM::UndefOp>(loc, tableType);
      for (auto [i, entry] : llvm::enumerate(entries)) {
        Value address = ib.create<LLVM::AddressOfOp>(loc, entry);
        array = ib.create<LLVM::InsertValueOp>(loc, array, address,
                                               ArrayRef<int64_t>{(int64_t)i});
      }
      ib.create<LLVM::ReturnOp>(loc, array);
    }

    // const char *metac_program(void)
    b.setInsertionPointToEnd(module.getBody());
    std::string text = program.getValue().str();
    text.push_back('\0');
    auto textType =
        LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    auto textGlobal = b.create<LLVM::GlobalOp>(
        loc, textType, /*isConstant=*/true, LLVM::Linkage::Internal,
        "metac_program_text", b.getStringAttr(text));
    auto getter = b.create<LLVM::LLVMFuncOp>(
        loc, "metac_program", LLVM::LLVMFunctionType::get(ptr, {}),
        LLVM::Linkage::External);
    OpBuilder gb = OpBuilder::atBlockEnd(getter.addEntryBlock(b));
    gb.create<LLVM::ReturnOp>(
        loc, gb.create<LLVM::AddressOfOp>(loc, textGlobal).getResult());
  }
};

} // namespace
