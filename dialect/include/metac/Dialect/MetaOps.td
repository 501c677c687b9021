//===- MetaOps.td - The meta dialect ------------------------*- tablegen -*-===//
//
// The `meta` dialect is the IR a .meta program becomes: statically shaped f32
// tensor ops, `meta.grad` (a region whose scalar result is differentiated with
// respect to the region's arguments), `meta.stop_gradient`, and counter-based
// random sampling. Every op except `meta.grad`/`meta.yield` carries its
// reverse-mode rule through DifferentiableOpInterface (DerivativeRules.cpp).
//
// Elementwise ops take operands of one shape: the frontend makes broadcasting
// explicit with `meta.broadcast`, so derivative rules never need to know about
// it (the cotangent of a broadcast is a `meta.reduce_sum`).
//
//===----------------------------------------------------------------------===//
#ifndef METAC_META_OPS
#define METAC_META_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "metac/Dialect/DerivativeInterface.td"

def Meta_Dialect : Dialect {
  let name = "meta";
  let cppNamespace = "::metac::meta";
  let summary = "Statically shaped tensor programs with symbolic gradients";
  let description = [{
    The dialect a metac program is lowered to before differentiation. Values
    are ranked, statically shaped tensors of f32 (i1 for comparisons, i64 for
    random keys). `meta.grad` is expanded by `-meta-autodiff` into plain ops of
    this dialect, which the pass can differentiate again.
  }];
  let hasConstantMaterializer = 1;
}

class Meta_Op<string mnemonic, list<Trait> traits = []>
    : Op<Meta_Dialect, mnemonic, traits>;

def Meta_F32Tensor : StaticShapeTensorOf<[F32]>;
def Meta_BoolTensor : StaticShapeTensorOf<[I1]>;
def Meta_KeyTensor : 0DTensorOf<[I64]>;
def Meta_ScalarTensor : 0DTensorOf<[F32]>;

// Pure ops that have a derivative rule.
class Meta_DiffOp<string mnemonic, list<Trait> traits = []>
    : Meta_Op<mnemonic, !listconcat(traits,
        [Pure, DeclareOpInterfaceMethods<DifferentiableOpInterface>])>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Meta_ConstantOp : Meta_DiffOp<"constant",
    [ConstantLike, InferTypeOpAdaptor]> {
  let summary = "A dense f32 tensor constant";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
  let hasVerifier = 1;
  let builders = [
    // A splat of `value` with the shape of `type`.
    OpBuilder<(ins "::mlir::Type":$type, "float":$value)>,
  ];
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

class Meta_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Meta_DiffOp<mnemonic, !listconcat(traits,
        [AllTypesMatch<["lhs", "rhs", "result"]>])> {
  let arguments = (ins Meta_F32Tensor:$lhs, Meta_F32Tensor:$rhs);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Meta_AddOp : Meta_BinaryOp<"add", [Commutative]> {
  let summary = "Elementwise sum";
}
def Meta_SubOp : Meta_BinaryOp<"sub"> {
  let summary = "Elementwise difference";
}
def Meta_MulOp : Meta_BinaryOp<"mul", [Commutative]> {
  let summary = "Elementwise product";
}
def Meta_DivOp : Meta_BinaryOp<"div"> {
  let summary = "Elementwise quotient";
}
def Meta_MaxOp : Meta_BinaryOp<"max", [Commutative]> {
  let summary = "Elementwise maximum (ties send the gradient to the lhs)";
}
def Meta_MinOp : Meta_BinaryOp<"min", [Commutative]> {
  let summary = "Elementwise minimum (ties send the gradient to the lhs)";
}

class Meta_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Meta_DiffOp<mnemonic, !listconcat(traits,
        [AllTypesMatch<["input", "result"]>])> {
  let summary = "Elementwise " # formula;
  let arguments = (ins Meta_F32Tensor:$input);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Meta_NegOp : Meta_UnaryOp<"neg", "-x">;
def Meta_SinOp : Meta_UnaryOp<"sin", "sin(x)">;
def Meta_CosOp : Meta_UnaryOp<"cos", "cos(x)">;
def Meta_ExpOp : Meta_UnaryOp<"exp", "exp(x)">;
def Meta_LogOp : Meta_UnaryOp<"log", "natural logarithm">;
def Meta_TanhOp : Meta_UnaryOp<"tanh", "tanh(x)">;
def Meta_SigmoidOp : Meta_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Meta_ReluOp : Meta_UnaryOp<"relu", "max(x, 0)">;
def Meta_SqrtOp : Meta_UnaryOp<"sqrt", "square root">;
def Meta_AbsOp : Meta_UnaryOp<"abs", "absolute value">;
def Meta_SquareOp : Meta_UnaryOp<"square", "x * x">;
def Meta_SignOp : Meta_UnaryOp<"sign", "sign (-1, 0, 1); derivative zero">;

def Meta_StopGradientOp : Meta_UnaryOp<"stop_gradient",
    "identity through which no derivative flows">;

//===----------------------------------------------------------------------===//
// Comparison and selection
//===----------------------------------------------------------------------===//

def Meta_CmpOp : Meta_DiffOp<"cmp", [AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Elementwise comparison, producing booleans";
  let description = [{
    `predicate` is one of "lt", "le", "gt", "ge", "eq", "ne". The result is not
    differentiable; `meta.select` turns it back into values.
  }];
  let arguments = (ins StrAttr:$predicate, Meta_F32Tensor:$lhs, Meta_F32Tensor:$rhs);
  let results = (outs Meta_BoolTensor:$result);
  let assemblyFormat =
      "$predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)";
  let hasVerifier = 1;
}

def Meta_SelectOp : Meta_DiffOp<"select",
    [AllTypesMatch<["true_value", "false_value", "result"]>]> {
  let summary = "Elementwise choice: cond ? true_value : false_value";
  let arguments = (ins Meta_BoolTensor:$cond, Meta_F32Tensor:$true_value,
                   Meta_F32Tensor:$false_value);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$cond `,` $true_value `,` $false_value attr-dict `:` "
                       "type($cond) `,` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra and shape
//===----------------------------------------------------------------------===//

def Meta_MatmulOp : Meta_DiffOp<"matmul"> {
  let summary = "Matrix product [m, k] x [k, n] -> [m, n]";
  let arguments = (ins Meta_F32Tensor:$lhs, Meta_F32Tensor:$rhs);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_TransposeOp : Meta_DiffOp<"transpose"> {
  let summary = "Permutation of dimensions: result[i...] = input[perm(i)...]";
  let arguments = (ins Meta_F32Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input `,` $permutation attr-dict `:` type($input) "
                       "`->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Meta_ReshapeOp : Meta_DiffOp<"reshape"> {
  let summary = "Same elements in row-major order, new shape";
  let arguments = (ins Meta_F32Tensor:$input);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_BroadcastOp : Meta_DiffOp<"broadcast"> {
  let summary = "Numpy broadcast to a larger shape";
  let description = [{
    Shapes are aligned on the right; every input dimension is 1 or equal to
    the result's; missing leading dimensions are added.
  }];
  let arguments = (ins Meta_F32Tensor:$input);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_ReduceSumOp : Meta_DiffOp<"reduce_sum"> {
  let summary = "Sum over the listed axes, which are removed from the shape";
  let arguments = (ins Meta_F32Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat =
      "$input `,` $axes attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_SliceOp : Meta_DiffOp<"slice"> {
  let summary = "Static slice: result = input[offsets : offsets + result shape]";
  let arguments = (ins Meta_F32Tensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat =
      "$input `,` $offsets attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_PadOp : Meta_DiffOp<"pad"> {
  let summary = "Zero tensor of the result shape with the input at `offsets`";
  let description = [{ The adjoint of `meta.slice`, and the reverse. }];
  let arguments = (ins Meta_F32Tensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat =
      "$input `,` $offsets attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_ReduceMaxOp : Meta_DiffOp<"reduce_max"> {
  let summary = "Maximum over the listed axes, which are removed from the shape";
  let description = [{
    The cotangent goes to every element equal to the maximum (ties share it,
    which is a subgradient; with continuous inputs ties have probability 0).
  }];
  let arguments = (ins Meta_F32Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat =
      "$input `,` $axes attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NHWC images, HWCF filters)
//===----------------------------------------------------------------------===//

// The three convolution ops are one trilinear form T(X, W, G) = <G, conv(X, W)>
// read three ways: conv2d is dT/dG, conv2d_input_grad is dT/dX and
// conv2d_filter_grad is dT/dW. The derivative of each is therefore made of
// the other two, which is what keeps the rule set closed.
class Meta_ConvOp<string mnemonic, string lhsName, string rhsName>
    : Meta_DiffOp<mnemonic> {
  let results = (outs Meta_F32Tensor:$result);
  let hasVerifier = 1;
  let hasFolder = 1;
  let assemblyFormat = "$" # lhsName # " `,` $" # rhsName #
      " `strides` $strides `padding` $padding attr-dict `:` type($" # lhsName #
      ") `,` type($" # rhsName # ") `->` type($result)";
  let extraClassDeclaration = [{
    /// The convolution's three shapes: image [N, H, W, C], filter
    /// [KH, KW, C, F] and output [N, OH, OW, F], whichever two are operands.
    ::llvm::ArrayRef<int64_t> getImageShape();
    ::llvm::ArrayRef<int64_t> getFilterShape();
    ::llvm::ArrayRef<int64_t> getOutputShape();
  }];
}

def Meta_Conv2DOp : Meta_ConvOp<"conv2d", "input", "filter"> {
  let summary = "2-D cross-correlation [N,H,W,C] * [KH,KW,C,F] -> [N,OH,OW,F]";
  let description = [{
    result[n, i, j, f] = sum over (a, b, c) of
    input[n, i*sh + a - ph, j*sw + b - pw, c] * filter[a, b, c, f], reading
    zeros outside the image; OH = (H + 2 ph - KH) / sh + 1 (rounded down).
    `strides` = [sh, sw], `padding` = [ph, pw] (each smaller than the kernel).
  }];
  let arguments = (ins Meta_F32Tensor:$input, Meta_F32Tensor:$filter,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding);
}

def Meta_Conv2DInputGradOp
    : Meta_ConvOp<"conv2d_input_grad", "cotangent", "filter"> {
  let summary = "The adjoint of conv2d in its input: [N,OH,OW,F] -> [N,H,W,C]";
  let description = [{
    The unique linear map with <input_grad(G, W), X> = <G, conv2d(X, W)> for
    every X of the result's shape (H and W come from the result type, since
    strides round the output size down).
  }];
  let arguments = (ins Meta_F32Tensor:$cotangent, Meta_F32Tensor:$filter,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding);
}

def Meta_Conv2DFilterGradOp
    : Meta_ConvOp<"conv2d_filter_grad", "input", "cotangent"> {
  let summary = "The adjoint of conv2d in its filter: -> [KH,KW,C,F]";
  let description = [{
    The unique linear map with <filter_grad(X, G), W> = <G, conv2d(X, W)> for
    every W of the result's shape.
  }];
  let arguments = (ins Meta_F32Tensor:$input, Meta_F32Tensor:$cotangent,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding);
}

// Max pooling over non-overlapping k x k windows is two ops that route values
// by where `input` is largest in each window: max_pool(x) is
// max_pool_gather(x, x); the derivative of a gather is a scatter and back, and
// the routing itself (the argmax) has derivative zero.
def Meta_MaxPoolGatherOp : Meta_DiffOp<"max_pool_gather",
    [AllTypesMatch<["input", "values"]>]> {
  let summary = "Per window, the element of `values` where `input` is largest";
  let description = [{
    Windows are [window[0], window[1]] blocks of the H and W dimensions of NHWC
    tensors, side by side (stride = window); OH = H / window[0] rounded down.
    The first maximum in row-major window order wins.
  }];
  let arguments = (ins Meta_F32Tensor:$input, Meta_F32Tensor:$values,
                   DenseI64ArrayAttr:$window);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input `,` $values `window` $window attr-dict `:` "
                       "type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Meta_MaxPoolScatterOp : Meta_DiffOp<"max_pool_scatter",
    [AllTypesMatch<["input", "result"]>]> {
  let summary = "Each window's value put where `input` is largest; zeros "
                "elsewhere";
  let description = [{
    The adjoint of `meta.max_pool_gather` in its values: the result has the
    input's shape, `cotangent` the pooled shape.
  }];
  let arguments = (ins Meta_F32Tensor:$input, Meta_F32Tensor:$cotangent,
                   DenseI64ArrayAttr:$window);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$input `,` $cotangent `window` $window attr-dict `:` "
                       "type($cotangent) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Randomness
//===----------------------------------------------------------------------===//

class Meta_RandomOp<string mnemonic, string dist> : Meta_DiffOp<mnemonic> {
  let summary = "Counter-based " # dist # " samples";
  let description = [{
    Element i is a pure function of (key, stream, i): the same key always gives
    the same tensor, different streams are independent, and no state is
    threaded through the program, so tasks can be sampled in any order or in
    parallel with identical results.
  }];
  let arguments = (ins Meta_KeyTensor:$key, I64Attr:$stream);
  let results = (outs Meta_F32Tensor:$result);
  let assemblyFormat = "$key `,` $stream attr-dict `:` type($key) `->` type($result)";
}

def Meta_RandomUniformOp : Meta_RandomOp<"random_uniform", "U[0, 1)">;
def Meta_RandomNormalOp : Meta_RandomOp<"random_normal", "N(0, 1)">;

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def Meta_GradOp : Meta_Op<"grad", [RecursiveMemoryEffects]> {
  let summary = "Gradient of a scalar region with respect to its arguments";
  let description = [{
    The region receives one block argument per operand (same types) and yields
    a scalar. The results are the gradient of that scalar with respect to each
    block argument, evaluated at the operands. Values captured from above are
    constants of the differentiation, but stay differentiable for an enclosing
    `meta.grad`: this is what makes the meta-gradient second order.

    ```mlir
    %g = meta.grad %w : (tensor<3xf32>) -> tensor<3xf32> {
    ^bb0(%x: tensor<3xf32>):
      %s = meta.reduce_sum %x, [0] : tensor<3xf32> -> tensor<f32>
      meta.yield %s : tensor<f32>
    }
    ```
  }];
  let arguments = (ins Variadic<Meta_F32Tensor>:$args);
  let results = (outs Variadic<Meta_F32Tensor>:$gradients);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat =
      "$args attr-dict `:` functional-type($args, $gradients) $body";
  let hasVerifier = 1;
}

def Meta_YieldOp : Meta_Op<"yield",
    [Pure, Terminator, HasParent<"GradOp">]> {
  let summary = "The scalar a `meta.grad` region differentiates";
  let arguments = (ins Meta_ScalarTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

#endif // METAC_META_OPS
