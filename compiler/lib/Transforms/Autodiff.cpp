//===- Autodiff.cpp - Expand meta.grad by reverse mode --------------------===//
//
// A `meta.grad` is a region computing a scalar from its block arguments. The
// expansion copies the region in place (forward sweep, block arguments bound
// to the operands) and then walks the original ops backwards, asking each for
// its vector-Jacobian product (reverse sweep). Cotangents are keyed by the
// values of the *original* region, so a block argument and an outer value
// that happens to be the same SSA value as the operand stay distinct: only
// the block arguments are differentiated. The emitted code uses forward
// values as plain SSA, so an enclosing `meta.grad` differentiates it again.
//
//===----------------------------------------------------------------------===//
#include "metac/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace metac {
#define GEN_PASS_DEF_METAAUTODIFF
#include "metac/Transforms/Passes.h.inc"
} // namespace metac

using namespace mlir;
using namespace metac;
using namespace metac::meta;

namespace {

/// Expands one meta.grad whose region holds no other meta.grad.
class ReverseModeExpansion {
public:
  explicit ReverseModeExpansion(GradOp grad) : grad(grad), builder(grad) {}

  LogicalResult run() {
    Block &body = grad.getBody().front();
    IRMapping forward;
    for (auto [arg, operand] : llvm::zip(body.getArguments(), grad.getArgs()))
      forward.map(arg, operand);

    // Forward sweep: the region's ops, evaluated at the operands.
    SmallVector<std::pair<Operation *, Operation *>> tape;
    for (Operation &op : body.without_terminator())
      tape.push_back({&op, builder.clone(op, forward)});

    // Reverse sweep, seeded with d(scalar)/d(scalar) = 1.
    Value scalar = cast<YieldOp>(body.getTerminator()).getValue();
    accumulate(scalar, builder.create<ConstantOp>(grad.getLoc(),
                                                  scalar.getType(), 1.0f));
    for (auto &[original, copy] : llvm::reverse(tape)) {
      if (original->getNumResults() != 1)
        return original->emitOpError("has no single result to differentiate");
      Value cotangent = cotangents.lookup(original->getResult(0));
      if (!cotangent)
        continue; // The scalar does not depend on this op.
      auto rule = dyn_cast<DifferentiableOpInterface>(copy);
      if (!rule)
        return original->emitOpError("has no derivative rule");
      SmallVector<Value> operandCotangents = rule.buildVJP(builder, cotangent);
      if (operandCotangents.size() != original->getNumOperands())
        return original->emitOpError("derivative rule returned ")
               << operandCotangents.size() << " cotangents for "
               << original->getNumOperands() << " operands";
      for (auto [operand, ct] :
           llvm::zip(original->getOperands(), operandCotangents))
        if (ct)
          accumulate(operand, ct);
    }

    // Gradients; an argument the scalar does not depend on gets zeros.
    SmallVector<Value> gradients;
    for (BlockArgument arg : body.getArguments()) {
      Value g = cotangents.lookup(arg);
      gradients.push_back(
          g ? g
            : builder.create<ConstantOp>(grad.getLoc(), arg.getType(), 0.0f));
    }
    grad.replaceAllUsesWith(gradients);
    grad.erase();
    return success();
  }

private:
  void accumulate(Value v, Value cotangent) {
    Value &slot = cotangents[v];
    slot =
        slot ? builder.create<AddOp>(grad.getLoc(), slot, cotangent).getResult()
             : cotangent;
  }

  GradOp grad;
  OpBuilder builder;
  DenseMap<Value, Value> cotangents;
};

struct MetaAutodiffPass
    : public metac::impl::MetaAutodiffBase<MetaAutodiffPass> {
  void runOnOperation() override {
    // Innermost first: a grad is expanded once no grad remains inside it.
    // Post-order walk visits nested grads before their parents.
    SmallVector<GradOp> order;
    getOperation().walk<WalkOrder::PostOrder>(
        [&](GradOp grad) { order.push_back(grad); });
    for (GradOp grad : order)
      if (failed(ReverseModeExpansion(grad).run()))
        return signalPassFailure();
  }
};

} // namespace
