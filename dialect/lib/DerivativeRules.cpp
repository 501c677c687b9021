//===- DerivativeRules.cpp - Reverse-mode rules of the meta dialect -------===//
//
// One rule per op, each a line or two in a small vocabulary (`Rule`) so that
// the file reads like a table of derivatives: `g` is the cotangent of the
// op's result, `x`/`y` its operands, `r` its result. Every op a rule emits has
// a rule of its own here, which is what lets -meta-autodiff differentiate its
// own output (second order). test/Derivatives/ops.mlir checks each rule,
// first and second order, against finite differences (meta-fdcheck).
//
//===----------------------------------------------------------------------===//
#include "metac/Dialect/MetaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace metac::meta;

namespace {
/// The vocabulary of derivative rules: each method emits one meta op.
struct Rule {
  OpBuilder &b;
  Location loc;
  using Grads = SmallVector<Value>;

  static RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  Value constant(Value like, float v) {
    return b.create<ConstantOp>(loc, typeOf(like), v);
  }
  Value add(Value x, Value y) { return b.create<AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<MulOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<DivOp>(loc, x, y); }
  Value neg(Value x) { return b.create<NegOp>(loc, x); }
  Value sin(Value x) { return b.create<SinOp>(loc, x); }
  Value cos(Value x) { return b.create<CosOp>(loc, x); }
  Value sign(Value x) { return b.create<SignOp>(loc, x); }
  Value cmp(StringRef predicate, Value x, Value y) {
    auto boolType = typeOf(x).clone(b.getI1Type());
    return b.create<CmpOp>(loc, boolType, b.getStringAttr(predicate), x, y);
  }
  Value select(Value c, Value x, Value y) {
    return b.create<SelectOp>(loc, x.getType(), c, x, y);
  }
  Value matmul(Value x, Value y) {
    auto type = RankedTensorType::get(
        {typeOf(x).getDimSize(0), typeOf(y).getDimSize(1)}, b.getF32Type());
    return b.create<MatmulOp>(loc, type, x, y);
  }
  Value transpose(Value x, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(typeOf(x).getDimSize(p));
    return b.create<TransposeOp>(loc, typeOf(x).clone(shape), x,
                                 b.getDenseI64ArrayAttr(perm));
  }
  Value transpose2d(Value x) { return transpose(x, {1, 0}); }
  Value reshape(Value x, Type type) {
    return b.create<ReshapeOp>(loc, type, x);
  }
  Value broadcast(Value x, Type type) {
    return b.create<BroadcastOp>(loc, type, x);
  }
  Value reduceSum(Value x, ArrayRef<int64_t> axes) {
    SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(typeOf(x).getShape()))
      if (!llvm::is_contained(axes, (int64_t)i))
        shape.push_back(d);
    return b.create<ReduceSumOp>(loc, typeOf(x).clone(shape), x,
                                 b.getDenseI64ArrayAttr(axes));
  }
  /// The adjoint of broadcasting `type` up to g's shape: sum over the added
  /// and the stretched dimensions, then restore `type`.
  Value unbroadcast(Value g, Type type) {
    ArrayRef<int64_t> in = cast<RankedTensorType>(type).getShape();
    ArrayRef<int64_t> out = typeOf(g).getShape();
    size_t lead = out.size() - in.size();
    SmallVector<int64_t> axes;
    for (size_t i = 0; i < out.size(); ++i)
      if (i < lead || (in[i - lead] == 1 && out[i] != 1))
        axes.push_back(i);
    return reshape(reduceSum(g, axes), type);
  }
  Value slice(Value x, ArrayRef<int64_t> offsets, Type type) {
    return b.create<SliceOp>(loc, type, x, b.getDenseI64ArrayAttr(offsets));
  }
  Value pad(Value x, ArrayRef<int64_t> offsets, Type type) {
    return b.create<PadOp>(loc, type, x, b.getDenseI64ArrayAttr(offsets));
  }
  // The convolution family: every op takes the other two operands of the
  // trilinear form and the result type, plus the op's strides and padding.
  template <typename ConvOp>
  Value conv(Value x, Value y, Type type, ArrayRef<int64_t> strides,
             ArrayRef<int64_t> padding) {
    return b.create<ConvOp>(loc, type, x, y, b.getDenseI64ArrayAttr(strides),
                            b.getDenseI64ArrayAttr(padding));
  }
  Value maxPoolGather(Value x, Value v, ArrayRef<int64_t> window, Type type) {
    return b.create<MaxPoolGatherOp>(loc, type, x, v,
                                     b.getDenseI64ArrayAttr(window));
  }
  Value maxPoolScatter(Value x, Value g, ArrayRef<int64_t> window) {
    return b.create<MaxPoolScatterOp>(loc, x.getType(), x, g,
                                      b.getDenseI64ArrayAttr(window));
  }
};
} // namespace

#define RULE(OP)                                                               \
  SmallVector<Value> OP::buildVJP(OpBuilder &builder, Value g) {               \
    Rule d{builder, getLoc()};                                                 \
    (void)d;
#define END }

// clang-format off

RULE(ConstantOp)       return {}; END
RULE(RandomUniformOp)  return {nullptr}; END
RULE(RandomNormalOp)   return {nullptr}; END
RULE(StopGradientOp)   return {nullptr}; END
RULE(SignOp)           return {nullptr}; END
RULE(CmpOp)            return {nullptr, nullptr}; END

RULE(AddOp)  return {g, g}; END
RULE(SubOp)  return {g, d.neg(g)}; END
RULE(MulOp)  return {d.mul(g, getRhs()), d.mul(g, getLhs())}; END
// d(x/y) = (g/y, -g*r/y), r = x/y
RULE(DivOp)  Value gy = d.div(g, getRhs());
             return {gy, d.neg(d.mul(gy, getResult()))}; END
// Ties send the gradient to the lhs, like a subgradient would.
RULE(MaxOp)  Value c = d.cmp("ge", getLhs(), getRhs()), z = d.constant(g, 0);
             return {d.select(c, g, z), d.select(c, z, g)}; END
RULE(MinOp)  Value c = d.cmp("le", getLhs(), getRhs()), z = d.constant(g, 0);
             return {d.select(c, g, z), d.select(c, z, g)}; END
RULE(SelectOp) Value z = d.constant(g, 0);
               return {nullptr, d.select(getCond(), g, z),
                                d.select(getCond(), z, g)}; END

RULE(NegOp)     return {d.neg(g)}; END
RULE(SinOp)     return {d.mul(g, d.cos(getInput()))}; END
RULE(CosOp)     return {d.neg(d.mul(g, d.sin(getInput())))}; END
RULE(ExpOp)     return {d.mul(g, getResult())}; END
RULE(LogOp)     return {d.div(g, getInput())}; END
// tanh' = 1 - r^2
RULE(TanhOp)    Value r = getResult();
                return {d.mul(g, d.sub(d.constant(r, 1), d.mul(r, r)))}; END
// sigmoid' = r (1 - r)
RULE(SigmoidOp) Value r = getResult();
                return {d.mul(g, d.mul(r, d.sub(d.constant(r, 1), r)))}; END
// relu' = [x > 0]
RULE(ReluOp)    Value x = getInput(), z = d.constant(g, 0);
                return {d.select(d.cmp("gt", x, z), g, z)}; END
// sqrt' = 1 / (2 r)
RULE(SqrtOp)    return {d.div(g, d.add(getResult(), getResult()))}; END
RULE(AbsOp)     return {d.mul(g, d.sign(getInput()))}; END
// (x^2)' = 2x
RULE(SquareOp)  return {d.mul(g, d.add(getInput(), getInput()))}; END

// d(X Y) = (G Yᵀ, Xᵀ G)
RULE(MatmulOp)  return {d.matmul(g, d.transpose2d(getRhs())),
                        d.matmul(d.transpose2d(getLhs()), g)}; END
RULE(TransposeOp) SmallVector<int64_t> inverse(getPermutation().size());
                  for (auto [i, p] : llvm::enumerate(getPermutation()))
                    inverse[p] = i;
                  return {d.transpose(g, inverse)}; END
RULE(ReshapeOp)   return {d.reshape(g, getInput().getType())}; END
RULE(BroadcastOp) return {d.unbroadcast(g, getInput().getType())}; END
// Sum's adjoint: put the reduced axes back with size 1, then broadcast.
RULE(ReduceSumOp) auto in = cast<RankedTensorType>(getInput().getType());
                  SmallVector<int64_t> kept(in.getShape());
                  for (int64_t a : getAxes()) kept[a] = 1;
                  return {d.broadcast(d.reshape(g, in.clone(kept)), in)}; END
RULE(SliceOp) return {d.pad(g, getOffsets(), getInput().getType())}; END
RULE(PadOp)   return {d.slice(g, getOffsets(), getInput().getType())}; END

// The maximum's cotangent goes to the elements equal to it.
RULE(ReduceMaxOp) auto in = cast<RankedTensorType>(getInput().getType());
                  SmallVector<int64_t> kept(in.getShape());
                  for (int64_t a : getAxes()) kept[a] = 1;
                  auto back = [&](Value v) {
                    return d.broadcast(d.reshape(v, in.clone(kept)), in); };
                  Value hit = d.cmp("eq", getInput(), back(getResult()));
                  return {d.select(hit, back(g), d.constant(getInput(), 0))}; END

// T(X, W, G) = <G, conv2d(X, W)>; each op is T's gradient in one argument.
#define CONV_RULE(OP, FIRST, SECOND)                                           \
  RULE(OP) auto s = getStrides(); auto p = getPadding();                       \
  return {FIRST, SECOND}; END
// conv2d(X, W):            (dX, dW) = (input_grad(G, W), filter_grad(X, G))
CONV_RULE(Conv2DOp,
  d.conv<Conv2DInputGradOp>(g, getFilter(), getInput().getType(), s, p),
  d.conv<Conv2DFilterGradOp>(getInput(), g, getFilter().getType(), s, p))
// input_grad(G, W) = dT/dX: (dG, dW) = (conv2d(H, W), filter_grad(H, G))
CONV_RULE(Conv2DInputGradOp,
  d.conv<Conv2DOp>(g, getFilter(), getCotangent().getType(), s, p),
  d.conv<Conv2DFilterGradOp>(g, getCotangent(), getFilter().getType(), s, p))
// filter_grad(X, G) = dT/dW: (dX, dG) = (input_grad(G, H), conv2d(X, H))
CONV_RULE(Conv2DFilterGradOp,
  d.conv<Conv2DInputGradOp>(getCotangent(), g, getInput().getType(), s, p),
  d.conv<Conv2DOp>(getInput(), g, getCotangent().getType(), s, p))
#undef CONV_RULE

// Routing by the argmax is locally constant: no cotangent for `input`.
RULE(MaxPoolGatherOp)  return {nullptr,
                               d.maxPoolScatter(getInput(), g, getWindow())}; END
RULE(MaxPoolScatterOp) return {nullptr,
                               d.maxPoolGather(getInput(), g, getWindow(),
                                               getCotangent().getType())}; END

                      // clang-format on
