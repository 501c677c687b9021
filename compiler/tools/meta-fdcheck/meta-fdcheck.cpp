//===- meta-fdcheck.cpp - Derivatives against finite differences ----------===//
//
// The oracle of metac's derivative tests. Everything is evaluated in double
// precision by the reference interpreter, so central differences are
// accurate to ~1e-10 and any disagreement is a wrong rule, not noise.
//
//   meta-fdcheck ops.mlir
//     For every function f(x1..xn) -> scalar: builds grad(f) and a
//     Hessian-vector product (grad of <grad f, v>, a nested meta.grad), runs
//     -meta-autodiff, and compares them with central differences of f and of
//     grad f. Inputs are drawn from U[lo, hi], `fdcheck.range = [lo, hi]` on
//     the function (default [-2, 2]).
//
//   meta-fdcheck --compare-with=libprog.so program.mlir  (metac -emit=lib)
//     Runs every kernel of the compiled library and of the interpreter on the
//     same random inputs and compares them: the code generator against the
//     textbook definition of each op.
//
//   meta-fdcheck --kernel=meta_grad_10_10 program.mlir   (from metac
//   -emit=mlir)
//     Checks the whole meta-gradient of a compiled program against central
//     differences of its meta-objective, on tasks drawn by its own samplers.
//     With --first-order, instead checks that the meta-gradient equals the
//     gradient of the query loss at the adapted parameters (first-order MAML).
//
//===----------------------------------------------------------------------===//
#include "metac/CodeGen/Pipeline.h"
#include "metac/Dialect/MetaDialect.h"
#include "metac/Interpreter/ReferenceInterpreter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <random>

using namespace mlir;
using namespace metac;
namespace cl = llvm::cl;

namespace {
cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .mlir>"),
                               cl::Required);
cl::opt<std::string>
    kernelName("kernel", cl::desc("Check this meta_grad kernel"), cl::init(""));
cl::opt<bool> firstOrder("first-order",
                         cl::desc("Check the first-order MAML identity"),
                         cl::init(false));
cl::opt<double> tolerance("tolerance", cl::desc("Largest relative error"),
                          cl::init(1e-6));
cl::opt<unsigned> maxProbes("probes",
                            cl::desc("Parameter entries probed per kernel"),
                            cl::init(60));
cl::opt<unsigned> seed("seed", cl::init(7));
cl::opt<std::string> compareWith("compare-with",
                                 cl::desc("A metac -emit=lib library of the "
                                          "same program"),
                                 cl::init(""));

std::mt19937_64 rng;

RefTensor randomTensor(Type type, double lo, double hi) {
  auto t = cast<RankedTensorType>(type);
  RefTensor r;
  r.shape.assign(t.getShape().begin(), t.getShape().end());
  std::uniform_real_distribution<double> u(lo, hi);
  r.data.resize(t.getNumElements());
  for (double &v : r.data)
    v = u(rng);
  return r;
}

std::vector<RefTensor> run(func::FuncOp fn,
                           const std::vector<RefTensor> &args) {
  std::vector<RefTensor> out;
  std::string error;
  if (failed(interpret(fn, args, out, error))) {
    llvm::errs() << "meta-fdcheck: " << fn.getName() << ": " << error << "\n";
    std::exit(2);
  }
  return out;
}

/// Relative error of `got` against `want`, scaled by the larger of 1 and the
/// largest |want|.
struct ErrorMeter {
  double maxAbsWant = 0, maxDiff = 0;
  void add(double got, double want) {
    maxAbsWant = std::max(maxAbsWant, std::fabs(want));
    maxDiff = std::max(maxDiff, std::fabs(got - want));
    if (std::isnan(got) || std::isnan(want))
      maxDiff = INFINITY;
  }
  double relative() const { return maxDiff / std::max(1.0, maxAbsWant); }
};

/// Central difference step for a value of magnitude |x|.
double stepFor(double x) { return 1e-5 * std::max(1.0, std::fabs(x)); }

/// Clones `fn`'s body into a meta.grad region over all its arguments.
/// `wrap` may post-process the scalar inside the region (for the HVP).
void buildGradient(OpBuilder &b, func::FuncOp fn, func::FuncOp target,
                   ValueRange point, function_ref<Value(Value)> wrap,
                   SmallVectorImpl<Value> &grads) {
  Location loc = fn.getLoc();
  SmallVector<Type> types(fn.getArgumentTypes());
  auto grad = b.create<meta::GradOp>(loc, types, point);
  Block *body = b.createBlock(&grad.getBody());
  IRMapping map;
  for (auto [arg, type] : llvm::zip(fn.getArguments(), types))
    map.map(arg, body->addArgument(type, loc));
  Value scalar;
  for (Operation &op : fn.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      scalar = map.lookup(ret.getOperand(0));
      break;
    }
    b.clone(op, map);
  }
  b.create<meta::YieldOp>(loc, wrap(scalar));
  b.setInsertionPointAfter(grad);
  grads.append(grad.getResults().begin(), grad.getResults().end());
}

Value dot(OpBuilder &b, Location loc, Value x, Value y) {
  Value p = b.create<meta::MulOp>(loc, x, y);
  auto type = cast<RankedTensorType>(p.getType());
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    axes.push_back(i);
  if (axes.empty())
    return p;
  return b.create<meta::ReduceSumOp>(loc,
                                     RankedTensorType::get({}, b.getF32Type()),
                                     p, b.getDenseI64ArrayAttr(axes));
}

int checkOps(ModuleOp module, MLIRContext &ctx) {
  struct Case {
    func::FuncOp f, grad, hvp;
    double lo = -2, hi = 2;
  };
  std::vector<Case> cases;
  OpBuilder b(&ctx);
  for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
    Case c;
    c.f = fn;
    if (auto range = fn->getAttrOfType<ArrayAttr>("fdcheck.range")) {
      c.lo = cast<FloatAttr>(range[0]).getValueAsDouble();
      c.hi = cast<FloatAttr>(range[1]).getValueAsDouble();
    }
    Location loc = fn.getLoc();
    SmallVector<Type> types(fn.getArgumentTypes());
    // grad(f): (x) -> (df/dx...)
    b.setInsertionPointToEnd(module.getBody());
    c.grad = b.create<func::FuncOp>(loc, (fn.getName() + "__grad").str(),
                                    b.getFunctionType(types, types));
    b.setInsertionPointToStart(c.grad.addEntryBlock());
    SmallVector<Value> grads;
    buildGradient(
        b, fn, c.grad, c.grad.getArguments(), [](Value s) { return s; }, grads);
    b.create<func::ReturnOp>(loc, grads);
    // hvp(x, v) = grad_x <grad f(x), v>: a nested grad, i.e. second order.
    SmallVector<Type> twice(types);
    twice.append(types.begin(), types.end());
    b.setInsertionPointToEnd(module.getBody());
    c.hvp = b.create<func::FuncOp>(loc, (fn.getName() + "__hvp").str(),
                                   b.getFunctionType(twice, types));
    b.setInsertionPointToStart(c.hvp.addEntryBlock());
    auto args = c.hvp.getArguments();
    auto point = args.take_front(types.size());
    auto dir = args.drop_front(types.size());
    auto outer = b.create<meta::GradOp>(loc, types, ValueRange(point));
    Block *ob = b.createBlock(&outer.getBody());
    for (Type t : types)
      ob->addArgument(t, loc);
    SmallVector<Value> inner;
    buildGradient(
        b, fn, c.hvp, ob->getArguments(), [](Value s) { return s; }, inner);
    Value total;
    for (auto [g, v] : llvm::zip(inner, dir)) {
      Value d = dot(b, loc, g, v);
      total = total ? b.create<meta::AddOp>(loc, total, d).getResult() : d;
    }
    b.create<meta::YieldOp>(loc, total);
    b.setInsertionPointAfter(outer);
    b.create<func::ReturnOp>(loc, outer.getResults());
    cases.push_back(c);
  }
  PassManager pm(&ctx);
  buildDifferentiationPipeline(pm);
  if (failed(pm.run(module))) {
    llvm::errs() << "meta-fdcheck: differentiation failed\n";
    return 2;
  }

  int failures = 0;
  for (Case &c : cases) {
    std::vector<RefTensor> x, v;
    for (Type t : c.f.getArgumentTypes()) {
      x.push_back(randomTensor(t, c.lo, c.hi));
      v.push_back(randomTensor(t, -1, 1));
    }
    auto f = [&](const std::vector<RefTensor> &a) {
      return run(c.f, a)[0].data[0];
    };
    // First order: every input element.
    std::vector<RefTensor> g = run(c.grad, x);
    ErrorMeter first;
    for (size_t i = 0; i < x.size(); ++i)
      for (int64_t j = 0; j < x[i].size(); ++j) {
        double h = stepFor(x[i].data[j]);
        auto xp = x, xm = x;
        xp[i].data[j] += h;
        xm[i].data[j] -= h;
        first.add(g[i].data[j], (f(xp) - f(xm)) / (2 * h));
      }
    // Second order: H v against the central difference of grad f along v.
    std::vector<RefTensor> xv = x;
    xv.insert(xv.end(), v.begin(), v.end());
    std::vector<RefTensor> hv = run(c.hvp, xv);
    auto xp = x, xm = x;
    double h = 1e-5;
    for (size_t i = 0; i < x.size(); ++i)
      for (int64_t j = 0; j < x[i].size(); ++j) {
        xp[i].data[j] += h * v[i].data[j];
        xm[i].data[j] -= h * v[i].data[j];
      }
    std::vector<RefTensor> gp = run(c.grad, xp), gm = run(c.grad, xm);
    ErrorMeter second;
    for (size_t i = 0; i < x.size(); ++i)
      for (int64_t j = 0; j < x[i].size(); ++j)
        second.add(hv[i].data[j], (gp[i].data[j] - gm[i].data[j]) / (2 * h));
    bool ok = first.relative() <= tolerance && second.relative() <= tolerance;
    failures += !ok;
    llvm::outs() << llvm::formatv(
        "{0}: first order {1:e2}, second order {2:e2}: {3}\n", c.f.getName(),
        first.relative(), second.relative(), ok ? "ok" : "FAIL");
  }
  return failures ? 1 : 0;
}

/// trpo_hvp_S_Q: H v, H the Hessian of the trust-region KL (the second
/// result of surrogate_S_Q), against mixed central differences of the KL:
/// (H v)_j = d/dx_j d/dt KL(x + t v), probed at random entries j.
int checkHessianVector(ModuleOp module, func::FuncOp kernel,
                       const std::vector<RefTensor> &params,
                       const std::vector<RefTensor> &data, int64_t s, int64_t q,
                       unsigned numParams) {
  auto surrogate = module.lookupSymbol<func::FuncOp>(
      llvm::formatv("surrogate_{0}_{1}", s, q).str());
  if (!surrogate)
    return llvm::errs() << "meta-fdcheck: no surrogate kernel\n", 2;
  std::vector<RefTensor> v;
  for (unsigned i = 0; i < numParams; ++i)
    v.push_back(randomTensor(kernel.getArgumentTypes()[i], -1, 1));
  std::vector<RefTensor> a(params);
  a.insert(a.end(), data.begin(), data.end());
  a.insert(a.end(), v.begin(), v.end());
  std::vector<RefTensor> hv = run(kernel, a);
  auto kl = [&](const std::vector<RefTensor> &p) {
    std::vector<RefTensor> in(p);
    in.insert(in.end(), data.begin(), data.end());
    return run(surrogate, in)[0].data[1];
  };
  std::uniform_int_distribution<unsigned> pickParam(0, numParams - 1);
  ErrorMeter meter;
  const double h = 1e-4;
  for (unsigned probe = 0; probe < maxProbes; ++probe) {
    unsigned i = pickParam(rng);
    int64_t j =
        std::uniform_int_distribution<int64_t>(0, params[i].size() - 1)(rng);
    auto at = [&](double dj, double dv) {
      std::vector<RefTensor> p(params);
      for (unsigned k = 0; k < numParams; ++k)
        for (int64_t e = 0; e < p[k].size(); ++e)
          p[k].data[e] += dv * v[k].data[e];
      p[i].data[j] += dj;
      return kl(p);
    };
    double mixed =
        (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
    meter.add(hv[i].data[j], mixed);
  }
  bool ok = meter.relative() <= tolerance;
  llvm::outs() << llvm::formatv(
      "{0}: {1} probes, max relative error {2:e2}: {3}\n", kernelName,
      (unsigned)maxProbes, meter.relative(), ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}

int checkKernel(ModuleOp module, MLIRContext &ctx) {
  PassManager pm(&ctx);
  buildDifferentiationPipeline(pm);
  if (failed(pm.run(module)))
    return llvm::errs() << "meta-fdcheck: differentiation failed\n", 2;
  auto kernel = module.lookupSymbol<func::FuncOp>(kernelName);
  if (!kernel)
    return llvm::errs() << "meta-fdcheck: no kernel " << kernelName << "\n", 2;
  // meta_grad_S_Q: P parameters, then D support and D query tensors;
  // results: loss and P gradients. trpo_hvp_S_Q: the same inputs and P
  // vector tensors; results: P tensors.
  int64_t s, q;
  // trpo_kl_grad_S_Q has meta_grad's signature (the KL and its gradient).
  bool hvp = sscanf(kernelName.c_str(), "trpo_hvp_%ld_%ld", &s, &q) == 2;
  if (!hvp && sscanf(kernelName.c_str(), "meta_grad_%ld_%ld", &s, &q) != 2 &&
      sscanf(kernelName.c_str(), "trpo_kl_grad_%ld_%ld", &s, &q) != 2)
    return llvm::errs() << "meta-fdcheck: not a meta_grad, trpo_kl_grad or "
                           "trpo_hvp kernel\n",
           2;
  unsigned numParams =
      hvp ? kernel.getNumResults() : kernel.getNumResults() - 1;
  unsigned numData = (kernel.getNumArguments() - (hvp ? 2 : 1) * numParams) / 2;
  auto sampler = [&](int64_t n) {
    return module.lookupSymbol<func::FuncOp>("sample_" + std::to_string(n));
  };
  auto key = [](uint64_t k) {
    RefTensor t;
    t.data = {0};
    t.key = k;
    return t;
  };
  std::vector<RefTensor> args;
  for (unsigned i = 0; i < numParams; ++i)
    args.push_back(randomTensor(kernel.getArgumentTypes()[i], -0.4, 0.4));
  std::vector<RefTensor> data;
  if (sampler(s) && sampler(q)) {
    auto support = run(sampler(s), {key(12345), key(1)});
    auto query = run(sampler(q), {key(12345), key(2)});
    data = support;
    data.insert(data.end(), query.begin(), query.end());
  } else {
    // An environment's trajectories come from rollouts in the runtime: any
    // values will do for a derivative check. Positive ones keep the
    // normalisers (sums of masks) away from zero.
    for (unsigned i = 0; i < 2 * numData; ++i)
      data.push_back(
          randomTensor(kernel.getArgumentTypes()[numParams + i], 0.1, 0.9));
  }
  if (data.size() != 2 * numData)
    return llvm::errs() << "meta-fdcheck: sampler/kernel mismatch\n", 2;
  if (hvp)
    return checkHessianVector(module, kernel, args, data, s, q, numParams);

  auto withParams = [&](const std::vector<RefTensor> &params) {
    std::vector<RefTensor> a(params);
    a.insert(a.end(), data.begin(), data.end());
    return a;
  };
  std::vector<RefTensor> out = run(kernel, withParams(args));

  // The function whose gradient the kernel claims to return, and the point.
  std::function<double(const std::vector<RefTensor> &)> loss;
  std::vector<RefTensor> point(args);
  unsigned checked = numParams;
  if (!firstOrder) {
    loss = [&](const std::vector<RefTensor> &p) {
      return run(kernel, withParams(p))[0].data[0];
    };
  } else {
    // d/dθ L_q(adapt(θ)) with stop_grad inside adapt = ∇L_q at φ = adapt(θ).
    // A stepwise program has one-step and query kernels instead of the
    // unrolled adapt and eval kernels.
    auto adapt =
        module.lookupSymbol<func::FuncOp>("adapt_" + std::to_string(s));
    auto eval = module.lookupSymbol<func::FuncOp>(
        llvm::formatv("eval_{0}_{1}", s, q).str());
    auto step =
        module.lookupSymbol<func::FuncOp>("adapt_step_" + std::to_string(s));
    auto query =
        module.lookupSymbol<func::FuncOp>("query_eval_" + std::to_string(q));
    auto program = module->getAttrOfType<StringAttr>("metac.program");
    bool stepwise = !adapt && !eval && step && query;
    if (!stepwise && (!adapt || !eval))
      return llvm::errs() << "meta-fdcheck: no adapt/eval kernel\n", 2;
    // The evaluation kernel's first loss must be the one after 0 steps.
    if (!stepwise &&
        (!program || !program.getValue().contains("\nlist eval_steps 0")))
      return llvm::errs() << "meta-fdcheck: --first-order needs evaluation "
                             "steps starting with 0\n",
             2;
    int64_t innerSteps = 1;
    if (stepwise) {
      StringRef text = program ? program.getValue() : "";
      StringRef record = "\nsetting inner_steps ";
      size_t at = text.find(record);
      if (at == StringRef::npos ||
          text.substr(at + record.size()).consumeInteger(10, innerSteps))
        return llvm::errs() << "meta-fdcheck: no inner_steps setting\n", 2;
    }
    std::vector<RefTensor> supportData(data.begin(), data.begin() + numData);
    std::vector<RefTensor> phi;
    if (stepwise) {
      std::vector<RefTensor> theta = args;
      phi.assign(args.begin(), args.begin() + step.getNumResults());
      for (int64_t k = 0; k < innerSteps; ++k) {
        std::vector<RefTensor> a(theta);
        a.insert(a.end(), supportData.begin(), supportData.end());
        std::vector<RefTensor> next = run(step, a);
        for (unsigned i = 0; i < next.size(); ++i)
          theta[i] = next[i];
        phi = std::move(next);
      }
    } else {
      std::vector<RefTensor> a(args);
      a.insert(a.end(), supportData.begin(), supportData.end());
      phi = run(adapt, a);
    }
    checked = phi.size(); // model parameters only
    point = args;
    for (unsigned i = 0; i < checked; ++i)
      point[i] = phi[i];
    // The kernels by value: they are locals of this block, and loss runs
    // after it.
    loss = [&, stepwise, eval, query](const std::vector<RefTensor> &p) {
      if (!stepwise)
        // The evaluation kernel's first entry is the objective after 0
        // steps.
        return run(eval, withParams(p))[0].data[0];
      std::vector<RefTensor> a(p);
      a.insert(a.end(), data.begin() + numData, data.end());
      return run(query, a)[0].data[0];
    };
  }
  if (checked == 0)
    return llvm::errs() << "meta-fdcheck: the kernel has no parameters\n", 2;
  std::uniform_int_distribution<unsigned> pickParam(0, checked - 1);
  ErrorMeter meter;
  for (unsigned probe = 0; probe < maxProbes; ++probe) {
    unsigned i = pickParam(rng);
    int64_t j =
        std::uniform_int_distribution<int64_t>(0, point[i].size() - 1)(rng);
    double h = stepFor(point[i].data[j]);
    auto pp = point, pm2 = point;
    pp[i].data[j] += h;
    pm2[i].data[j] -= h;
    meter.add(out[1 + i].data[j], (loss(pp) - loss(pm2)) / (2 * h));
  }
  bool ok = meter.relative() <= tolerance;
  llvm::outs() << llvm::formatv(
      "{0}{1}: {2} probes, max relative error {3:e2}: {4}\n", kernelName,
      firstOrder ? " (first order)" : "", (unsigned)maxProbes, meter.relative(),
      ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}

/// Compiled kernels (f32, through the whole lowering and LLVM) against the
/// interpreter (double, op by op) on the same inputs.
int compareCompiled(ModuleOp module, MLIRContext &ctx) {
  PassManager pm(&ctx);
  buildDifferentiationPipeline(pm);
  if (failed(pm.run(module)))
    return llvm::errs() << "meta-fdcheck: differentiation failed\n", 2;
  std::string error;
  auto lib = llvm::sys::DynamicLibrary::getPermanentLibrary(compareWith.c_str(),
                                                            &error);
  if (!lib.isValid())
    return llvm::errs() << "meta-fdcheck: " << error << "\n", 2;
  using KernelFn = void (*)(void **);
  auto *table =
      static_cast<KernelFn *>(lib.getAddressOfSymbol("metac_kernels"));
  auto names = module->getAttrOfType<ArrayAttr>("metac.kernels");
  if (!table || !names)
    return llvm::errs() << "meta-fdcheck: no kernel table\n", 2;
  int failures = 0;
  for (auto [id, nameAttr] : llvm::enumerate(names)) {
    StringRef name = cast<StringAttr>(nameAttr).getValue();
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    std::vector<RefTensor> inputs;
    std::vector<std::vector<float>> f32Inputs;
    std::vector<uint64_t> keys;
    for (Type t : fn.getArgumentTypes()) {
      auto type = cast<RankedTensorType>(t);
      if (type.getElementType().isInteger(64)) {
        RefTensor k;
        k.data = {0};
        k.key = rng();
        keys.push_back(k.key);
        inputs.push_back(k);
        continue;
      }
      inputs.push_back(randomTensor(type, -0.5, 0.5));
      f32Inputs.emplace_back(inputs.back().data.begin(),
                             inputs.back().data.end());
    }
    // Pointers into the inputs, now that the vectors no longer grow.
    std::vector<void *> args;
    size_t f = 0, k = 0;
    for (Type t : fn.getArgumentTypes())
      args.push_back(cast<RankedTensorType>(t).getElementType().isInteger(64)
                         ? static_cast<void *>(&keys[k++])
                         : static_cast<void *>(f32Inputs[f++].data()));
    std::vector<std::vector<float>> outputs;
    for (Type t : fn.getResultTypes())
      outputs.emplace_back(cast<RankedTensorType>(t).getNumElements(), NAN);
    for (auto &o : outputs)
      args.push_back(o.data());
    table[id](args.data());
    std::vector<RefTensor> want = run(fn, inputs);
    ErrorMeter meter;
    for (size_t r = 0; r < outputs.size(); ++r)
      for (size_t i = 0; i < outputs[r].size(); ++i)
        meter.add(outputs[r][i], want[r].data[i]);
    bool ok = meter.relative() <= tolerance;
    failures += !ok;
    llvm::outs() << llvm::formatv("{0}: compiled vs interpreter {1:e2}: {2}\n",
                                  name, meter.relative(), ok ? "ok" : "FAIL");
  }
  return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "metac derivative checker\n");
  rng.seed(seed);
  DialectRegistry registry;
  registerMetacDialects(registry);
  MLIRContext ctx(registry);
  llvm::SourceMgr srcMgr;
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputFile, srcMgr, ParserConfig(&ctx));
  if (!module)
    return 2;
  if (!compareWith.empty())
    return compareCompiled(*module, ctx);
  return kernelName.empty() ? checkOps(*module, ctx)
                            : checkKernel(*module, ctx);
}
