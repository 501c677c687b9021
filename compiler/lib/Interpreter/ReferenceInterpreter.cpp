//===- ReferenceInterpreter.cpp - meta dialect in double precision --------===//
#include "metac/Interpreter/ReferenceInterpreter.h"
#include "metac/Dialect/MetaDialect.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace mlir;
using namespace metac;
namespace meta = metac::meta;

namespace {

std::vector<int64_t> shapeOf(Value v) {
  auto s = cast<RankedTensorType>(v.getType()).getShape();
  return {s.begin(), s.end()};
}

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides.
std::vector<int64_t> strides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// Multi-index of linear index `i`.
std::vector<int64_t> unravel(int64_t i, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
    idx[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
  return idx;
}

/// Linear index of `idx + offsets` in a tensor with the given strides: the
/// window arithmetic shared by slice and pad.
int64_t shiftedIndex(const std::vector<int64_t> &idx, ArrayRef<int64_t> offsets,
                     const std::vector<int64_t> &strides) {
  int64_t linear = 0;
  for (size_t d = 0; d < idx.size(); ++d)
    linear += (idx[d] + offsets[d]) * strides[d];
  return linear;
}

/// Calls visit(src, dst) for every element of `x`: src is its linear index,
/// dst that of the element of the reduction over `axes` (of shape `out`) it
/// contributes to.
void forEachReduced(const RefTensor &x, ArrayRef<int64_t> axes,
                    const std::vector<int64_t> &out,
                    function_ref<void(int64_t, int64_t)> visit) {
  auto os = strides(out);
  for (int64_t i = 0; i < x.size(); ++i) {
    auto idx = unravel(i, x.shape);
    int64_t dst = 0, k = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (!llvm::is_contained(axes, (int64_t)d))
        dst += idx[d] * os[k++];
    visit(i, dst);
  }
}

/// Calls term(x, w, y) with the linear indices of image, filter and output
/// for every product in the sum that defines a 2-D convolution: the one
/// definition behind all three convolution ops.
template <typename ConvOp>
void forEachConvTerm(ConvOp op,
                     function_ref<void(int64_t, int64_t, int64_t)> term) {
  ArrayRef<int64_t> xs = op.getImageShape(), ws = op.getFilterShape(),
                    ys = op.getOutputShape();
  ArrayRef<int64_t> st = op.getStrides(), pad = op.getPadding();
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t i = 0; i < ys[1]; ++i)
      for (int64_t j = 0; j < ys[2]; ++j)
        for (int64_t a = 0; a < ws[0]; ++a)
          for (int64_t b = 0; b < ws[1]; ++b) {
            int64_t u = i * st[0] + a - pad[0], v = j * st[1] + b - pad[1];
            if (u < 0 || u >= xs[1] || v < 0 || v >= xs[2])
              continue;
            for (int64_t c = 0; c < ws[2]; ++c)
              for (int64_t f = 0; f < ws[3]; ++f)
                term(((n * xs[1] + u) * xs[2] + v) * xs[3] + c,
                     ((a * ws[1] + b) * ws[2] + c) * ws[3] + f,
                     ((n * ys[1] + i) * ys[2] + j) * ys[3] + f);
          }
}

/// Calls route(src, dst) for every pooling window: src is the linear index
/// of the window's first maximum of `x` (row-major window order), dst the
/// window's index in the pooled tensor of shape `pooled`.
void forEachPoolArgmax(const RefTensor &x, ArrayRef<int64_t> window,
                       const std::vector<int64_t> &pooled,
                       function_ref<void(int64_t, int64_t)> route) {
  const std::vector<int64_t> &xs = x.shape;
  for (int64_t n = 0; n < pooled[0]; ++n)
    for (int64_t i = 0; i < pooled[1]; ++i)
      for (int64_t j = 0; j < pooled[2]; ++j)
        for (int64_t c = 0; c < pooled[3]; ++c) {
          int64_t best = -1;
          for (int64_t a = 0; a < window[0]; ++a)
            for (int64_t b = 0; b < window[1]; ++b) {
              int64_t at = ((n * xs[1] + i * window[0] + a) * xs[2] +
                            j * window[1] + b) *
                               xs[3] +
                           c;
              if (best < 0 || x.data[at] > x.data[best])
                best = at;
            }
          route(best, ((n * pooled[1] + i) * pooled[2] + j) * pooled[3] + c);
        }
}

RefTensor make(Value v) {
  RefTensor t;
  t.shape = shapeOf(v);
  t.data.assign(count(t.shape), 0.0);
  return t;
}

// The counter-based generator of LowerMetaToLinalg.cpp, bit for bit.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
double hashUniform(uint64_t key, int64_t stream, uint64_t counter) {
  uint64_t h = mix64(counter + 0x9E3779B97F4A7C15ULL * uint64_t(stream + 1));
  h = mix64(h ^ key);
  return double(h >> 40) / 16777216.0;
}

} // namespace

LogicalResult metac::interpret(func::FuncOp fn,
                               const std::vector<RefTensor> &args,
                               std::vector<RefTensor> &results,
                               std::string &error) {
  if (!fn.getBody().hasOneBlock() || args.size() != fn.getNumArguments()) {
    error = "function must have one block and matching arguments";
    return failure();
  }
  llvm::DenseMap<Value, RefTensor> env;
  for (auto [arg, t] : llvm::zip(fn.getArguments(), args))
    env[arg] = t;
  auto in = [&](Value v) -> const RefTensor & { return env[v]; };

  for (Operation &op : fn.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      results.clear();
      for (Value v : ret.getOperands())
        results.push_back(in(v));
      return success();
    }
    if (op.getNumResults() != 1) {
      error = "unsupported op " + op.getName().getStringRef().str();
      return failure();
    }
    Value result = op.getResult(0);
    RefTensor out = make(result);
    auto map1 = [&](std::function<double(double)> f) {
      const RefTensor &x = in(op.getOperand(0));
      for (int64_t i = 0; i < out.size(); ++i)
        out.data[i] = f(x.data[i]);
    };
    auto map2 = [&](std::function<double(double, double)> f) {
      const RefTensor &x = in(op.getOperand(0)), &y = in(op.getOperand(1));
      for (int64_t i = 0; i < out.size(); ++i)
        out.data[i] = f(x.data[i], y.data[i]);
    };
    bool ok = true;
    TypeSwitch<Operation *>(&op)
        .Case([&](meta::ConstantOp c) {
          auto dense = cast<DenseElementsAttr>(c.getValue());
          int64_t i = 0;
          if (dense.isSplat())
            std::fill(out.data.begin(), out.data.end(),
                      dense.getSplatValue<float>());
          else
            for (float v : dense.getValues<float>())
              out.data[i++] = v;
        })
        .Case([&](meta::AddOp) {
          map2([](double a, double b) { return a + b; });
        })
        .Case([&](meta::SubOp) {
          map2([](double a, double b) { return a - b; });
        })
        .Case([&](meta::MulOp) {
          map2([](double a, double b) { return a * b; });
        })
        .Case([&](meta::DivOp) {
          map2([](double a, double b) { return a / b; });
        })
        .Case([&](meta::MaxOp) {
          map2([](double a, double b) { return a >= b ? a : b; });
        })
        .Case([&](meta::MinOp) {
          map2([](double a, double b) { return a <= b ? a : b; });
        })
        .Case([&](meta::NegOp) { map1([](double x) { return -x; }); })
        .Case([&](meta::SinOp) { map1([](double x) { return std::sin(x); }); })
        .Case([&](meta::CosOp) { map1([](double x) { return std::cos(x); }); })
        .Case([&](meta::ExpOp) { map1([](double x) { return std::exp(x); }); })
        .Case([&](meta::LogOp) { map1([](double x) { return std::log(x); }); })
        .Case(
            [&](meta::TanhOp) { map1([](double x) { return std::tanh(x); }); })
        .Case([&](meta::SigmoidOp) {
          map1([](double x) { return 1.0 / (1.0 + std::exp(-x)); });
        })
        .Case([&](meta::ReluOp) {
          map1([](double x) { return x > 0 ? x : 0.0; });
        })
        .Case(
            [&](meta::SqrtOp) { map1([](double x) { return std::sqrt(x); }); })
        .Case([&](meta::AbsOp) { map1([](double x) { return std::fabs(x); }); })
        .Case([&](meta::SquareOp) { map1([](double x) { return x * x; }); })
        .Case([&](meta::SignOp) {
          map1([](double x) { return double((x > 0) - (x < 0)); });
        })
        .Case([&](meta::StopGradientOp) { map1([](double x) { return x; }); })
        .Case([&](meta::CmpOp c) {
          StringRef p = c.getPredicate();
          map2([p](double a, double b) {
            bool r = p == "lt"   ? a < b
                     : p == "le" ? a <= b
                     : p == "gt" ? a > b
                     : p == "ge" ? a >= b
                     : p == "eq" ? a == b
                                 : a != b;
            return double(r);
          });
        })
        .Case([&](meta::SelectOp) {
          const RefTensor &c = in(op.getOperand(0)), &a = in(op.getOperand(1)),
                          &b = in(op.getOperand(2));
          for (int64_t i = 0; i < out.size(); ++i)
            out.data[i] = c.data[i] != 0 ? a.data[i] : b.data[i];
        })
        .Case([&](meta::MatmulOp) {
          const RefTensor &a = in(op.getOperand(0)), &b = in(op.getOperand(1));
          int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              double s = 0;
              for (int64_t l = 0; l < k; ++l)
                s += a.data[i * k + l] * b.data[l * n + j];
              out.data[i * n + j] = s;
            }
        })
        .Case([&](meta::TransposeOp t) {
          const RefTensor &x = in(t.getInput());
          auto xs = strides(x.shape);
          auto perm = t.getPermutation();
          for (int64_t i = 0; i < out.size(); ++i) {
            auto idx = unravel(i, out.shape);
            int64_t src = 0;
            for (size_t d = 0; d < idx.size(); ++d)
              src += idx[d] * xs[perm[d]];
            out.data[i] = x.data[src];
          }
        })
        .Case([&](meta::ReshapeOp r) { out.data = in(r.getInput()).data; })
        .Case([&](meta::BroadcastOp b) {
          const RefTensor &x = in(b.getInput());
          auto xs = strides(x.shape);
          size_t lead = out.shape.size() - x.shape.size();
          for (int64_t i = 0; i < out.size(); ++i) {
            auto idx = unravel(i, out.shape);
            int64_t src = 0;
            for (size_t d = 0; d < x.shape.size(); ++d)
              src += (x.shape[d] == 1 ? 0 : idx[lead + d]) * xs[d];
            out.data[i] = x.data[src];
          }
        })
        .Case([&](meta::ReduceSumOp r) {
          const RefTensor &x = in(r.getInput());
          forEachReduced(
              x, r.getAxes(), out.shape,
              [&](int64_t src, int64_t dst) { out.data[dst] += x.data[src]; });
        })
        .Case([&](meta::ReduceMaxOp r) {
          const RefTensor &x = in(r.getInput());
          std::fill(out.data.begin(), out.data.end(), -HUGE_VAL);
          forEachReduced(x, r.getAxes(), out.shape,
                         [&](int64_t src, int64_t dst) {
                           out.data[dst] = std::max(out.data[dst], x.data[src]);
                         });
        })
        .Case([&](meta::Conv2DOp c) {
          forEachConvTerm(c, [&](int64_t xi, int64_t wi, int64_t yi) {
            out.data[yi] +=
                in(c.getInput()).data[xi] * in(c.getFilter()).data[wi];
          });
        })
        .Case([&](meta::Conv2DInputGradOp c) {
          forEachConvTerm(c, [&](int64_t xi, int64_t wi, int64_t yi) {
            out.data[xi] +=
                in(c.getCotangent()).data[yi] * in(c.getFilter()).data[wi];
          });
        })
        .Case([&](meta::Conv2DFilterGradOp c) {
          forEachConvTerm(c, [&](int64_t xi, int64_t wi, int64_t yi) {
            out.data[wi] +=
                in(c.getInput()).data[xi] * in(c.getCotangent()).data[yi];
          });
        })
        .Case([&](meta::MaxPoolGatherOp p) {
          const RefTensor &v = in(p.getValues());
          forEachPoolArgmax(
              in(p.getInput()), p.getWindow(), out.shape,
              [&](int64_t src, int64_t dst) { out.data[dst] = v.data[src]; });
        })
        .Case([&](meta::MaxPoolScatterOp p) {
          const RefTensor &g = in(p.getCotangent());
          forEachPoolArgmax(
              in(p.getInput()), p.getWindow(), g.shape,
              [&](int64_t src, int64_t dst) { out.data[src] = g.data[dst]; });
        })
        .Case([&](meta::SliceOp s) {
          const RefTensor &x = in(s.getInput());
          auto xs = strides(x.shape);
          auto off = s.getOffsets();
          for (int64_t i = 0; i < out.size(); ++i)
            out.data[i] = x.data[shiftedIndex(unravel(i, out.shape), off, xs)];
        })
        .Case([&](meta::PadOp p) {
          const RefTensor &x = in(p.getInput());
          auto os = strides(out.shape);
          auto off = p.getOffsets();
          for (int64_t i = 0; i < x.size(); ++i)
            out.data[shiftedIndex(unravel(i, x.shape), off, os)] = x.data[i];
        })
        .Case([&](meta::RandomUniformOp r) {
          uint64_t key = in(r.getKey()).key;
          for (int64_t i = 0; i < out.size(); ++i)
            out.data[i] = hashUniform(key, r.getStream(), i);
        })
        .Case([&](meta::RandomNormalOp r) {
          uint64_t key = in(r.getKey()).key;
          for (int64_t i = 0; i < out.size(); ++i) {
            double u1 = 1.0 - hashUniform(key, r.getStream(), 2 * i);
            double u2 = hashUniform(key, r.getStream(), 2 * i + 1);
            out.data[i] =
                std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
          }
        })
        .Default([&](Operation *o) {
          error = "unsupported op " + o->getName().getStringRef().str();
          ok = false;
        });
    if (!ok)
      return failure();
    env[result] = std::move(out);
  }
  error = "function has no return";
  return failure();
}
