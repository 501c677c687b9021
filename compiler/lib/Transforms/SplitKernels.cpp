//===- SplitKernels.cpp - Long kernels as a sequence of part functions ----===//
//
// After op outlining, the kernel of a learner that unrolls several second-
// order steps is one basic block of a thousand calls or more (the 20-way
// Omniglot meta-gradient: 1186 calls and 398 copies). LLVM's instruction
// selection and register allocation grow faster than linearly with a
// block's length, and one function is compiled by one thread: that kernel
// alone took 0.35 s of code generation while the other thread idled. Cut
// into functions of a bounded number of operations, it compiles in linear
// time and on both threads. A call per part costs nothing next to the
// convolutions it makes.
//
// Only addresses cross a cut: a part takes the kernel's arguments and
// allocations it uses, and recomputes the views into them (constants,
// memref.view, reshapes) itself.
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

#include "llvm/ADT/SetVector.h"

namespace metac {
#define GEN_PASS_DEF_METACSPLITKERNELS
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;

namespace {

/// Ops that only compute an address or a constant: a part recomputes them.
bool isAddressOp(Operation *op) {
  return op->hasTrait<OpTrait::ConstantLike>() ||
         isa<memref::ViewOp, memref::ReinterpretCastOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::SubViewOp, memref::CastOp>(op);
}

/// Ops that stay in the kernel: allocations, whose results every part may
/// use, and the terminator.
bool staysInKernel(Operation *op) {
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
             func::ReturnOp>(op) ||
         isAddressOp(op);
}

/// Values that cross a call into a part: bare-pointer buffers and scalars.
bool passable(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return metac::passableAsBarePointer(memref);
  return isa<FloatType, IntegerType, IndexType>(type);
}

/// What a part takes from the kernel (its arguments) and the address ops it
/// recomputes.
struct PartInputs {
  llvm::SetVector<Value> roots;
  llvm::SetVector<Operation *> recomputed;
};

class KernelSplitter {
public:
  KernelSplitter(ModuleOp module, int64_t opsPerPart)
      : module(module), symbols(module), opsPerPart(opsPerPart) {}

  /// Splits `kernel`, or leaves it whole if it has loops, is short, or
  /// some value would have to cross a cut that cannot.
  void split(func::FuncOp kernel);

private:
  /// The inputs of a part defined by `ops`; false if some value cannot be
  /// passed.
  bool collectInputs(ArrayRef<Operation *> ops, PartInputs &inputs);
  void makePart(func::FuncOp kernel, ArrayRef<Operation *> ops,
                const PartInputs &inputs, unsigned index, Operation *&after);

  ModuleOp module;
  SymbolTable symbols;
  int64_t opsPerPart;
};

bool KernelSplitter::collectInputs(ArrayRef<Operation *> ops,
                                   PartInputs &inputs) {
  llvm::SmallPtrSet<Operation *, 32> inPart(ops.begin(), ops.end());
  SmallVector<Value> worklist;
  for (Operation *op : ops)
    op->walk([&](Operation *nested) {
      for (Value v : nested->getOperands())
        worklist.push_back(v);
    });
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (def && (inPart.contains(def) || inPart.contains(def->getParentOp())))
      continue; // Defined inside the part (or inside one of its ops).
    if (def && isAddressOp(def) && def->getNumRegions() == 0) {
      if (inputs.recomputed.insert(def))
        worklist.append(def->operand_begin(), def->operand_end());
      continue;
    }
    if (!passable(v.getType()))
      return false;
    inputs.roots.insert(v);
  }
  return true;
}

void KernelSplitter::makePart(func::FuncOp kernel, ArrayRef<Operation *> ops,
                              const PartInputs &inputs, unsigned index,
                              Operation *&after) {
  const llvm::SetVector<Value> &roots = inputs.roots;

  MLIRContext *ctx = kernel.getContext();
  Location loc = kernel.getLoc();
  OpBuilder b(ctx);
  // In order after the kernel.
  b.setInsertionPointAfter(after);
  SmallVector<Type> types;
  for (Value v : roots)
    types.push_back(v.getType());
  auto part = b.create<func::FuncOp>(
      loc, (kernel.getName() + "_part" + Twine(index)).str(),
      b.getFunctionType(types, {}));
  part.setPrivate();
  // O3's inliner would put the parts back together.
  part->setAttr("no_inline", b.getUnitAttr());
  part->setAttr("llvm.linkage",
                LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  symbols.insert(part, Block::iterator(part->getNextNode()));
  after = part;

  Block *body = part.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping mapping;
  for (auto [v, arg] : llvm::zip(roots, body->getArguments()))
    mapping.map(v, arg);
  // The recomputed addresses in kernel order, so each follows its operands.
  SmallVector<Operation *> addresses(inputs.recomputed.begin(),
                                     inputs.recomputed.end());
  llvm::sort(addresses,
             [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  for (Operation *op : addresses)
    b.clone(*op, mapping);
  for (Operation *op : ops)
    b.clone(*op, mapping);
  b.create<func::ReturnOp>(loc);

  b.setInsertionPoint(ops.front());
  b.create<func::CallOp>(loc, part, roots.getArrayRef());
  for (Operation *op : llvm::reverse(ops))
    op->erase();
}

void KernelSplitter::split(func::FuncOp kernel) {
  Block &block = kernel.getBody().front();
  // Only kernels whose ops are calls (outlined): a loop moved into a part
  // would lose what LLVM knows about its buffers not aliasing.
  if (llvm::any_of(block, [](Operation &op) {
        return isa<linalg::LinalgOp>(op) || op.getNumRegions() > 0;
      }))
    return;
  SmallVector<Operation *> work;
  for (Operation &op : block)
    if (!staysInKernel(&op))
      work.push_back(&op);
  if ((int64_t)work.size() < 2 * opsPerPart)
    return;

  // Cut every opsPerPart operations, where no result of the part so far is
  // used after the cut (results stay inside their part).
  DenseMap<Operation *, unsigned> position;
  unsigned n = 0;
  for (Operation &op : block)
    position[&op] = n++;
  SmallVector<SmallVector<Operation *>> parts(1);
  unsigned lastUse = 0;
  for (Operation *op : work) {
    SmallVector<Operation *> &current = parts.back();
    if ((int64_t)current.size() >= opsPerPart && position[op] > lastUse)
      parts.emplace_back();
    parts.back().push_back(op);
    for (Value r : op->getResults())
      for (Operation *user : r.getUsers())
        if (Operation *top = block.findAncestorOpInBlock(*user))
          lastUse = std::max(lastUse, position[top]);
  }
  if (parts.size() < 2)
    return;
  // A value that cannot be passed (a dynamic buffer) keeps the kernel whole.
  SmallVector<PartInputs> inputs(parts.size());
  for (auto [ops, in] : llvm::zip_equal(parts, inputs))
    if (!collectInputs(ops, in))
      return;
  Operation *after = kernel;
  for (auto [i, ops] : llvm::enumerate(parts))
    makePart(kernel, ops, inputs[i], i, after);
  // Addresses only the parts used are dead in the kernel now.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
    if (isAddressOp(&op) && op.use_empty())
      op.erase();
}

struct MetacSplitKernelsPass
    : public metac::impl::MetacSplitKernelsBase<MetacSplitKernelsPass> {
  using MetacSplitKernelsBase::MetacSplitKernelsBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("metac.kernel") && fn.getBody().hasOneBlock())
        kernels.push_back(fn);
    KernelSplitter splitter(module, opsPerPart);
    for (func::FuncOp kernel : kernels)
      splitter.split(kernel);
  }
};

} // namespace
