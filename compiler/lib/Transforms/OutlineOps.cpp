//===- OutlineOps.cpp - Large kernels call one function per distinct op ---===//
//
// Every inner step the learner unrolls repeats the same ops on buffers of the
// same shapes, so a kernel of K steps is K copies of one loop nest sequence,
// and LLVM optimised and allocated registers for each copy: the 20-way
// Omniglot meta-gradient was one function of 12,000 blocks. Here each linalg
// op of a large kernel becomes a call to a private function that holds only
// that op, and functions with the same body are one function. Code then
// grows with the number of distinct (op, shape) pairs, not with the unrolled
// steps, and LLVM's superlinear passes see many small functions.
//
// Kernels below the threshold keep their loops inline: small hot kernels
// (sinusoid MAML) gain nothing and would lose LLVM's knowledge that their
// slots do not alias. In an outlined function a buffer argument is `noalias`
// when no other operand of the op shares its root allocation, which
// restores that knowledge wherever it holds.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <limits>

namespace metac {
#define GEN_PASS_DEF_METACOUTLINEOPS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

class Outliner {
public:
  Outliner(ModuleOp module) : module(module), symbols(module) {}

  /// Replaces `op` by a call of a function holding a copy of it; false when
  /// some value it uses cannot be passed.
  bool outline(linalg::LinalgOp op);

private:
  ModuleOp module;
  SymbolTable symbols;
  /// Outlined functions by their printed body, so equal ones are shared.
  llvm::StringMap<func::FuncOp> byBody;
  unsigned created = 0;
};

bool Outliner::outline(linalg::LinalgOp linalgOp) {
  Operation *op = linalgOp.getOperation();
  if (op->getNumResults() != 0)
    return false;
  // What the op reads from outside: its operands and the values its body
  // captures. Constants are copied in, so that equal ops compare equal and
  // the callee still sees them.
  llvm::SetVector<Value> used(op->getOperands().begin(),
                              op->getOperands().end());
  getUsedValuesDefinedAbove(op->getRegions(), used);
  SmallVector<Value> arguments, constants;
  for (Value v : used) {
    if (matchPattern(v, m_Constant())) {
      constants.push_back(v);
      continue;
    }
    if (auto type = dyn_cast<MemRefType>(v.getType());
        type && !metac::passableAsBarePointer(type))
      return false;
    if (!isa<MemRefType, FloatType, IntegerType, IndexType>(v.getType()))
      return false;
    arguments.push_back(v);
  }

  MLIRContext *ctx = op->getContext();
  Location loc = op->getLoc();
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  auto fnType =
      b.getFunctionType(ValueRange(arguments).getTypes(), TypeRange{});
  auto fn = b.create<func::FuncOp>(loc, "metac_op", fnType);
  fn.setPrivate();
  // O3's inliner would otherwise copy the body back into every caller.
  fn->setAttr("no_inline", b.getUnitAttr());
  // Private to the program, like the kernels (func-to-llvm reads this).
  fn->setAttr("llvm.linkage",
              LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  DenseMap<Value, unsigned> rootUses;
  for (Value v : arguments)
    if (isa<MemRefType>(v.getType()))
      ++rootUses[metac::rootAllocation(v)];
  for (auto [i, v] : llvm::enumerate(arguments))
    if (isa<MemRefType>(v.getType()) && rootUses[metac::rootAllocation(v)] == 1)
      fn.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                    b.getUnitAttr());

  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping mapping;
  for (Value c : constants)
    mapping.map(c, b.clone(*c.getDefiningOp())->getResult(0));
  for (auto [v, arg] : llvm::zip(arguments, body->getArguments()))
    mapping.map(v, arg);
  b.clone(*op, mapping);
  b.create<func::ReturnOp>(loc);

  std::string key;
  {
    llvm::raw_string_ostream os(key);
    // Explicit flags: a tool's --mlir-print-* options (meta-opt registers
    // them) must not drop regions, elide attributes or add locations here.
    OpPrintingFlags flags;
    flags.useLocalScope()
        .skipRegions(false)
        .elideLargeElementsAttrs(std::numeric_limits<int64_t>::max())
        .enableDebugInfo(false, false);
    fn->print(os, flags);
  }
  auto [it, isNew] = byBody.try_emplace(key, fn);
  if (isNew) {
    fn.setName(
        ("metac_op" + Twine(created++) + "_" + op->getName().stripDialect())
            .str());
    symbols.insert(fn); // Renames it if a kernel has that name.
  } else {
    fn.erase();
  }
  b.setInsertionPoint(op);
  b.create<func::CallOp>(loc, it->second, arguments);
  op->erase();
  return true;
}

struct MetacOutlineOpsPass
    : public metac::impl::MetacOutlineOpsBase<MetacOutlineOpsPass> {
  using MetacOutlineOpsBase::MetacOutlineOpsBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("metac.kernel"))
        kernels.push_back(fn);
    Outliner outliner(module);
    for (func::FuncOp kernel : kernels) {
      SmallVector<linalg::LinalgOp> ops;
      kernel.walk([&](linalg::LinalgOp op) {
        // Only the kernel's own top level: a linalg op never nests here.
        if (op->getParentOp() == kernel.getOperation())
          ops.push_back(op);
      });
      // Many ops, or few over large data (a convolutional network's
      // evaluation on hundreds of images, where a call per op is nothing
      // and one function of loop nests was a third of LLVM's time).
      int64_t points = 0;
      for (linalg::LinalgOp op : ops) {
        int64_t n = 1;
        for (int64_t range : op.getStaticLoopRanges())
          n = ShapedType::isDynamic(range) ? n : n * range;
        points += n;
      }
      if ((int64_t)ops.size() < minOps && points < minPoints)
        continue;
      for (linalg::LinalgOp op : ops)
        outliner.outline(op);
    }
  }
};

} // namespace
