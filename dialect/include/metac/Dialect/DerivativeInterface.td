//===- DerivativeInterface.td - Reverse-mode rules of meta ops -*- tablegen -*-===//
//
// The autodiff pass knows nothing about individual ops: it asks each op, through
// this interface, for its vector-Jacobian product. Every rule is written with
// ops that implement the interface themselves, so the pass can differentiate
// its own output again (second-order MAML is the pass applied twice).
//
//===----------------------------------------------------------------------===//
#ifndef METAC_DERIVATIVE_INTERFACE
#define METAC_DERIVATIVE_INTERFACE

include "mlir/IR/OpBase.td"

def DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::metac::meta";
  let description = [{
    An op with a reverse-mode derivative rule. Given the cotangent of the op's
    (single) result, `buildVJP` emits the cotangents of its operands at the
    builder's insertion point, using the op's own operands and result as the
    forward values. A null entry means "no gradient flows to this operand"
    (integer or boolean operands, random keys).
  }];
  let methods = [
    InterfaceMethod<
      "Emit the cotangents of the operands given the result's cotangent.",
      "::llvm::SmallVector<::mlir::Value>", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$cotangent)>,
  ];
}

#endif // METAC_DERIVATIVE_INTERFACE
