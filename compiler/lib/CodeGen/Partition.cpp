//===- Partition.cpp - A lowered program as independent modules ----------===//
//
// From loops over buffers to an object file, every step but one works on a
// function at a time, yet the LLVM-dialect conversions run on the whole
// module on one thread, and LLVM compiles a module on one thread: on two
// cores, half of the compile time of the large examples was one core idle.
// Cut into one module per core at this point, the program is converted,
// translated, optimised and emitted on all cores, and the parts meet again
// in the linker.
//
// Functions are spread by size, the largest first, each to the lightest
// part; the kernels stay together in the first part, whose module keeps
// the attributes from which the runtime interface is emitted. A function
// called from another part than its own gets a name no runtime symbol has,
// external linkage, and a declaration in every other part.
//
//===----------------------------------------------------------------------===//
#include "metac/CodeGen/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

llvm::SmallVector<OwningOpRef<ModuleOp>>
metac::partitionModule(OwningOpRef<ModuleOp> module, unsigned count) {
  llvm::SmallVector<OwningOpRef<ModuleOp>> parts;
  auto alone = [&] {
    parts.push_back(std::move(module));
    return std::move(parts);
  };
  if (count < 2)
    return alone();
  // Functions, and constants that every part may keep a private copy of.
  for (Operation &op : *module->getBody()) {
    auto global = dyn_cast<memref::GlobalOp>(op);
    if (global ? !global.isPrivate() : !isa<func::FuncOp>(op))
      return alone();
  }

  SmallVector<func::FuncOp> functions;
  SmallVector<uint64_t> load(count, 0);
  llvm::DenseMap<Operation *, unsigned> partOf;
  SmallVector<std::pair<uint64_t, func::FuncOp>> movable;
  for (auto fn : module->getOps<func::FuncOp>()) {
    functions.push_back(fn);
    if (fn.isDeclaration())
      continue;
    uint64_t size = 0;
    fn.walk([&](Operation *) { ++size; });
    if (fn->hasAttr("metac.kernel") || !fn.isPrivate()) {
      partOf[fn] = 0;
      load[0] += size;
    } else {
      movable.push_back({size, fn});
    }
  }
  llvm::stable_sort(movable,
                    [](auto &a, auto &b) { return a.first > b.first; });
  for (auto [size, fn] : movable) {
    unsigned lightest =
        std::min_element(load.begin(), load.end()) - load.begin();
    partOf[fn] = lightest;
    load[lightest] += size;
  }

  // A function called from another part: a name that cannot meet a runtime
  // symbol, and external linkage. The others stay internal to their part.
  SymbolTable symbols(*module);
  llvm::DenseSet<Operation *> shared;
  // One walk over all symbol uses (asking per function walked the module
  // once per function: 1.9 s for the 20-way Omniglot example).
  auto uses = SymbolTable::getSymbolUses(&module->getBodyRegion());
  if (!uses)
    return alone();
  for (const SymbolTable::SymbolUse &use : *uses) {
    Operation *callee =
        symbols.lookup(use.getSymbolRef().getRootReference().getValue());
    auto it = partOf.find(callee);
    if (!callee || it == partOf.end())
      continue;
    auto caller = use.getUser()->getParentOfType<func::FuncOp>();
    if (!caller || partOf.lookup(caller) != it->second)
      shared.insert(callee);
  }
  // Renamed in one pass over the uses (SymbolTable::rename walks the module
  // for every symbol). Checked first, so that giving up leaves the module
  // as it was: only functions that move are shared, and only calls use them.
  SmallVector<std::pair<func::CallOp, Operation *>> calls;
  for (const SymbolTable::SymbolUse &use : *uses) {
    Operation *callee =
        symbols.lookup(use.getSymbolRef().getRootReference().getValue());
    if (!callee || !shared.contains(callee))
      continue;
    auto call = dyn_cast<func::CallOp>(use.getUser());
    if (!call || !cast<func::FuncOp>(callee).isPrivate() ||
        callee->hasAttr("metac.kernel"))
      return alone();
    calls.push_back({call, callee});
  }
  MLIRContext *ctx = module->getContext();
  auto newName = [&](Operation *fn) {
    return StringAttr::get(ctx,
                           "__metac_" + cast<func::FuncOp>(fn).getName().str());
  };
  for (auto [call, callee] : calls)
    call.setCallee(newName(callee).getValue());
  for (Operation *fn : shared)
    cast<func::FuncOp>(fn).setName(newName(fn));

  for (unsigned i = 0; i < count; ++i) {
    OwningOpRef<ModuleOp> part = module->clone();
    if (i > 0) // The runtime interface is emitted in part 0 only.
      part.get()->setAttrs(DictionaryAttr::get(ctx));
    SmallVector<func::FuncOp> copies(part->getOps<func::FuncOp>());
    for (auto [original, copy] : llvm::zip_equal(functions, copies)) {
      if (original.isDeclaration())
        continue;
      unsigned owner = partOf.lookup(original);
      if (owner != i) {
        if (!shared.contains(original)) {
          copy.erase(); // Used only in its own part.
          continue;
        }
        // A declaration: external, whatever its definition's linkage.
        copy.eraseBody();
        copy.setPrivate();
        copy->removeAttr("llvm.linkage");
      } else if (shared.contains(original)) {
        copy->setAttr("llvm.linkage",
                      LLVM::LinkageAttr::get(ctx, LLVM::Linkage::External));
      }
    }
    parts.push_back(std::move(part));
  }
  return parts;
}
