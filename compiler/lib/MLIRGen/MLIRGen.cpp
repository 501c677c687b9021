//===- MLIRGen.cpp - Semantic analysis and generation of the meta dialect -===//
//
// The program is evaluated symbolically: every expression becomes a `Val`
// (a tensor, a boolean tensor, a record of tensors, or a compile-time
// integer such as `n` or a step index) whose ops are emitted as they are
// checked. Models are inlined at each call, `repeat` loops are unrolled, and
// `grad` becomes a `meta.grad` region in which the differentiated variable is
// rebound to the region's arguments.
//
// Kernels (see runtime/include/metac/abi.h):
//   sample_N(task_key, data_key) -> data fields         for every size N used
//   meta_grad_S_Q(params, support, query) -> (loss, grads)
//   adapt_S(params, support) -> adapted model params
//   eval_S_Q(params, support, query) -> losses[len(eval steps)]
// and for environments reset_N, step_N (or reward_N with a simulator),
// policy_N, and with TRPO trpo_hvp_S_Q and surrogate_S_Q.
//
//===----------------------------------------------------------------------===//
#include "metac/MLIRGen/MLIRGen.h"
#include "metac/Dialect/MetaDialect.h"
#include "metac/MLIRGen/Simulator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <list>
#include <map>
#include <optional>
#include <set>

using namespace mlir;
using namespace metac;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::StringRef;
namespace meta = metac::meta;

namespace {

//===----------------------------------------------------------------------===//
// Values of the language
//===----------------------------------------------------------------------===//

/// A value during symbolic evaluation.
struct Val {
  enum Kind { Tensor, Bool, Record, Int } kind = Tensor;
  Value value;                                       // Tensor, Bool
  std::vector<std::pair<std::string, Value>> leaves; // Record: path -> tensor
  int64_t integer = 0;                               // Int

  static Val tensor(Value v) { return Val{Tensor, v, {}, 0}; }
  static Val boolean(Value v) { return Val{Bool, v, {}, 0}; }
  static Val record(std::vector<std::pair<std::string, Value>> leaves) {
    return Val{Record, Value(), std::move(leaves), 0};
  }
  static Val integerVal(int64_t i) { return Val{Int, Value(), {}, i}; }
};

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

std::string shapeString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "f32";
  std::string s = "f32[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

/// Whether v is a diagonal Gaussian policy distribution: the record
/// {mean, log_std} that gaussian(mean, log_std) makes, both f32[n, d].
bool isGaussian(const Val &v) {
  return v.kind == Val::Record && v.leaves.size() == 2 &&
         v.leaves[0].first == "mean" && v.leaves[1].first == "log_std" &&
         shapeOf(v.leaves[0].second).size() == 2 &&
         shapeOf(v.leaves[0].second) == shapeOf(v.leaves[1].second);
}

/// Whether v is a categorical policy distribution: the record {logits}
/// that categorical(logits) makes, f32[n, k] (one row per state).
bool isCategorical(const Val &v) {
  return v.kind == Val::Record && v.leaves.size() == 1 &&
         v.leaves[0].first == "logits" &&
         shapeOf(v.leaves[0].second).size() == 2;
}

/// "gaussian" or "categorical" for a distribution, "" otherwise.
StringRef distributionKind(const Val &v) {
  return isGaussian(v) ? "gaussian" : isCategorical(v) ? "categorical" : "";
}

/// The [n, actions] shape of a distribution's values (its first leaf's).
ArrayRef<int64_t> distributionShape(const Val &v) {
  return shapeOf(v.leaves[0].second);
}

std::string describe(const Val &v) {
  switch (v.kind) {
  case Val::Tensor:
    return shapeString(shapeOf(v.value));
  case Val::Bool:
    return "a boolean tensor";
  case Val::Record:
    if (!distributionKind(v).empty())
      return "a " + distributionKind(v).str() + " over " +
             shapeString(distributionShape(v));
    return "a record of " + std::to_string(v.leaves.size()) + " tensors";
  case Val::Int:
    return "an integer";
  }
  return "?";
}

/// Like describe(), but lists a record's fields: "{w: f32[1, 8], b: f32[8]}".
std::string describeFields(const Val &v) {
  if (v.kind != Val::Record)
    return describe(v);
  std::string out;
  for (auto &[name, leaf] : v.leaves)
    out += (out.empty() ? "{" : ", ") + name + ": " +
           shapeString(shapeOf(leaf));
  return out + "}";
}

/// Numpy broadcasting of two shapes, or nullopt.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = std::max(da, db);
  }
  return out;
}

/// A number in the descriptor: round-trips through float parsing.
std::string num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// Largest tensor metac accepts: 2^28 elements (1 GiB of f32). Bigger sizes
/// are almost surely typos, and element counts must not overflow int64.
constexpr int64_t kMaxElements = int64_t(1) << 28;

/// Whether `shape` has positive dimensions and at most kMaxElements elements.
bool isReasonableShape(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d <= 0 || d > kMaxElements)
      return false;
    count *= d;
    if (count > kMaxElements)
      return false;
  }
  return true;
}

/// A parameter the runtime initialises.
struct ParamSpec {
  std::string name;
  SmallVector<int64_t> shape;
  std::string init; // Descriptor syntax: "uniform -0.5 0.5".
  SMLoc loc;
};

/// Names in scope: a stack of maps, innermost last.
class Scope {
public:
  void push() { frames.emplace_back(); }
  void pop() { frames.pop_back(); }
  void set(StringRef name, Val v) { frames.back()[name.str()] = std::move(v); }
  /// Updates the innermost frame that defines `name`, else defines it here.
  void assign(StringRef name, Val v) {
    for (auto &frame : llvm::reverse(frames))
      if (frame.count(name.str())) {
        frame[name.str()] = std::move(v);
        return;
      }
    set(name, std::move(v));
  }
  Val *lookup(StringRef name) {
    for (auto &frame : llvm::reverse(frames)) {
      auto it = frame.find(name.str());
      if (it != frame.end())
        return &it->second;
    }
    return nullptr;
  }

private:
  // A list, so that pointers to values stay valid while frames come and go.
  std::list<std::map<std::string, Val>> frames;
};

//===----------------------------------------------------------------------===//
// The generator
//===----------------------------------------------------------------------===//

class MLIRGenImpl {
public:
  MLIRGenImpl(MLIRContext &ctx, const Program &program,
              metac::DiagnosticEngine &diags, ProgramInfo &info)
      : ctx(ctx), program(program), diags(diags), info(info), builder(&ctx) {}

  OwningOpRef<ModuleOp> run();

private:
  using OptVal = std::optional<Val>;

  // Locations and errors. `fail` reports and returns nullopt, so that
  // `return fail(...)` ends the evaluation of the enclosing expression.
  Location loc(SMLoc l) {
    auto [line, col] = diags.getLineAndColumn(l);
    if (!line)
      return builder.getUnknownLoc();
    return FileLineColLoc::get(&ctx, diags.getBufferName(l), line, col);
  }
  std::nullopt_t fail(SMLoc l, const Twine &msg, ArrayRef<SMRange> r = {}) {
    diags.error(l, msg, r);
    return std::nullopt;
  }

  // Tensors.
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  Value constant(ArrayRef<int64_t> shape, float v, SMLoc l) {
    return builder.create<meta::ConstantOp>(loc(l), f32(shape), v);
  }
  Value broadcastTo(Value v, ArrayRef<int64_t> shape, SMLoc l) {
    if (shapeOf(v) == shape)
      return v;
    return builder.create<meta::BroadcastOp>(loc(l), f32(shape), v);
  }
  Value reshape(Value v, ArrayRef<int64_t> shape, SMLoc l) {
    if (shapeOf(v) == shape)
      return v;
    return builder.create<meta::ReshapeOp>(loc(l), f32(shape), v);
  }
  Value reduceAll(Value v, SMLoc l) {
    SmallVector<int64_t> axes =
        llvm::to_vector(llvm::seq<int64_t>(0, shapeOf(v).size()));
    if (axes.empty())
      return v;
    return builder.create<meta::ReduceSumOp>(
        loc(l), f32({}), v, builder.getDenseI64ArrayAttr(axes));
  }
  int64_t numElements(Value v) {
    return cast<RankedTensorType>(v.getType()).getNumElements();
  }

  // Expressions.
  OptVal eval(const Expr &e);
  OptVal evalTensor(const Expr &e, StringRef what);
  OptVal evalBinary(const BinaryExpr &e);
  /// A list of numbers as a constant f32 vector, a list of lists as a
  /// matrix.
  OptVal evalConstantTensor(const ListExpr &list);
  OptVal applyBinary(BinaryOp op, const Val &a, const Val &b, SMLoc opLoc,
                     const Expr *lhsExpr, const Expr *rhsExpr);
  std::optional<Value> tensorBinary(BinaryOp op, Value a, Value b, SMLoc opLoc,
                                    const Expr *lhsExpr, const Expr *rhsExpr);
  OptVal evalCall(const CallExpr &call);
  OptVal evalBuiltin(const CallExpr &call, bool &handled);
  OptVal evalGrad(const CallExpr &call);
  OptVal evalModelCall(const CallExpr &call, const ModelDecl &model);
  /// The body of model m on parameter record `params` and bound inputs.
  OptVal inlineModel(const ModelDecl &m, const Val &params,
                     ArrayRef<std::pair<std::string, Val>> bound,
                     std::map<std::string, int64_t> symbols);
  OptVal evalDense(const CallExpr &call);
  OptVal evalConv2D(const CallExpr &call);
  OptVal evalNorm(const CallExpr &call);
  OptVal evalMaxPool(const CallExpr &call);
  /// An argument that must be a batch of NHWC images, for `fn`'s messages.
  OptVal evalImage(const Expr &e, StringRef fn);
  OptVal evalClassification(const CallExpr &call);
  /// gaussian(mean, log_std), categorical(logits), log_prob(d, x),
  /// kl(p, q) and entropy(d).
  OptVal evalDistribution(const CallExpr &call);
  /// Per row of [n, k] logits, the log-probabilities log softmax.
  Value logSoftmax(Value logits, SMLoc l);
  /// KL(p || q) per row, for two distributions of the same kind and shape.
  Value distributionKL(const Val &p, const Val &q, SMLoc l);
  /// zeros(shape) and clip(x, lo, hi).
  OptVal evalZerosOrClip(const CallExpr &call);
  /// KL(p || q) of two diagonal Gaussians of shape [n, d], per row: f32[n].
  Value gaussianKL(const Val &p, const Val &q, SMLoc l);
  /// Whether a layer builtin may declare parameters here (inside a model).
  bool checkInModel(const CallExpr &call);
  /// The next layer of `kind` in the current model call: "dense1", ...
  std::string nextLayer(StringRef kind) {
    return kind.str() + std::to_string(++layerCounters[kind.str()]);
  }
  /// Parameter `name` of a layer: declared (and a zero placeholder returned)
  /// while collecting the model's parameters, else read from the parameter
  /// record of the current model call and checked against `shape`.
  std::optional<Value> layerParam(const CallExpr &call, const std::string &name,
                                  ArrayRef<int64_t> shape,
                                  const std::string &init);
  /// The weight and bias initialisers of a layer: `init` (the bias is then
  /// zero, as in most papers' code) and `bias_init` override the defaults.
  /// Keywords not in `allowed` are errors.
  LogicalResult layerInits(const CallExpr &call, ArrayRef<StringRef> allowed,
                           std::string &wInit, std::string &bInit);
  /// mean over `axes` (kept as size-1 dimensions) broadcast back to x's shape.
  Value meanOver(Value x, ArrayRef<int64_t> axes, SMLoc l);
  OptVal evalDraw(const CallExpr &dist, SMLoc nameLoc, bool perTask);
  OptVal field(const Val &base, StringRef name, SMLoc l);
  std::optional<SmallVector<int64_t>> evalIntList(const Expr &e,
                                                  StringRef what);
  std::optional<int64_t> evalInt(const Expr &e, StringRef what);
  std::optional<double> evalConstant(const Expr &e, StringRef what);
  /// The descriptor form of `uniform(lo, hi)`, `normal(mean, std)` or
  /// `truncated_normal(mean, std)` as a parameter initialiser.
  std::optional<std::string> initializer(const Expr &e);
  OptVal mapLeaves(const Val &v, function_ref<Value(Value)> fn, SMLoc l,
                   StringRef what);

  // Statements.
  LogicalResult genBlock(const metac::Block &block, bool allowReturnValue,
                         OptVal *result);
  LogicalResult genStmt(const Stmt &stmt, OptVal *result);
  LogicalResult genRepeat(const RepeatStmt &repeat);
  LogicalResult assignPath(const AssignStmt &assign, Val v);

  // Declarations and kernels.
  LogicalResult collectModelParams(const ModelDecl &model);
  LogicalResult checkLearner(const LearnerDecl &learner);
  LogicalResult genSampleKernel(int64_t n);
  LogicalResult genMetaGradKernel(int64_t s, int64_t q);
  /// `adapt s` (the trained steps), or with `oneStep` `adapt_step s`.
  LogicalResult genAdaptKernel(int64_t s, bool oneStep = false);
  LogicalResult genEvalKernel(int64_t s, int64_t q);
  bool adaptsStepwise();
  /// Appends the objective, then each metric, after `steps` inner steps.
  LogicalResult appendObjectiveAndMetrics(ValueRange params, const Val &support,
                                          const Val &query, int64_t steps,
                                          SmallVectorImpl<Value> &values);
  LogicalResult genQueryEvalKernel(int64_t q);
  Value concatScalars(ArrayRef<Value> scalars, SMLoc where);
  func::FuncOp beginKernel(StringRef name, ArrayRef<Type> inputs,
                           StringRef kind);
  void endKernel(func::FuncOp fn, ArrayRef<Value> results);
  /// A kernel over (parameters, support data[, query data]), named
  /// KIND_S[_Q] and described as "KIND S [Q]" in the descriptor.
  struct TaskKernel {
    func::FuncOp fn;
    ValueRange params;
    Val support, query;
  };
  TaskKernel beginTaskKernel(StringRef kind, int64_t s,
                             std::optional<int64_t> q);
  /// A kernel `kind s q` returning value(params) and its gradient with
  /// respect to every parameter (meta_grad, trpo_kl_grad).
  FailureOr<func::FuncOp> genValueAndGradKernel(
      StringRef kind, int64_t s, int64_t q, Location l,
      llvm::function_ref<OptVal(ValueRange params, const TaskKernel &k)> value);
  /// objective(adapt(params, support), query), the repeat count of adapt
  /// replaced by `steps` if given.
  OptVal metaObjective(ValueRange params, const Val &support, const Val &query,
                       std::optional<int64_t> steps,
                       const ObjectiveItem *fn = nullptr);
  SmallVector<Type> paramTypes();
  SmallVector<Type> dataTypes(int64_t n);
  Val paramsRecord(ValueRange args);
  Val dataRecord(ValueRange args);
  void bindMetaParams(ValueRange args);
  /// Runs the adapt block on (theta, support); `steps` overrides the repeat
  /// count (evaluation). Returns the adapted parameter record.
  OptVal runAdapt(Val theta, Val support, std::optional<int64_t> steps);
  /// Evaluates the objective, or a metric, on (theta, query): a scalar.
  OptVal runObjective(const ObjectiveItem &fn, Val theta, Val query,
                      const Val &initial, const Val &support);
  /// Checks `tasks Chars = glyphs(way = 5)` and sets imageSource and the
  /// data fields it provides.
  LogicalResult checkTaskSource(const CallExpr &call);
  std::string descriptor();

  // Reinforcement learning: tasks that are environments (docs/language.md
  // section 4.4). The trajectories of a task are the data of its support
  // (pre-update rollouts) and query (post-update rollouts) sets.
  LogicalResult checkEnvironment();
  /// Loads `simulator mujoco("FILE", ...)` into env->sim.
  LogicalResult checkSimulator(const CallExpr &call);
  LogicalResult genResetKernel(int64_t episodes);
  /// `step N`, or `reward N` for a simulator's environment (the simulator
  /// computes the next observations; the kernel only the reward and done).
  LogicalResult genStepKernel(int64_t episodes);
  LogicalResult genPolicyKernel(int64_t episodes);
  /// `trpo_hvp rows rows` (or, with finite-difference products,
  /// `trpo_kl_grad rows rows`) and `surrogate rows rows` for the TRPO
  /// optimizer.
  LogicalResult genTrpoKernels(int64_t rows);
  LogicalResult genTrpoHvpKernel(int64_t rows);
  /// TRPO's trust-region quantity for one task: the KL divergence from the
  /// behaviour policy of the query trajectories (q.pi) to the adapted policy,
  /// averaged over the steps that happened (q.mask).
  OptVal trustRegionKL(ValueRange params, const Val &support, const Val &query);
  /// Runs the latents of the task distribution (per task, from taskKey).
  LogicalResult genLatents();
  struct Environment {
    int64_t episodes = 20, evalEpisodes = 0, horizon = 0;
    int64_t obsDim = 0, actDim = 0;
    double discount = 0.99, gaeLambda = 1.0;
    /// The policy's distribution: "gaussian" or "categorical".
    std::string policy = "gaussian";
    /// A simulator's model and settings (simulator environments only).
    std::optional<SimulatorModel> sim;
    int64_t frameSkip = 1;
    double resetNoise = 0.1;
  };
  std::optional<Environment> env;
  /// TRPO's settings, when the optimizer is trpo.
  std::map<std::string, double> trpo;

  MLIRContext &ctx;
  const Program &program;
  metac::DiagnosticEngine &diags;
  ProgramInfo &info;
  OpBuilder builder;
  ModuleOp module;
  Scope scope;

  // The learner being compiled and what it refers to.
  const LearnerDecl *learner = nullptr;
  const TasksDecl *tasks = nullptr;
  const ModelDecl *model = nullptr;
  const AdaptItem *adapt = nullptr;
  const ObjectiveItem *objective = nullptr;
  std::vector<const MetricItem *> metrics; // Reported by evaluation.
  // A built-in task source: episodes of way-class image classification.
  struct ImageSource {
    std::string kind; // glyphs or omniglot
    std::string root; // omniglot's folder, if given in the program
    int64_t way = 5;
    int64_t rotations = 4;
    // pretrain_classes: training rows are labelled by their class among
    // this many background classes (supervised pretraining, no episodes'
    // label permutation); evaluation episodes put their way labels in the
    // first columns. 0: off, labels are way wide.
    int64_t classes = 0;
  };
  std::optional<ImageSource> imageSource;
  const RepeatStmt *innerLoop = nullptr; // The adapt block's repeat.
  std::vector<ParamSpec> modelParams, metaParams;
  std::vector<std::pair<std::string, SmallVector<int64_t>>> dataFields;
  std::map<std::string, int64_t> settings;
  SmallVector<int64_t> evalSteps, evalShots;
  std::string optimizerLine;
  std::vector<std::string> kernelNames, kernelLines;

  // Evaluation state.
  bool collecting = false; // Dry run of a model: declare parameters.
  std::vector<ParamSpec> *collected = nullptr;
  std::set<std::string> declaredNames;
  // Layers of each kind (dense, conv, ...) seen in the current model call:
  // the n-th dense layer's parameters are dense<n>.w and dense<n>.b.
  std::map<std::string, unsigned> layerCounters;
  const Val *currentParams = nullptr; // theta inside a model call
  Value taskKey, dataKey;             // Inside task sampling.
  int64_t drawStream = 0;             // Stream of the next random draw.
  std::optional<int64_t> repeatOverride;
  unsigned modelDepth = 0;
  static constexpr int64_t kMaxStatements = 200000;
  const RepeatStmt *outermostRepeat = nullptr; // For the budget's message.
  int64_t statementsGenerated = 0;
  bool budgetReported = false;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

MLIRGenImpl::OptVal MLIRGenImpl::evalTensor(const Expr &e, StringRef what) {
  OptVal v = eval(e);
  if (!v)
    return std::nullopt;
  if (v->kind == Val::Int)
    return Val::tensor(constant({}, float(v->integer), e.getStartLoc()));
  if (v->kind != Val::Tensor)
    return fail(e.getStartLoc(),
                Twine(what) + " must be a tensor, but this is " + describe(*v),
                e.getRange());
  return v;
}

MLIRGenImpl::OptVal MLIRGenImpl::eval(const Expr &e) {
  switch (e.getKind()) {
  case Expr::Kind::Number: {
    auto &n = cast<NumberExpr>(e);
    return Val::tensor(constant({}, float(n.getValue()), n.getLoc()));
  }
  case Expr::Kind::String:
    return fail(e.getLoc(), "strings are not values here", e.getRange());
  case Expr::Kind::Name: {
    auto &n = cast<NameExpr>(e);
    if (Val *v = scope.lookup(n.getName()))
      return *v;
    if (n.getName() == "pi")
      return Val::tensor(constant({}, float(M_PI), n.getLoc()));
    if (program.lookup(n.getName()))
      return fail(n.getLoc(),
                  "'" + n.getName() + "' is a declaration, not a value",
                  n.getIdentifier().getRange());
    return fail(n.getLoc(), "unknown name '" + n.getName() + "'",
                n.getIdentifier().getRange());
  }
  case Expr::Kind::Field: {
    auto &f = cast<FieldExpr>(e);
    OptVal base = eval(f.getBase());
    if (!base)
      return std::nullopt;
    return field(*base, f.getField(), f.getFieldIdentifier().loc);
  }
  case Expr::Kind::Index: {
    auto &ix = cast<IndexExpr>(e);
    OptVal base = evalTensor(ix.getBase(), "an indexed value");
    if (!base)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(base->value);
    if (ix.getIndices().size() != shape.size())
      return fail(ix.getLoc(),
                  llvm::formatv("{0} indices given for a value of shape {1}",
                                ix.getIndices().size(), shapeString(shape)));
    SmallVector<int64_t> offsets, ones(shape.size(), 1);
    for (auto [i, idx] : llvm::enumerate(ix.getIndices())) {
      std::optional<int64_t> k = evalInt(*idx, "an index");
      if (!k)
        return std::nullopt;
      if (*k < 0 || *k >= shape[i])
        return fail(idx->getStartLoc(),
                    llvm::formatv("index {0} is out of range for dimension "
                                  "{1} of size {2}",
                                  *k, i, shape[i]),
                    idx->getRange());
      offsets.push_back(*k);
    }
    Value slice =
        builder.create<meta::SliceOp>(loc(ix.getLoc()), f32(ones), base->value,
                                      builder.getDenseI64ArrayAttr(offsets));
    return Val::tensor(reshape(slice, {}, ix.getLoc()));
  }
  case Expr::Kind::Call:
    return evalCall(cast<CallExpr>(e));
  case Expr::Kind::Binary:
    return evalBinary(cast<BinaryExpr>(e));
  case Expr::Kind::Unary: {
    auto &u = cast<UnaryExpr>(e);
    OptVal v = eval(u.getOperand());
    if (!v)
      return std::nullopt;
    if (v->kind == Val::Int)
      return Val::integerVal(-v->integer);
    return mapLeaves(
        *v,
        [&](Value x) {
          return builder.create<meta::NegOp>(loc(u.getLoc()), x);
        },
        u.getLoc(), "negation");
  }
  case Expr::Kind::List:
    return evalConstantTensor(cast<ListExpr>(e));
  }
  return std::nullopt;
}

MLIRGenImpl::OptVal MLIRGenImpl::evalConstantTensor(const ListExpr &list) {
  // [1.0, -2.0] is f32[2]; [[1, 0], [0, 1]] is f32[2, 2].
  auto elements = list.getElements();
  if (elements.empty())
    return fail(list.getLoc(), "a constant tensor needs at least one element",
                list.getRange());
  bool nested = isa<ListExpr>(elements[0].get());
  SmallVector<int64_t> shape{static_cast<int64_t>(elements.size())};
  SmallVector<float> values;
  for (const ExprPtr &element : elements) {
    auto *row = dyn_cast<ListExpr>(element.get());
    if (nested != (row != nullptr))
      return fail(element->getStartLoc(),
                  nested ? "every row of a constant matrix must be a list"
                         : "a constant vector's elements must be numbers",
                  element->getRange());
    if (!row) {
      auto v = evalConstant(*element, "an element of a constant tensor");
      if (!v)
        return std::nullopt;
      values.push_back(static_cast<float>(*v));
      continue;
    }
    auto rowElements = row->getElements();
    if (shape.size() == 1)
      shape.push_back(static_cast<int64_t>(rowElements.size()));
    if (static_cast<int64_t>(rowElements.size()) != shape[1] ||
        rowElements.empty())
      return fail(row->getLoc(),
                  "the rows of a constant matrix must have the same, nonzero "
                  "length (the first has " +
                      std::to_string(shape[1]) + ")",
                  row->getRange());
    for (const ExprPtr &x : rowElements) {
      if (isa<ListExpr>(x.get()))
        return fail(x->getStartLoc(),
                    "constant tensors have at most two dimensions",
                    x->getRange());
      auto v = evalConstant(*x, "an element of a constant tensor");
      if (!v)
        return std::nullopt;
      values.push_back(static_cast<float>(*v));
    }
  }
  auto type = f32(shape);
  return Val::tensor(builder.create<meta::ConstantOp>(
      loc(list.getLoc()), DenseElementsAttr::get(type, ArrayRef(values))));
}

MLIRGenImpl::OptVal MLIRGenImpl::mapLeaves(const Val &v,
                                           function_ref<Value(Value)> fn,
                                           SMLoc l, StringRef what) {
  if (v.kind == Val::Tensor)
    return Val::tensor(fn(v.value));
  if (v.kind == Val::Record) {
    Val out = v;
    for (auto &[name, leaf] : out.leaves)
      leaf = fn(leaf);
    return out;
  }
  return fail(l,
              Twine(what) + " needs a tensor or a record, not " + describe(v));
}

MLIRGenImpl::OptVal MLIRGenImpl::field(const Val &base, StringRef name,
                                       SMLoc l) {
  if (base.kind != Val::Record)
    return fail(l, "cannot take field '" + name + "' of " + describe(base));
  std::vector<std::pair<std::string, Value>> sub;
  std::string prefix = (name + ".").str();
  for (auto &[path, leaf] : base.leaves) {
    if (path == name)
      return Val::tensor(leaf);
    if (StringRef(path).starts_with(prefix))
      sub.push_back({path.substr(prefix.size()), leaf});
  }
  if (sub.empty()) {
    std::string fields;
    std::set<std::string> seen;
    for (auto &[path, leaf] : base.leaves) {
      std::string first = StringRef(path).split('.').first.str();
      if (seen.insert(first).second)
        fields += (fields.empty() ? "'" : ", '") + first + "'";
    }
    return fail(l, "no field '" + name + "' (fields are " + fields + ")");
  }
  return Val::record(std::move(sub));
}

std::optional<int64_t> MLIRGenImpl::evalInt(const Expr &e, StringRef what) {
  if (auto *n = dyn_cast<NumberExpr>(&e)) {
    if (!n->isInteger()) {
      diags.error(e.getStartLoc(), Twine(what) + " must be an integer",
                  e.getRange());
      return std::nullopt;
    }
    return n->getIntValue();
  }
  if (auto *u = dyn_cast<UnaryExpr>(&e)) {
    std::optional<int64_t> v = evalInt(u->getOperand(), what);
    return v ? std::optional<int64_t>(-*v) : std::nullopt;
  }
  if (auto *n = dyn_cast<NameExpr>(&e))
    if (Val *v = scope.lookup(n->getName()); v && v->kind == Val::Int)
      return v->integer;
  diags.error(e.getStartLoc(),
              Twine(what) + " must be an integer known at compile time",
              e.getRange());
  return std::nullopt;
}

std::optional<double> MLIRGenImpl::evalConstant(const Expr &e, StringRef what) {
  if (auto *n = dyn_cast<NumberExpr>(&e))
    return n->getValue();
  if (auto *u = dyn_cast<UnaryExpr>(&e)) {
    std::optional<double> v = evalConstant(u->getOperand(), what);
    return v ? std::optional<double>(-*v) : std::nullopt;
  }
  if (auto *n = dyn_cast<NameExpr>(&e); n && n->getName() == "pi")
    return M_PI;
  diags.error(e.getStartLoc(), Twine(what) + " must be a number", e.getRange());
  return std::nullopt;
}

std::optional<std::string> MLIRGenImpl::initializer(const Expr &e) {
  auto *call = dyn_cast<CallExpr>(&e);
  StringRef kind = call ? call->getCallee() : "";
  if (!call ||
      !llvm::is_contained({"uniform", "normal", "truncated_normal"}, kind) ||
      call->getArgs().size() != 2 || !call->getKwargs().empty()) {
    diags.error(e.getStartLoc(),
                "a parameter is drawn from uniform(lo, hi), normal(mean, std) "
                "or truncated_normal(mean, std)",
                e.getRange());
    return std::nullopt;
  }
  auto a = evalConstant(*call->getArgs()[0], "a distribution parameter");
  auto b = a ? evalConstant(*call->getArgs()[1], "a distribution parameter")
             : std::nullopt;
  if (!b)
    return std::nullopt;
  return kind.str() + " " + num(*a) + " " + num(*b);
}

std::optional<SmallVector<int64_t>> MLIRGenImpl::evalIntList(const Expr &e,
                                                             StringRef what) {
  auto *list = dyn_cast<ListExpr>(&e);
  if (!list) {
    diags.error(e.getStartLoc(), Twine(what) + " must be a list like [n, 1]",
                e.getRange());
    return std::nullopt;
  }
  SmallVector<int64_t> out;
  for (const ExprPtr &el : list->getElements()) {
    std::optional<int64_t> v = evalInt(*el, what);
    if (!v)
      return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

MLIRGenImpl::OptVal MLIRGenImpl::evalBinary(const BinaryExpr &e) {
  OptVal a = eval(e.getLHS());
  if (!a)
    return std::nullopt;
  OptVal b = eval(e.getRHS());
  if (!b)
    return std::nullopt;
  // Compile-time integer arithmetic stays integer (shapes, indices).
  if (a->kind == Val::Int && b->kind == Val::Int) {
    switch (e.getOp()) {
    case BinaryOp::Add:
      return Val::integerVal(a->integer + b->integer);
    case BinaryOp::Sub:
      return Val::integerVal(a->integer - b->integer);
    case BinaryOp::Mul:
      return Val::integerVal(a->integer * b->integer);
    default:
      break;
    }
  }
  return applyBinary(e.getOp(), *a, *b, e.getOpLoc(), &e.getLHS(), &e.getRHS());
}

MLIRGenImpl::OptVal MLIRGenImpl::applyBinary(BinaryOp op, const Val &a0,
                                             const Val &b0, SMLoc opLoc,
                                             const Expr *lhsExpr,
                                             const Expr *rhsExpr) {
  auto toTensor = [&](const Val &v) {
    return v.kind == Val::Int
               ? Val::tensor(constant({}, float(v.integer), opLoc))
               : v;
  };
  Val a = toTensor(a0), b = toTensor(b0);
  if (a.kind == Val::Bool || b.kind == Val::Bool)
    return fail(opLoc, "boolean tensors can only be used in select()");
  // Records combine field by field; a tensor applies to every field.
  if (a.kind == Val::Record || b.kind == Val::Record) {
    if (op == BinaryOp::MatMul || isComparison(op))
      return fail(opLoc, "'" + getBinaryOpSpelling(op) +
                             "' is not defined on records");
    if (a.kind == Val::Record && b.kind == Val::Record) {
      if (a.leaves.size() != b.leaves.size() ||
          !llvm::all_of(llvm::zip(a.leaves, b.leaves), [](auto pair) {
            return std::get<0>(pair).first == std::get<1>(pair).first;
          }))
        return fail(opLoc, "records of different structure: " + describe(a) +
                               " and " + describe(b));
    }
    const Val &rec = a.kind == Val::Record ? a : b;
    Val out = rec;
    for (size_t i = 0; i < rec.leaves.size(); ++i) {
      Value x = a.kind == Val::Record ? a.leaves[i].second : a.value;
      Value y = b.kind == Val::Record ? b.leaves[i].second : b.value;
      auto r = tensorBinary(op, x, y, opLoc, lhsExpr, rhsExpr);
      if (!r)
        return std::nullopt;
      out.leaves[i].second = *r;
    }
    return out;
  }
  auto r = tensorBinary(op, a.value, b.value, opLoc, lhsExpr, rhsExpr);
  if (!r)
    return std::nullopt;
  return isComparison(op) ? Val::boolean(*r) : Val::tensor(*r);
}

std::optional<Value> MLIRGenImpl::tensorBinary(BinaryOp op, Value a, Value b,
                                               SMLoc opLoc, const Expr *lhsExpr,
                                               const Expr *rhsExpr) {
  Location l = loc(opLoc);
  auto noteOperands = [&] {
    if (lhsExpr)
      diags.note(lhsExpr->getStartLoc(),
                 "left operand has shape " + shapeString(shapeOf(a)),
                 lhsExpr->getRange());
    if (rhsExpr)
      diags.note(rhsExpr->getStartLoc(),
                 "right operand has shape " + shapeString(shapeOf(b)),
                 rhsExpr->getRange());
  };
  if (op == BinaryOp::MatMul) {
    ArrayRef<int64_t> sa = shapeOf(a), sb = shapeOf(b);
    if (sa.size() != 2 || sb.size() != 2 || sa[1] != sb[0]) {
      diags.error(opLoc, "matrix product needs [m, k] @ [k, n], got " +
                             shapeString(sa) + " @ " + shapeString(sb));
      noteOperands();
      return std::nullopt;
    }
    return builder.create<meta::MatmulOp>(l, f32({sa[0], sb[1]}), a, b)
        .getResult();
  }
  auto shape = broadcastShapes(shapeOf(a), shapeOf(b));
  if (!shape) {
    diags.error(opLoc, "shapes " + shapeString(shapeOf(a)) + " and " +
                           shapeString(shapeOf(b)) +
                           " cannot be broadcast together");
    noteOperands();
    return std::nullopt;
  }
  a = broadcastTo(a, *shape, opLoc);
  b = broadcastTo(b, *shape, opLoc);
  switch (op) {
  case BinaryOp::Add:
    return builder.create<meta::AddOp>(l, a, b).getResult();
  case BinaryOp::Sub:
    return builder.create<meta::SubOp>(l, a, b).getResult();
  case BinaryOp::Mul:
    return builder.create<meta::MulOp>(l, a, b).getResult();
  case BinaryOp::Div:
    return builder.create<meta::DivOp>(l, a, b).getResult();
  default: {
    StringRef pred = op == BinaryOp::Lt   ? "lt"
                     : op == BinaryOp::Le ? "le"
                     : op == BinaryOp::Gt ? "gt"
                     : op == BinaryOp::Ge ? "ge"
                     : op == BinaryOp::Eq ? "eq"
                                          : "ne";
    auto boolType = RankedTensorType::get(*shape, builder.getI1Type());
    return builder
        .create<meta::CmpOp>(l, boolType, builder.getStringAttr(pred), a, b)
        .getResult();
  }
  }
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

MLIRGenImpl::OptVal MLIRGenImpl::evalCall(const CallExpr &call) {
  for (const KeywordArg &kw : call.getKwargs())
    if (!llvm::is_contained({"sum", "mean", "max", "dense", "conv2d",
                             "batch_norm", "layer_norm"},
                            call.getCallee()))
      return fail(kw.name.loc,
                  "'" + call.getCallee() + "' takes no keyword argument '" +
                      kw.name.name + "'",
                  kw.name.getRange());
  bool handled = false;
  OptVal v = evalBuiltin(call, handled);
  if (handled)
    return v;
  if (const Decl *d = program.lookup(call.getCallee())) {
    if (auto *m = dyn_cast<ModelDecl>(d))
      return evalModelCall(call, *m);
    return fail(call.getLoc(), "'" + call.getCallee() + "' is not a model",
                call.getCalleeIdentifier().getRange());
  }
  return fail(call.getLoc(), "unknown function '" + call.getCallee() + "'",
              call.getCalleeIdentifier().getRange());
}

MLIRGenImpl::OptVal MLIRGenImpl::evalBuiltin(const CallExpr &call,
                                             bool &handled) {
  StringRef name = call.getCallee();
  SMLoc l = call.getLoc();
  Location ml = loc(l);
  auto args = call.getArgs();
  handled = true;
  auto arity = [&](size_t lo, size_t hi) -> bool {
    if (args.size() >= lo && args.size() <= hi)
      return true;
    std::string expected =
        lo == hi ? std::to_string(lo)
                 : std::to_string(lo) + " to " + std::to_string(hi);
    diags.error(l,
                "'" + name + "' expects " + expected + " argument" +
                    (hi == 1 ? "" : "s") + ", got " +
                    std::to_string(args.size()),
                call.getRange());
    return false;
  };

  using UnaryBuilder = function_ref<Value(Value)>;
  auto unary = [&](UnaryBuilder fn) -> OptVal {
    if (!arity(1, 1))
      return std::nullopt;
    OptVal x = eval(*args[0]);
    if (!x)
      return std::nullopt;
    if (x->kind == Val::Int)
      x = Val::tensor(constant({}, float(x->integer), l));
    return mapLeaves(*x, fn, l, "'" + name.str() + "'");
  };
#define METAC_UNARY(NAME, OP)                                                  \
  if (name == NAME)                                                            \
    return unary(                                                              \
        [&](Value x) { return builder.create<meta::OP>(ml, x).getResult(); });
  METAC_UNARY("sin", SinOp)
  METAC_UNARY("cos", CosOp)
  METAC_UNARY("exp", ExpOp)
  METAC_UNARY("log", LogOp)
  METAC_UNARY("tanh", TanhOp)
  METAC_UNARY("relu", ReluOp)
  METAC_UNARY("sigmoid", SigmoidOp)
  METAC_UNARY("sqrt", SqrtOp)
  METAC_UNARY("abs", AbsOp)
  METAC_UNARY("square", SquareOp)
  METAC_UNARY("sign", SignOp)
  METAC_UNARY("stop_grad", StopGradientOp)
#undef METAC_UNARY

  if (name == "grad")
    return evalGrad(call);
  if (name == "gaussian" || name == "categorical" || name == "log_prob" ||
      name == "kl" || name == "entropy")
    return evalDistribution(call);
  if (name == "zeros" || name == "clip")
    return evalZerosOrClip(call);
  if (name == "dense")
    return evalDense(call);
  if (name == "conv2d")
    return evalConv2D(call);
  if (name == "batch_norm" || name == "layer_norm")
    return evalNorm(call);
  if (name == "max_pool")
    return evalMaxPool(call);
  if (name == "softmax_cross_entropy" || name == "accuracy" ||
      name == "softmax")
    return evalClassification(call);

  if (name == "flatten") {
    if (!arity(1, 1))
      return std::nullopt;
    OptVal x = evalTensor(*args[0], "the argument of flatten()");
    if (!x)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(x->value);
    if (shape.empty())
      return fail(args[0]->getStartLoc(),
                  "flatten() needs a batch dimension, got " + describe(*x),
                  args[0]->getRange());
    return Val::tensor(
        reshape(x->value, {shape[0], numElements(x->value) / shape[0]}, l));
  }

  // first(x, k, axis = -1): the first k entries along an axis (a head's
  // first k logits, say).
  if (name == "first") {
    if (!arity(2, 2))
      return std::nullopt;
    OptVal x = evalTensor(*args[0], "the argument of first()");
    std::optional<int64_t> k =
        x ? evalInt(*args[1], "the count of first()") : std::nullopt;
    if (!k)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(x->value);
    if (shape.empty())
      return fail(args[0]->getStartLoc(),
                  "first() needs a tensor with an axis, got " + describe(*x),
                  args[0]->getRange());
    int64_t axis = -1;
    for (const KeywordArg &kw : call.getKwargs()) {
      if (kw.name.name != "axis")
        return fail(kw.name.loc,
                    "first() takes no keyword argument '" + kw.name.name +
                        "' (it has axis)",
                    kw.name.getRange());
      std::optional<int64_t> a = evalInt(*kw.value, "an axis");
      if (!a)
        return std::nullopt;
      axis = *a;
      if (axis < -(int64_t)shape.size() || axis >= (int64_t)shape.size())
        return fail(kw.value->getStartLoc(),
                    llvm::formatv("axis {0} is out of range for a value of "
                                  "shape {1}",
                                  *a, shapeString(shape)),
                    kw.value->getRange());
    }
    if (axis < 0)
      axis += shape.size();
    if (*k < 1 || *k > shape[axis])
      return fail(args[1]->getStartLoc(),
                  llvm::formatv("first() takes 1 to {0} entries of axis {1} "
                                "of shape {2}, not {3}",
                                shape[axis], axis, shapeString(shape), *k),
                  args[1]->getRange());
    SmallVector<int64_t> kept(shape.begin(), shape.end());
    kept[axis] = *k;
    return Val::tensor(builder.create<meta::SliceOp>(
        ml, f32(kept), x->value,
        builder.getDenseI64ArrayAttr(SmallVector<int64_t>(shape.size(), 0))));
  }

  if (name == "maximum" || name == "minimum") {
    if (!arity(2, 2))
      return std::nullopt;
    OptVal a = evalTensor(*args[0], "the first argument");
    OptVal b = a ? evalTensor(*args[1], "the second argument") : std::nullopt;
    if (!b)
      return std::nullopt;
    auto shape = broadcastShapes(shapeOf(a->value), shapeOf(b->value));
    if (!shape)
      return fail(l, "arguments of shapes " + describe(*a) + " and " +
                         describe(*b) + " cannot be broadcast together");
    Value x = broadcastTo(a->value, *shape, l),
          y = broadcastTo(b->value, *shape, l);
    if (name == "maximum")
      return Val::tensor(builder.create<meta::MaxOp>(ml, x, y));
    return Val::tensor(builder.create<meta::MinOp>(ml, x, y));
  }

  if (name == "select") {
    if (!arity(3, 3))
      return std::nullopt;
    OptVal c = eval(*args[0]);
    if (!c)
      return std::nullopt;
    if (c->kind != Val::Bool)
      return fail(args[0]->getStartLoc(),
                  "the condition of select() must be a comparison, not " +
                      describe(*c),
                  args[0]->getRange());
    OptVal a = evalTensor(*args[1], "the second argument of select()");
    OptVal b = a ? evalTensor(*args[2], "the third argument of select()")
                 : std::nullopt;
    if (!b)
      return std::nullopt;
    auto shape = broadcastShapes(shapeOf(a->value), shapeOf(b->value));
    if (shape)
      shape = broadcastShapes(*shape, shapeOf(c->value));
    if (!shape || ArrayRef<int64_t>(*shape) != shapeOf(c->value))
      return fail(l, "select() needs values broadcastable to the condition's "
                     "shape " +
                         shapeString(shapeOf(c->value)));
    return Val::tensor(builder.create<meta::SelectOp>(
        ml, f32(*shape), c->value, broadcastTo(a->value, *shape, l),
        broadcastTo(b->value, *shape, l)));
  }

  if (name == "sum" || name == "mean" || name == "max") {
    if (!arity(1, 1))
      return std::nullopt;
    OptVal x = evalTensor(*args[0], "the argument of '" + name.str() + "'");
    if (!x)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(x->value);
    SmallVector<int64_t> axes;
    for (const KeywordArg &kw : call.getKwargs()) {
      if (kw.name.name != "axis")
        return fail(kw.name.loc,
                    "'" + name + "' takes no keyword argument '" +
                        kw.name.name + "' (did you mean 'axis'?)",
                    kw.name.getRange());
      std::optional<int64_t> a = evalInt(*kw.value, "an axis");
      if (!a)
        return std::nullopt;
      int64_t axis = *a < 0 ? *a + (int64_t)shape.size() : *a;
      if (axis < 0 || axis >= (int64_t)shape.size())
        return fail(kw.value->getStartLoc(),
                    llvm::formatv("axis {0} is out of range for a value of "
                                  "shape {1}",
                                  *a, shapeString(shape)),
                    kw.value->getRange());
      axes.push_back(axis);
    }
    if (call.getKwargs().empty())
      axes.assign(llvm::seq<int64_t>(0, shape.size()).begin(),
                  llvm::seq<int64_t>(0, shape.size()).end());
    SmallVector<int64_t> kept;
    int64_t count = 1;
    for (auto [i, d] : llvm::enumerate(shape)) {
      if (llvm::is_contained(axes, (int64_t)i))
        count *= d;
      else
        kept.push_back(d);
    }
    llvm::sort(axes);
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    Value s = x->value;
    if (!axes.empty() && name == "max")
      return Val::tensor(builder.create<meta::ReduceMaxOp>(
          ml, f32(kept), x->value, builder.getDenseI64ArrayAttr(axes)));
    if (!axes.empty())
      s = builder.create<meta::ReduceSumOp>(ml, f32(kept), x->value,
                                            builder.getDenseI64ArrayAttr(axes));
    if (name == "mean")
      s = builder.create<meta::DivOp>(ml, s, constant(kept, float(count), l));
    return Val::tensor(s);
  }

  if (name == "mse") {
    if (!arity(2, 2))
      return std::nullopt;
    OptVal a = evalTensor(*args[0], "the prediction");
    OptVal b = a ? evalTensor(*args[1], "the target") : std::nullopt;
    if (!b)
      return std::nullopt;
    if (shapeOf(a->value) != shapeOf(b->value)) {
      diags.error(l,
                  "mse() needs a prediction and a target of one shape, got " +
                      describe(*a) + " and " + describe(*b),
                  call.getRange());
      diags.note(args[0]->getStartLoc(), "prediction has shape " + describe(*a),
                 args[0]->getRange());
      return std::nullopt;
    }
    Value d = builder.create<meta::SubOp>(ml, a->value, b->value);
    Value sq = builder.create<meta::SquareOp>(ml, d);
    Value total = reduceAll(sq, l);
    return Val::tensor(builder.create<meta::DivOp>(
        ml, total, constant({}, float(numElements(sq)), l)));
  }

  if (name == "reshape") {
    if (!arity(2, 2))
      return std::nullopt;
    OptVal x = evalTensor(*args[0], "the argument of reshape()");
    if (!x)
      return std::nullopt;
    auto shape = evalIntList(*args[1], "the new shape");
    if (!shape)
      return std::nullopt;
    if (!isReasonableShape(*shape))
      return fail(args[1]->getStartLoc(), "dimensions must be positive and a tensor at most 2^28 elements",
                  args[1]->getRange());
    int64_t count = 1;
    for (int64_t d : *shape)
      count *= d;
    if (count != numElements(x->value))
      return fail(l,
                  llvm::formatv("cannot reshape {0} ({1} elements) to {2} "
                                "({3} elements)",
                                describe(*x), numElements(x->value),
                                shapeString(*shape), count),
                  call.getRange());
    return Val::tensor(reshape(x->value, *shape, l));
  }

  if (name == "transpose") {
    if (!arity(1, 2))
      return std::nullopt;
    OptVal x = evalTensor(*args[0], "the argument of transpose()");
    if (!x)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(x->value);
    SmallVector<int64_t> perm;
    if (args.size() == 2) {
      auto p = evalIntList(*args[1], "the permutation");
      if (!p)
        return std::nullopt;
      perm = *p;
      SmallVector<int64_t> sorted = perm;
      llvm::sort(sorted);
      if (sorted.size() != shape.size() ||
          !llvm::equal(sorted, llvm::seq<int64_t>(0, shape.size())))
        return fail(args[1]->getStartLoc(),
                    "not a permutation of the " + std::to_string(shape.size()) +
                        " dimensions of " + describe(*x),
                    args[1]->getRange());
    } else {
      if (shape.size() != 2)
        return fail(l,
                    "transpose() without a permutation needs a 2-D tensor, "
                    "got " +
                        describe(*x),
                    call.getRange());
      perm = {1, 0};
    }
    SmallVector<int64_t> out;
    for (int64_t p : perm)
      out.push_back(shape[p]);
    return Val::tensor(builder.create<meta::TransposeOp>(
        ml, f32(out), x->value, builder.getDenseI64ArrayAttr(perm)));
  }

  if (name == "uniform" || name == "normal")
    return fail(l,
                "'" + name + "' draws random numbers: write 'x ~ " + name +
                    "(...)' in a tasks declaration",
                call.getCalleeIdentifier().getRange());

  handled = false;
  return std::nullopt;
}

/// Whether `v`, computed in `body` (a meta.grad region), depends on any of
/// the region's arguments.
static bool dependsOnArguments(Value v, mlir::Block &body) {
  SmallVector<Value> worklist{v};
  llvm::DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value cur = worklist.pop_back_val();
    if (!seen.insert(cur).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(cur)) {
      if (arg.getOwner() == &body)
        return true;
      continue;
    }
    Operation *def = cur.getDefiningOp();
    // Only values computed inside the region can lead to its arguments.
    if (!def || !body.getParent()->isAncestor(def->getParentRegion()))
      continue;
    for (Value operand : def->getOperands())
      worklist.push_back(operand);
    // Nested grads capture values from above inside their regions.
    def->walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        worklist.push_back(operand);
    });
  }
  return false;
}

/// The source text of an expression, for messages.
static std::string getText(const Expr &e) {
  SMRange r = e.getRange();
  if (!r.Start.isValid() || !r.End.isValid())
    return "the target";
  return std::string(r.Start.getPointer(), r.End.getPointer());
}

/// grad(scalar, target): the target's leaves become a meta.grad region's
/// arguments, and the scalar is evaluated inside with the target rebound.
MLIRGenImpl::OptVal MLIRGenImpl::evalGrad(const CallExpr &call) {
  auto args = call.getArgs();
  if (args.size() != 2)
    return fail(call.getLoc(),
                "'grad' expects 2 arguments (a scalar and what to "
                "differentiate it with respect to), got " +
                    std::to_string(args.size()),
                call.getRange());
  // The target must be a variable or a field path, so it can be rebound.
  SmallVector<std::string> path;
  const Expr *t = args[1].get();
  while (auto *f = dyn_cast<FieldExpr>(t)) {
    path.insert(path.begin(), f->getField().str());
    t = &f->getBase();
  }
  auto *root = dyn_cast<NameExpr>(t);
  if (!root)
    return fail(args[1]->getStartLoc(),
                "grad() differentiates with respect to a variable or a field "
                "such as 'theta' or 'theta.dense1'",
                args[1]->getRange());
  if (!scope.lookup(root->getName())) {
    if (root->getName() == "pi")
      return fail(root->getLoc(),
                  "cannot differentiate with respect to the constant 'pi'",
                  root->getIdentifier().getRange());
    (void)eval(*root); // Reports the unknown name or the declaration.
    return std::nullopt;
  }
  OptVal target = eval(*args[1]);
  if (!target)
    return std::nullopt;
  if (target->kind != Val::Tensor && target->kind != Val::Record)
    return fail(args[1]->getStartLoc(),
                "cannot differentiate with respect to " + describe(*target),
                args[1]->getRange());
  SmallVector<Value> operands;
  if (target->kind == Val::Tensor)
    operands.push_back(target->value);
  for (auto &[n, v] : target->leaves)
    operands.push_back(v);
  SmallVector<Type> types;
  for (Value v : operands)
    types.push_back(v.getType());

  Location ml = loc(call.getLoc());
  auto grad = builder.create<meta::GradOp>(ml, types, operands);
  mlir::Block *body = builder.createBlock(&grad.getBody());
  for (Type type : types)
    body->addArgument(type, ml);

  // Rebind the target to the block arguments inside the region.
  Val rebound = *target;
  if (rebound.kind == Val::Tensor)
    rebound.value = body->getArgument(0);
  for (auto [i, leaf] : llvm::enumerate(rebound.leaves))
    leaf.second = body->getArgument(i);
  Val *rootVal = scope.lookup(root->getName());
  Val saved = *rootVal;
  if (path.empty()) {
    *rootVal = rebound;
  } else {
    std::string prefix = llvm::join(path, ".");
    for (auto &[p, leaf] : rootVal->leaves) {
      if (p == prefix)
        leaf = rebound.value;
      else if (StringRef(p).starts_with(prefix + "."))
        for (auto &[q, v] : rebound.leaves)
          if (p == prefix + "." + q)
            leaf = v;
    }
  }
  OptVal scalar = eval(*args[0]);
  *rootVal = saved;
  if (scalar && scalar->kind == Val::Tensor && !shapeOf(scalar->value).empty())
    scalar =
        fail(args[0]->getStartLoc(),
             "grad() needs a scalar to differentiate, but this has shape " +
                 describe(*scalar),
             args[0]->getRange());
  else if (scalar && scalar->kind != Val::Tensor)
    scalar =
        fail(args[0]->getStartLoc(),
             "grad() needs a scalar to differentiate, not " + describe(*scalar),
             args[0]->getRange());
  if (!scalar) {
    builder.setInsertionPointAfter(grad);
    grad.erase();
    return std::nullopt;
  }
  // grad re-evaluates its first argument with the target rebound; a value
  // computed before the call (or through another name for the target) does
  // not see the rebinding and would silently give a zero gradient.
  if (!dependsOnArguments(scalar->value, *body)) {
    builder.setInsertionPointAfter(grad);
    grad.erase();
    diags.error(args[0]->getStartLoc(),
                "this does not depend on '" +
                    getText(*args[1]) +
                    "' as grad() sees it, so its gradient would be zero",
                args[0]->getRange());
    diags.note(args[0]->getStartLoc(),
               "grad() evaluates its first argument again with '" +
                   getText(*args[1]) +
                   "' rebound: write the loss inside grad(...), in terms of "
                   "that name, rather than a value computed before");
    return std::nullopt;
  }
  builder.create<meta::YieldOp>(ml, scalar->value);
  builder.setInsertionPointAfter(grad);

  Val result = *target;
  if (result.kind == Val::Tensor)
    result.value = grad.getResult(0);
  for (auto [i, leaf] : llvm::enumerate(result.leaves))
    leaf.second = grad.getResult(i);
  return result;
}

bool MLIRGenImpl::checkInModel(const CallExpr &call) {
  if (currentParams || collecting)
    return true;
  diags.error(call.getLoc(),
              "'" + call.getCallee() +
                  "' declares parameters, so it can only be used in a model",
              call.getCalleeIdentifier().getRange());
  return false;
}

std::optional<Value> MLIRGenImpl::layerParam(const CallExpr &call,
                                             const std::string &name,
                                             ArrayRef<int64_t> shape,
                                             const std::string &init) {
  if (collecting) {
    collected->push_back(
        {name, SmallVector<int64_t>(shape), init, call.getLoc()});
    return constant(shape, 0, call.getLoc());
  }
  OptVal v = field(*currentParams, name, call.getLoc());
  if (!v)
    return std::nullopt;
  if (shapeOf(v->value) != shape) {
    fail(call.getLoc(), "the layer's parameter '" + name + "' is " +
                            shapeString(shapeOf(v->value)) +
                            ", but its input "
                            "needs " +
                            shapeString(shape));
    return std::nullopt;
  }
  return v->value;
}

LogicalResult MLIRGenImpl::layerInits(const CallExpr &call,
                                      ArrayRef<StringRef> allowed,
                                      std::string &wInit, std::string &bInit) {
  for (const KeywordArg &kw : call.getKwargs()) {
    if (!llvm::is_contained(allowed, kw.name.name)) {
      std::string list;
      for (auto [i, a] : llvm::enumerate(allowed))
        list += (i == 0                    ? ""
                 : i + 1 == allowed.size() ? " and "
                                           : ", ") +
                a.str();
      diags.error(kw.name.loc,
                  "'" + call.getCallee() + "' takes no keyword argument '" +
                      kw.name.name + "' (it has " + list + ")",
                  kw.name.getRange());
      return failure();
    }
    if (kw.name.name != "init" && kw.name.name != "bias_init")
      continue;
    std::optional<std::string> init = initializer(*kw.value);
    if (!init)
      return failure();
    if (kw.name.name == "init") {
      wInit = *init;
      if (!call.getKwarg("bias_init"))
        bInit = "zeros";
    } else {
      bInit = *init;
    }
  }
  return success();
}

MLIRGenImpl::OptVal MLIRGenImpl::evalDense(const CallExpr &call) {
  if (!checkInModel(call))
    return std::nullopt;
  auto args = call.getArgs();
  if (args.size() != 2)
    return fail(call.getLoc(),
                "'dense' expects 2 arguments (input, units), got " +
                    std::to_string(args.size()),
                call.getRange());
  OptVal x = evalTensor(*args[0], "the input of dense()");
  if (!x)
    return std::nullopt;
  std::optional<int64_t> units = evalInt(*args[1], "the number of units");
  if (!units)
    return std::nullopt;
  ArrayRef<int64_t> in = shapeOf(x->value);
  if (in.size() != 2)
    return fail(args[0]->getStartLoc(),
                "dense() needs a 2-D input [batch, features], got " +
                    describe(*x),
                args[0]->getRange());
  if (*units <= 0 || !isReasonableShape({in[0], *units}) ||
      !isReasonableShape({in[1], *units}))
    return fail(args[1]->getStartLoc(),
                "the number of units must be positive, and the layer's "
                "tensors at most 2^28 elements",
                args[1]->getRange());
  std::string layer = nextLayer("dense");
  SmallVector<int64_t> wShape{in[1], *units}, bShape{*units};
  // Initialisers: PyTorch's default unless `init` or `bias_init` say
  // otherwise.
  double bound = 1.0 / std::sqrt(double(in[1]));
  std::string wInit = "uniform " + num(-bound) + " " + num(bound);
  std::string bInit = wInit;
  if (failed(layerInits(call, {"init", "bias_init"}, wInit, bInit)))
    return std::nullopt;
  std::optional<Value> w = layerParam(call, layer + ".w", wShape, wInit);
  std::optional<Value> b =
      w ? layerParam(call, layer + ".b", bShape, bInit) : std::nullopt;
  if (!b)
    return std::nullopt;
  Location ml = loc(call.getLoc());
  Value y =
      builder.create<meta::MatmulOp>(ml, f32({in[0], *units}), x->value, *w);
  return Val::tensor(builder.create<meta::AddOp>(
      ml, y, broadcastTo(*b, {in[0], *units}, call.getLoc())));
}

MLIRGenImpl::OptVal MLIRGenImpl::evalImage(const Expr &e, StringRef fn) {
  OptVal x = evalTensor(e, "the input of " + fn.str() + "()");
  if (!x)
    return std::nullopt;
  if (shapeOf(x->value).size() != 4)
    return fail(e.getStartLoc(),
                fn +
                    "() needs a 4-D input [batch, height, width, channels], "
                    "got " +
                    describe(*x),
                e.getRange());
  return x;
}

/// conv2d(x, filters, kernel, stride = 1, padding = 0): a convolution layer
/// over NHWC images with a [kernel, kernel, C, filters] weight and a bias per
/// filter.
MLIRGenImpl::OptVal MLIRGenImpl::evalConv2D(const CallExpr &call) {
  if (!checkInModel(call))
    return std::nullopt;
  auto args = call.getArgs();
  if (args.size() != 3)
    return fail(call.getLoc(),
                "'conv2d' expects 3 arguments (input, filters, kernel size), "
                "got " +
                    std::to_string(args.size()),
                call.getRange());
  OptVal x = evalImage(*args[0], "conv2d");
  if (!x)
    return std::nullopt;
  ArrayRef<int64_t> in = shapeOf(x->value);
  std::optional<int64_t> filters = evalInt(*args[1], "the number of filters");
  std::optional<int64_t> kernel =
      filters ? evalInt(*args[2], "the kernel size") : std::nullopt;
  if (!kernel)
    return std::nullopt;
  if (*kernel < 1)
    return fail(args[2]->getStartLoc(), "the kernel size must be positive",
                args[2]->getRange());
  if (*filters <= 0 || !isReasonableShape({*kernel, *kernel, in[3], *filters}))
    return fail(args[1]->getStartLoc(),
                "the number of filters must be positive and the weight at "
                "most 2^28 elements",
                args[1]->getRange());
  int64_t stride = 1, padding = 0;
  for (const KeywordArg &kw : call.getKwargs()) {
    if (kw.name.name != "stride" && kw.name.name != "padding")
      continue;
    std::optional<int64_t> v = evalInt(*kw.value, kw.name.name);
    if (!v)
      return std::nullopt;
    (kw.name.name == "stride" ? stride : padding) = *v;
    if (kw.name.name == "stride" && *v < 1)
      return fail(kw.value->getStartLoc(), "the stride must be at least 1",
                  kw.value->getRange());
  }
  if (*kernel < 1 || padding < 0 || padding >= *kernel)
    return fail(args[2]->getStartLoc(),
                llvm::formatv("the kernel size must be positive and larger "
                              "than the padding (kernel {0}, padding {1})",
                              *kernel, padding),
                args[2]->getRange());
  int64_t span[2] = {in[1] + 2 * padding - *kernel,
                     in[2] + 2 * padding - *kernel};
  if (span[0] < 0 || span[1] < 0)
    return fail(call.getLoc(),
                llvm::formatv("a {0}x{0} kernel does not fit a {1}x{2} image "
                              "with padding {3}",
                              *kernel, in[1], in[2], padding),
                call.getRange());
  std::string layer = nextLayer("conv");
  SmallVector<int64_t> wShape{*kernel, *kernel, in[3], *filters},
      bShape{*filters};
  // PyTorch's default for convolutions: U(-b, b), b = 1/sqrt(fan_in).
  double bound = 1.0 / std::sqrt(double(*kernel * *kernel * in[3]));
  std::string wInit = "uniform " + num(-bound) + " " + num(bound);
  std::string bInit = wInit;
  if (failed(layerInits(call, {"stride", "padding", "init", "bias_init"}, wInit,
                        bInit)))
    return std::nullopt;
  std::optional<Value> w = layerParam(call, layer + ".w", wShape, wInit);
  std::optional<Value> b =
      w ? layerParam(call, layer + ".b", bShape, bInit) : std::nullopt;
  if (!b)
    return std::nullopt;
  SmallVector<int64_t> outShape{in[0], span[0] / stride + 1,
                                span[1] / stride + 1, *filters};
  if (!isReasonableShape(outShape))
    return fail(call.getLoc(),
                "the convolution's output " + shapeString(outShape) +
                    " would exceed 2^28 elements",
                call.getRange());
  Location ml = loc(call.getLoc());
  Value y = builder.create<meta::Conv2DOp>(
      ml, f32(outShape), x->value, *w,
      builder.getDenseI64ArrayAttr({stride, stride}),
      builder.getDenseI64ArrayAttr({padding, padding}));
  return Val::tensor(builder.create<meta::AddOp>(
      ml, y, broadcastTo(*b, outShape, call.getLoc())));
}

Value MLIRGenImpl::meanOver(Value x, ArrayRef<int64_t> axes, SMLoc l) {
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> reduced, kept(shape);
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= shape[a];
    kept[a] = 1;
  }
  for (auto [i, d] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, (int64_t)i))
      reduced.push_back(d);
  Location ml = loc(l);
  Value sum = builder.create<meta::ReduceSumOp>(
      ml, f32(reduced), x, builder.getDenseI64ArrayAttr(axes));
  Value mean =
      builder.create<meta::DivOp>(ml, sum, constant(reduced, float(count), l));
  return broadcastTo(reshape(mean, kept, l), shape, l);
}

/// batch_norm(x) and layer_norm(x): (x - mean) / sqrt(var + eps) * scale +
/// offset, with a learned scale (from 1) and offset (from 0) per channel
/// (the last dimension). Batch norm takes its statistics over every axis
/// but the channels, from the batch at hand (MAML's transductive setting:
/// no running averages); layer norm over every axis but the batch.
MLIRGenImpl::OptVal MLIRGenImpl::evalNorm(const CallExpr &call) {
  if (!checkInModel(call))
    return std::nullopt;
  StringRef name = call.getCallee();
  auto args = call.getArgs();
  if (args.size() != 1)
    return fail(call.getLoc(),
                "'" + name + "' expects 1 argument (its input), got " +
                    std::to_string(args.size()),
                call.getRange());
  OptVal x = evalTensor(*args[0], "the input of " + name.str() + "()");
  if (!x)
    return std::nullopt;
  ArrayRef<int64_t> shape = shapeOf(x->value);
  if (shape.size() < 2)
    return fail(args[0]->getStartLoc(),
                name +
                    "() needs an input with a batch and a channel "
                    "dimension, got " +
                    describe(*x),
                args[0]->getRange());
  double eps = 1e-5;
  for (const KeywordArg &kw : call.getKwargs()) {
    if (kw.name.name != "eps")
      return fail(kw.name.loc,
                  "'" + name + "' takes no keyword argument '" + kw.name.name +
                      "' (it has eps)",
                  kw.name.getRange());
    std::optional<double> v = evalConstant(*kw.value, "eps");
    if (!v)
      return std::nullopt;
    if (!(*v > 0))
      return fail(kw.value->getStartLoc(), "eps must be positive",
                  kw.value->getRange());
    eps = *v;
  }
  int64_t rank = shape.size();
  SmallVector<int64_t> axes;
  if (name == "batch_norm")
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  else
    axes = llvm::to_vector(llvm::seq<int64_t>(1, rank));
  std::string layer = nextLayer(name);
  SmallVector<int64_t> channels{shape.back()};
  std::optional<Value> scale =
      layerParam(call, layer + ".scale", channels, "const 1");
  std::optional<Value> offset =
      scale ? layerParam(call, layer + ".offset", channels, "zeros")
            : std::nullopt;
  if (!offset)
    return std::nullopt;
  SMLoc l = call.getLoc();
  Location ml = loc(l);
  Value centred =
      builder.create<meta::SubOp>(ml, x->value, meanOver(x->value, axes, l));
  Value var = meanOver(builder.create<meta::SquareOp>(ml, centred), axes, l);
  Value std = builder.create<meta::SqrtOp>(
      ml, builder.create<meta::AddOp>(ml, var, constant(shape, eps, l)));
  Value normed = builder.create<meta::DivOp>(ml, centred, std);
  Value scaled =
      builder.create<meta::MulOp>(ml, normed, broadcastTo(*scale, shape, l));
  return Val::tensor(
      builder.create<meta::AddOp>(ml, scaled, broadcastTo(*offset, shape, l)));
}

/// max_pool(x, window): the maximum of each window x window block of NHWC
/// images (stride = window; rows and columns beyond the last whole block are
/// dropped).
MLIRGenImpl::OptVal MLIRGenImpl::evalMaxPool(const CallExpr &call) {
  auto args = call.getArgs();
  if (args.size() != 2)
    return fail(call.getLoc(),
                "'max_pool' expects 2 arguments (input, window size), got " +
                    std::to_string(args.size()),
                call.getRange());
  OptVal x = evalImage(*args[0], "max_pool");
  if (!x)
    return std::nullopt;
  ArrayRef<int64_t> in = shapeOf(x->value);
  std::optional<int64_t> k = evalInt(*args[1], "the window size");
  if (!k)
    return std::nullopt;
  if (*k < 1 || *k > in[1] || *k > in[2])
    return fail(args[1]->getStartLoc(),
                llvm::formatv("the window size must be in [1, {0}] for a "
                              "{1}x{2} image",
                              std::min(in[1], in[2]), in[1], in[2]),
                args[1]->getRange());
  return Val::tensor(builder.create<meta::MaxPoolGatherOp>(
      loc(call.getLoc()), f32({in[0], in[1] / *k, in[2] / *k, in[3]}), x->value,
      x->value, builder.getDenseI64ArrayAttr({*k, *k})));
}

/// softmax_cross_entropy(logits, labels), accuracy(logits, labels) and
/// softmax(logits), over the last axis of [n, classes] tensors.
MLIRGenImpl::OptVal MLIRGenImpl::evalClassification(const CallExpr &call) {
  StringRef name = call.getCallee();
  auto args = call.getArgs();
  size_t arity = name == "softmax" ? 1 : 2;
  if (args.size() != arity)
    return fail(call.getLoc(),
                llvm::formatv("'{0}' expects {1}, got {2}", name,
                              arity == 1 ? "1 argument (logits)"
                                         : "2 arguments (logits, labels)",
                              args.size()),
                call.getRange());
  OptVal logits = evalTensor(*args[0], "the logits");
  if (!logits)
    return std::nullopt;
  ArrayRef<int64_t> shape = shapeOf(logits->value);
  if (shape.size() != 2)
    return fail(args[0]->getStartLoc(),
                name + "() needs logits [examples, classes], got " +
                    describe(*logits),
                args[0]->getRange());
  OptVal labels;
  if (arity == 2) {
    labels = evalTensor(*args[1], "the labels");
    if (!labels)
      return std::nullopt;
    if (shapeOf(labels->value) != shape) {
      diags.error(args[1]->getStartLoc(),
                  name + "() needs one-hot labels of the logits' shape (" +
                      shapeString(shape) + "), got " + describe(*labels),
                  args[1]->getRange());
      diags.note(args[0]->getStartLoc(),
                 "logits have shape " + describe(*logits), args[0]->getRange());
      return std::nullopt;
    }
  }
  SMLoc l = call.getLoc();
  Location ml = loc(l);
  Value x = logits->value;
  SmallVector<int64_t> rows{shape[0]}, column{shape[0], 1};
  auto perRow = [&](Value v) {
    return broadcastTo(reshape(v, column, l), shape, l);
  };
  auto rowMax = [&](Value v) {
    return builder
        .create<meta::ReduceMaxOp>(ml, f32(rows), v,
                                   builder.getDenseI64ArrayAttr({1}))
        .getResult();
  };
  auto rowSum = [&](Value v) {
    return builder
        .create<meta::ReduceSumOp>(ml, f32(rows), v,
                                   builder.getDenseI64ArrayAttr({1}))
        .getResult();
  };
  auto meanOfRows = [&](Value v) {
    return builder
        .create<meta::DivOp>(ml, reduceAll(v, l),
                             constant({}, float(shape[0]), l))
        .getResult();
  };
  if (name == "accuracy") {
    // A row is right when the label's logit is the row's maximum; the
    // comparison has no derivative.
    Value hit = builder.create<meta::CmpOp>(
        ml, RankedTensorType::get(shape, builder.getI1Type()),
        builder.getStringAttr("eq"), x, perRow(rowMax(x)));
    Value picked = builder.create<meta::SelectOp>(
        ml, f32(shape), hit, labels->value, constant(shape, 0, l));
    return Val::tensor(meanOfRows(rowSum(picked)));
  }
  // Shifting by the row maximum keeps exp finite. The shift cancels in
  // log-sum-exp and in softmax, so holding it constant (stop_grad) leaves
  // every derivative exact while keeping reduce_max out of the backward pass.
  Value shift = builder.create<meta::StopGradientOp>(ml, rowMax(x));
  Value z = builder.create<meta::SubOp>(ml, x, perRow(shift));
  Value e = builder.create<meta::ExpOp>(ml, z);
  Value total = rowSum(e);
  if (name == "softmax")
    return Val::tensor(builder.create<meta::DivOp>(ml, e, perRow(total)));
  // mean over rows of log(sum(exp(z))) - <labels, z>
  Value lse = builder.create<meta::LogOp>(ml, total);
  Value picked =
      rowSum(builder.create<meta::MulOp>(ml, labels->value, z).getResult());
  return Val::tensor(
      meanOfRows(builder.create<meta::SubOp>(ml, lse, picked).getResult()));
}

MLIRGenImpl::OptVal MLIRGenImpl::evalDistribution(const CallExpr &call) {
  StringRef name = call.getCallee();
  SMLoc l = call.getLoc();
  Location ml = loc(l);
  auto args = call.getArgs();
  size_t arity = name == "entropy" || name == "categorical" ? 1 : 2;
  if (args.size() != arity || !call.getKwargs().empty())
    return fail(l,
                "'" + name + "' expects " + std::to_string(arity) +
                    " argument" + (arity == 1 ? "" : "s") + ": " +
                    (name == "gaussian"      ? "gaussian(mean, log_std)"
                     : name == "categorical" ? "categorical(logits)"
                     : name == "log_prob"    ? "log_prob(distribution, value)"
                     : name == "kl"          ? "kl(p, q)"
                                             : "entropy(distribution)"),
                call.getRange());
  if (name == "gaussian") {
    OptVal mean = evalTensor(*args[0], "the mean of 'gaussian'");
    OptVal logStd = mean ? evalTensor(*args[1], "the log standard deviation "
                                                "of 'gaussian'")
                         : std::nullopt;
    if (!logStd)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(mean->value);
    if (shape.size() != 2)
      return fail(args[0]->getStartLoc(),
                  "the mean of 'gaussian' must be f32[n, actions], not " +
                      describe(*mean),
                  args[0]->getRange());
    auto joint = broadcastShapes(shapeOf(logStd->value), shape);
    if (!joint || ArrayRef<int64_t>(*joint) != shape)
      return fail(args[1]->getStartLoc(),
                  "the log standard deviation of 'gaussian' must broadcast "
                  "to the mean's shape " +
                      shapeString(shape) + ", but it is " + describe(*logStd),
                  args[1]->getRange());
    return Val::record({{"mean", mean->value},
                        {"log_std", broadcastTo(logStd->value, shape, l)}});
  }

  if (name == "categorical") {
    OptVal logits = evalTensor(*args[0], "the logits of 'categorical'");
    if (!logits)
      return std::nullopt;
    if (shapeOf(logits->value).size() != 2)
      return fail(args[0]->getStartLoc(),
                  "the logits of 'categorical' must be f32[n, actions], not " +
                      describe(*logits),
                  args[0]->getRange());
    return Val::record({{"logits", logits->value}});
  }

  auto distribution = [&](const Expr &e) -> OptVal {
    OptVal d = eval(e);
    if (d && distributionKind(*d).empty())
      return fail(e.getStartLoc(),
                  "'" + name +
                      "' needs a distribution, such as "
                      "gaussian(mean, log_std), categorical(logits) or a "
                      "policy model's output, not " +
                      describe(*d),
                  e.getRange());
    return d;
  };
  OptVal p = distribution(*args[0]);
  if (!p)
    return std::nullopt;
  SmallVector<int64_t> shape(distributionShape(*p));
  auto c = [&](double v) { return constant(shape, float(v), l); };
  auto add = [&](Value a, Value b) {
    return builder.create<meta::AddOp>(ml, a, b).getResult();
  };
  auto sub = [&](Value a, Value b) {
    return builder.create<meta::SubOp>(ml, a, b).getResult();
  };
  auto mul = [&](Value a, Value b) {
    return builder.create<meta::MulOp>(ml, a, b).getResult();
  };
  auto exp = [&](Value a) {
    return builder.create<meta::ExpOp>(ml, a).getResult();
  };
  // Per row: the sum over the action dimensions (independent components).
  auto rowSum = [&](Value x) {
    return Val::tensor(builder.create<meta::ReduceSumOp>(
        ml, f32({shape[0]}), x, builder.getDenseI64ArrayAttr({1})));
  };
  const double log2Pi = std::log(2.0 * M_PI);
  bool categorical = isCategorical(*p);
  if (name == "entropy") {
    if (categorical) { // -sum p log p
      Value logp = logSoftmax(p->leaves[0].second, l);
      return Val::tensor(
          builder.create<meta::NegOp>(ml, rowSum(mul(exp(logp), logp)).value));
    }
    // log sigma + log(2 pi e) / 2 per component.
    return rowSum(add(p->leaves[1].second, c(0.5 * (log2Pi + 1.0))));
  }
  if (name == "log_prob") {
    OptVal x = evalTensor(*args[1], "the value of 'log_prob'");
    if (!x)
      return std::nullopt;
    if (shapeOf(x->value) != ArrayRef<int64_t>(shape))
      return fail(args[1]->getStartLoc(),
                  "'log_prob' of a distribution over " + shapeString(shape) +
                      " needs a value of that shape" +
                      (categorical ? " (one-hot actions)" : "") + ", not " +
                      describe(*x),
                  args[1]->getRange());
    // Categorical: the one-hot action picks its log-probability.
    if (categorical)
      return rowSum(mul(x->value, logSoftmax(p->leaves[0].second, l)));
    Value mu = p->leaves[0].second, logStd = p->leaves[1].second;
    // -((x - mu) / sigma)^2 / 2 - log sigma - log(2 pi) / 2.
    Value z = mul(sub(x->value, mu),
                  exp(builder.create<meta::NegOp>(ml, logStd).getResult()));
    Value sq = builder.create<meta::SquareOp>(ml, z);
    return rowSum(sub(mul(c(-0.5), sq), add(logStd, c(0.5 * log2Pi))));
  }
  OptVal q = distribution(*args[1]);
  if (!q)
    return std::nullopt;
  if (distributionKind(*q) != distributionKind(*p) ||
      distributionShape(*q) != ArrayRef<int64_t>(shape))
    return fail(args[1]->getStartLoc(),
                "'kl' needs two distributions of the same kind and shape, "
                "not " +
                    describe(*p) + " and " + describe(*q),
                args[1]->getRange());
  return Val::tensor(distributionKL(*p, *q, l));
}

Value MLIRGenImpl::logSoftmax(Value logits, SMLoc l) {
  // z - log(sum(exp(z))) with z the logits shifted by their row maximum; the
  // shift cancels, so holding it constant (stop_grad) keeps every
  // derivative exact and reduce_max out of the backward pass.
  Location ml = loc(l);
  SmallVector<int64_t> shape(shapeOf(logits)), rows{shape[0]},
      column{shape[0], 1};
  auto perRow = [&](Value v) {
    return broadcastTo(reshape(v, column, l), shape, l);
  };
  auto axis = builder.getDenseI64ArrayAttr({1});
  Value shift = builder.create<meta::StopGradientOp>(
      ml, builder.create<meta::ReduceMaxOp>(ml, f32(rows), logits, axis)
              .getResult());
  Value z = builder.create<meta::SubOp>(ml, logits, perRow(shift));
  Value total = builder.create<meta::ReduceSumOp>(
      ml, f32(rows), builder.create<meta::ExpOp>(ml, z).getResult(), axis);
  Value lse = builder.create<meta::LogOp>(ml, total);
  return builder.create<meta::SubOp>(ml, z, perRow(lse));
}

Value MLIRGenImpl::distributionKL(const Val &p, const Val &q, SMLoc l) {
  if (isGaussian(p))
    return gaussianKL(p, q, l);
  // sum_k p_k (log p_k - log q_k) per row.
  Location ml = loc(l);
  Value lp = logSoftmax(p.leaves[0].second, l);
  Value lq = logSoftmax(q.leaves[0].second, l);
  Value terms = builder.create<meta::MulOp>(
      ml, builder.create<meta::ExpOp>(ml, lp).getResult(),
      builder.create<meta::SubOp>(ml, lp, lq).getResult());
  return builder.create<meta::ReduceSumOp>(ml, f32({shapeOf(lp)[0]}), terms,
                                           builder.getDenseI64ArrayAttr({1}));
}

Value MLIRGenImpl::gaussianKL(const Val &p, const Val &q, SMLoc l) {
  // Per component: log sigma_q - log sigma_p
  //   + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2; summed per row.
  Location ml = loc(l);
  Value mu = p.leaves[0].second, logStd = p.leaves[1].second;
  Value mu2 = q.leaves[0].second, logStd2 = q.leaves[1].second;
  ArrayRef<int64_t> shape = shapeOf(mu);
  auto two = [&](Value x) {
    return builder.create<meta::MulOp>(ml, constant(shape, 2, l), x)
        .getResult();
  };
  Value varP = builder.create<meta::ExpOp>(ml, two(logStd));
  Value diff = builder.create<meta::SquareOp>(
      ml, builder.create<meta::SubOp>(ml, mu, mu2).getResult());
  Value ratio = builder.create<meta::DivOp>(
      ml, builder.create<meta::AddOp>(ml, varP, diff).getResult(),
      two(builder.create<meta::ExpOp>(ml, two(logStd2))));
  Value perDim = builder.create<meta::SubOp>(
      ml,
      builder.create<meta::AddOp>(
          ml, builder.create<meta::SubOp>(ml, logStd2, logStd).getResult(),
          ratio),
      constant(shape, 0.5, l));
  return builder.create<meta::ReduceSumOp>(ml, f32({shape[0]}), perDim,
                                           builder.getDenseI64ArrayAttr({1}));
}

MLIRGenImpl::OptVal MLIRGenImpl::evalZerosOrClip(const CallExpr &call) {
  StringRef name = call.getCallee();
  SMLoc l = call.getLoc();
  Location ml = loc(l);
  auto args = call.getArgs();
  if (name == "zeros") {
    if (args.size() != 1 || !call.getKwargs().empty())
      return fail(l, "'zeros' expects 1 argument, a shape: zeros([n, 2])",
                  call.getRange());
    auto shape = evalIntList(*args[0], "the shape of 'zeros'");
    if (!shape)
      return std::nullopt;
    if (!isReasonableShape(*shape))
      return fail(args[0]->getStartLoc(),
                  "dimensions must be positive and a tensor at most 2^28 "
                  "elements",
                  args[0]->getRange());
    return Val::tensor(constant(*shape, 0, l));
  }
  // clip(x, lo, hi) = min(max(x, lo), hi): no derivative where it clips.
  if (args.size() != 3 || !call.getKwargs().empty())
    return fail(l, "'clip' expects 3 arguments: clip(x, low, high)",
                call.getRange());
  OptVal x = evalTensor(*args[0], "the argument of 'clip'");
  std::optional<double> lo =
      x ? evalConstant(*args[1], "the lower bound of 'clip'") : std::nullopt;
  std::optional<double> hi =
      lo ? evalConstant(*args[2], "the upper bound of 'clip'") : std::nullopt;
  if (!hi)
    return std::nullopt;
  if (*lo > *hi)
    return fail(args[1]->getStartLoc(),
                "'clip' needs low <= high, got " + num(*lo) + " > " + num(*hi),
                call.getRange());
  ArrayRef<int64_t> shape = shapeOf(x->value);
  Value up = builder.create<meta::MaxOp>(ml, x->value, constant(shape, *lo, l));
  return Val::tensor(
      builder.create<meta::MinOp>(ml, up, constant(shape, *hi, l)));
}

MLIRGenImpl::OptVal MLIRGenImpl::evalModelCall(const CallExpr &call,
                                               const ModelDecl &m) {
  auto args = call.getArgs();
  size_t expected = m.getArgs().size() + 1;
  if (args.size() != expected)
    return fail(call.getLoc(),
                llvm::formatv("model '{0}' expects {1} arguments (its "
                              "parameters, then {2} input{3}), got {4}",
                              m.getName(), expected, expected - 1,
                              expected == 2 ? "" : "s", args.size()),
                call.getRange());
  if (modelDepth > 8)
    return fail(call.getLoc(), "models call each other too deeply");
  if (model && &m != model)
    return fail(call.getLoc(), "the learner's model is '" + model->getName() +
                                   "'; calling another model is not supported "
                                   "yet");
  OptVal params = eval(*args[0]);
  if (!params)
    return std::nullopt;
  if (params->kind != Val::Record)
    return fail(args[0]->getStartLoc(),
                "the first argument of model '" + m.getName() +
                    "' must be its parameter record (e.g. theta), not " +
                    describe(*params),
                args[0]->getRange());
  if (!collecting &&
      (params->leaves.size() != modelParams.size() ||
       !llvm::all_of(llvm::zip(params->leaves, modelParams), [&](auto pair) {
         auto &[leaf, spec] = pair;
         return leaf.first == spec.name &&
                shapeOf(leaf.second) == ArrayRef<int64_t>(spec.shape);
       })))
    return fail(args[0]->getStartLoc(),
                "this is not the parameter record of model '" + m.getName() +
                    "' (" + describe(*params) + ", expected " +
                    std::to_string(modelParams.size()) + " tensors starting "
                    "with '" + modelParams.front().name + "')",
                args[0]->getRange());

  // Bind the inputs, checking shapes and binding symbolic dimensions.
  std::map<std::string, int64_t> symbols;
  std::vector<std::pair<std::string, Val>> bound;
  for (auto [argDecl, argExpr] : llvm::zip(m.getArgs(), args.drop_front())) {
    OptVal v = evalTensor(*argExpr, "a model input");
    if (!v)
      return std::nullopt;
    ArrayRef<int64_t> shape = shapeOf(v->value);
    const TypeAST &type = argDecl.type;
    bool ok =
        type.getRank() == shape.size() && (type.hasShape() || shape.empty());
    for (size_t i = 0; ok && i < shape.size(); ++i) {
      const DimAST &d = type.getDims()[i];
      if (!d.isSymbolic)
        ok = d.size == shape[i];
      else if (symbols.count(d.symbol))
        ok = symbols[d.symbol] == shape[i];
      else
        symbols[d.symbol] = shape[i];
    }
    if (!ok) {
      diags.error(argExpr->getStartLoc(),
                  "model input '" + argDecl.name.name + "' of '" + m.getName() +
                      "' expects " + type.str() + ", got " + describe(*v),
                  argExpr->getRange());
      diags.note(argDecl.name.loc, "'" + argDecl.name.name + "' declared here",
                 type.getRange());
      return std::nullopt;
    }
    bound.push_back({argDecl.name.name, *v});
  }
  return inlineModel(m, *params, bound, symbols);
}

MLIRGenImpl::OptVal
MLIRGenImpl::inlineModel(const ModelDecl &m, const Val &params,
                         ArrayRef<std::pair<std::string, Val>> bound,
                         std::map<std::string, int64_t> symbols) {
  // Inline the body in a fresh scope.
  const Val *savedParams = currentParams;
  std::map<std::string, unsigned> savedCounters = std::move(layerCounters);
  Scope savedScope = std::move(scope);
  scope = Scope();
  scope.push();
  for (auto &[name, v] : bound)
    scope.set(name, v);
  for (auto &[name, size] : symbols)
    scope.set(name, Val::integerVal(size));
  currentParams = &params;
  layerCounters.clear();
  ++modelDepth;
  OptVal result;
  LogicalResult ok = genBlock(m.getBody(), /*allowReturnValue=*/true, &result);
  --modelDepth;
  currentParams = savedParams;
  layerCounters = std::move(savedCounters);
  scope = std::move(savedScope);
  if (failed(ok))
    return std::nullopt;
  if (!result)
    return fail(m.getBody().rBraceLoc,
                "model '" + m.getName() +
                    "' must end with an expression: its output");
  if (const auto &rt = m.getResultType();
      rt && (rt->getElementType() == "f32"
                 ? result->kind != Val::Tensor
                 : rt->getElementType() != distributionKind(*result))) {
    diags.error(m.getBody().back()->getLoc(),
                "model '" + m.getName() + "' returns " + describe(*result) +
                    " but declares " + rt->str());
    diags.note(rt->getLoc(), "result type declared here", rt->getRange());
    return std::nullopt;
  }
  if (const auto &rt = m.getResultType();
      rt &&
      (result->kind == Val::Tensor || !distributionKind(*result).empty())) {
    // A distribution is checked by the shape of its values.
    ArrayRef<int64_t> shape = result->kind == Val::Tensor
                                  ? shapeOf(result->value)
                                  : distributionShape(*result);
    bool ok2 = rt->getRank() == shape.size();
    for (size_t i = 0; ok2 && i < shape.size(); ++i) {
      const DimAST &d = rt->getDims()[i];
      ok2 = d.isSymbolic
                ? (!symbols.count(d.symbol) || symbols[d.symbol] == shape[i])
                : d.size == shape[i];
    }
    if (!ok2) {
      diags.error(m.getBody().back()->getLoc(),
                  "model '" + m.getName() + "' returns " + describe(*result) +
                      " but declares " + rt->str());
      diags.note(rt->getLoc(), "result type declared here", rt->getRange());
      return std::nullopt;
    }
  }
  return result;
}

/// `x ~ uniform(lo, hi[, shape])` or `normal(mean, std[, shape])`.
MLIRGenImpl::OptVal MLIRGenImpl::evalDraw(const CallExpr &dist, SMLoc nameLoc,
                                          bool perTask) {
  StringRef name = dist.getCallee();
  if (name != "uniform" && name != "normal")
    return fail(dist.getLoc(),
                "unknown distribution '" + name +
                    "' (expected uniform or normal)",
                dist.getCalleeIdentifier().getRange());
  auto args = dist.getArgs();
  if (args.size() != 2 && args.size() != 3)
    return fail(dist.getLoc(),
                "'" + name + "' expects 2 or 3 arguments (" +
                    (name == "uniform" ? "low, high" : "mean, std") +
                    "[, shape]), got " + std::to_string(args.size()),
                dist.getRange());
  OptVal a = evalTensor(*args[0], "a distribution parameter");
  OptVal b =
      a ? evalTensor(*args[1], "a distribution parameter") : std::nullopt;
  if (!b)
    return std::nullopt;
  if (!shapeOf(a->value).empty() || !shapeOf(b->value).empty())
    return fail(dist.getLoc(), "distribution parameters must be scalars");
  SmallVector<int64_t> shape;
  if (args.size() == 3) {
    auto s = evalIntList(*args[2], "the shape of a draw");
    if (!s)
      return std::nullopt;
    shape = *s;
    if (!isReasonableShape(shape))
      return fail(args[2]->getStartLoc(), "dimensions must be positive and a tensor at most 2^28 elements",
                  args[2]->getRange());
  }
  Value key = perTask ? taskKey : dataKey;
  Location ml = loc(dist.getLoc());
  Value unit;
  auto stream = builder.getI64IntegerAttr(drawStream++);
  if (name == "uniform")
    unit = builder.create<meta::RandomUniformOp>(ml, f32(shape), key, stream);
  else
    unit = builder.create<meta::RandomNormalOp>(ml, f32(shape), key, stream);
  // uniform: lo + (hi - lo) u;  normal: mean + std z.
  Value scale =
      name == "uniform"
          ? builder.create<meta::SubOp>(ml, b->value, a->value).getResult()
          : b->value;
  Value scaled = builder.create<meta::MulOp>(
      ml, unit, broadcastTo(scale, shape, dist.getLoc()));
  return Val::tensor(builder.create<meta::AddOp>(
      ml, scaled, broadcastTo(a->value, shape, dist.getLoc())));
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

LogicalResult MLIRGenImpl::genBlock(const metac::Block &block,
                                    bool allowReturnValue, OptVal *result) {
  for (auto [i, stmt] : llvm::enumerate(block.stmts)) {
    bool last = i + 1 == block.stmts.size();
    OptVal value;
    if (failed(genStmt(*stmt, &value)))
      return failure();
    if (isa<ExprStmt>(*stmt)) {
      if (!last || !allowReturnValue) {
        diags.warning(stmt->getLoc(), "expression result is unused");
        continue;
      }
      if (result)
        *result = value;
    }
  }
  return success();
}

LogicalResult MLIRGenImpl::assignPath(const AssignStmt &assign, Val v) {
  ArrayRef<Identifier> path = assign.getPath();
  if (path.size() == 1) {
    if (path[0].name == "pi")
      return diags.error(path[0].loc, "'pi' is a constant"), failure();
    scope.assign(path[0].name, std::move(v));
    return success();
  }
  Val *root = scope.lookup(path[0].name);
  if (!root || root->kind != Val::Record) {
    diags.error(path[0].loc,
                "'" + path[0].name +
                    "' is not a record, so its fields cannot be "
                    "assigned",
                path[0].getRange());
    return failure();
  }
  std::string prefix;
  for (const Identifier &id : path.drop_front())
    prefix += (prefix.empty() ? "" : ".") + id.name;
  OptVal old = field(*root, prefix, path.back().loc);
  if (!old)
    return failure();
  if (old->kind == Val::Tensor && v.kind == Val::Tensor &&
      shapeOf(old->value) == shapeOf(v.value)) {
    for (auto &[p, leaf] : root->leaves)
      if (p == prefix)
        leaf = v.value;
    return success();
  }
  if (old->kind == Val::Record && v.kind == Val::Record &&
      old->leaves.size() == v.leaves.size() &&
      llvm::all_of(llvm::zip(old->leaves, v.leaves), [](auto pair) {
        return std::get<0>(pair).first == std::get<1>(pair).first &&
               std::get<0>(pair).second.getType() ==
                   std::get<1>(pair).second.getType();
      })) {
    for (auto &[p, leaf] : root->leaves)
      for (auto &[q, nv] : v.leaves)
        if (p == prefix + "." + q)
          leaf = nv;
    return success();
  }
  diags.error(assign.getEqualLoc(), "cannot assign " + describeFields(v) +
                                        " to '" + assign.getPathString() +
                                        "', which is " + describeFields(*old));
  return failure();
}

LogicalResult MLIRGenImpl::genStmt(const Stmt &stmt, OptVal *result) {
  // Loops and models are unrolled and inlined, so a small program can ask
  // for unbounded work; stop with a located error instead of exhausting
  // memory.
  if (++statementsGenerated > kMaxStatements) {
    if (!budgetReported)
      diags.error(outermostRepeat ? outermostRepeat->getLoc() : stmt.getLoc(),
                  "the program unrolls to more than " +
                      std::to_string(kMaxStatements) +
                      " statements (repeat loops, model calls and "
                      "evaluation steps are all unrolled at compile time)");
    budgetReported = true;
    return failure();
  }
  switch (stmt.getKind()) {
  case Stmt::Kind::Assign: {
    auto &a = cast<AssignStmt>(stmt);
    OptVal v = eval(a.getValue());
    if (!v)
      return failure();
    return assignPath(a, *v);
  }
  case Stmt::Kind::Draw: {
    auto &d = cast<DrawStmt>(stmt);
    if (!dataKey && !taskKey)
      return diags.error(d.getTildeLoc(),
                         "random draws ('~') are only allowed in a tasks "
                         "declaration"),
             failure();
    OptVal v = evalDraw(d.getDistribution(), d.getIdentifier().loc,
                        /*perTask=*/!dataKey);
    if (!v)
      return failure();
    scope.assign(d.getName(), *v);
    return success();
  }
  case Stmt::Kind::Repeat:
    return genRepeat(cast<RepeatStmt>(stmt));
  case Stmt::Kind::Param: {
    auto &p = cast<ParamStmt>(stmt);
    if (!collecting && !currentParams)
      return diags.error(p.getLoc(),
                         "'param' declares a model parameter; it is only "
                         "allowed in a model"),
             failure();
    SmallVector<int64_t> shape;
    for (const DimAST &d : p.getType().getDims()) {
      if (d.isSymbolic)
        return diags.error(d.loc, "parameter shapes must be constant"),
               failure();
      shape.push_back(d.size);
      if (!isReasonableShape(shape))
        return diags.error(d.loc, "dimensions must be positive and a tensor at most 2^28 elements"), failure();
    }
    if (p.getType().getElementType() != "f32")
      return diags.error(p.getType().getLoc(),
                         "parameters must be f32, not '" +
                             p.getType().getElementType() + "'"),
             failure();
    if (collecting) {
      std::string init = "zeros";
      if (p.getInitKind() == ParamStmt::InitKind::Value) {
        auto v = evalConstant(*p.getInit(), "a parameter's initial value");
        if (!v)
          return failure();
        init = "const " + num(*v);
      } else if (p.getInitKind() == ParamStmt::InitKind::Draw) {
        std::optional<std::string> drawn = initializer(*p.getInit());
        if (!drawn)
          return failure();
        init = *drawn;
      }
      if (!declaredNames.insert(p.getName().str()).second)
        return diags.error(p.getIdentifier().loc,
                           "parameter '" + p.getName() + "' declared twice"),
               failure();
      collected->push_back({p.getName().str(), shape, init, p.getLoc()});
      scope.set(p.getName(), Val::tensor(constant(shape, 0, p.getLoc())));
      return success();
    }
    OptVal v = field(*currentParams, p.getName(), p.getIdentifier().loc);
    if (!v)
      return failure();
    scope.set(p.getName(), *v);
    return success();
  }
  case Stmt::Kind::Expr: {
    OptVal v = eval(cast<ExprStmt>(stmt).getExpr());
    if (!v)
      return failure();
    if (result)
      *result = v;
    return success();
  }
  }
  return failure();
}

LogicalResult MLIRGenImpl::genRepeat(const RepeatStmt &repeat) {
  int64_t trained = repeat.getCount();
  if (trained < 0)
    return diags.error(repeat.getCountLoc(),
                       "repeat count must not be negative"),
           failure();
  if (trained > 1000)
    return diags.error(repeat.getCountLoc(),
                       "repeat is unrolled at compile time; at most 1000 "
                       "steps are supported"),
           failure();
  int64_t count = trained;
  if (&repeat == innerLoop && repeatOverride)
    count = *repeatOverride;
  const RepeatStmt *savedOutermost = outermostRepeat;
  if (!outermostRepeat)
    outermostRepeat = &repeat;
  auto restore = llvm::make_scope_exit([&] { outermostRepeat = savedOutermost; });
  for (int64_t step = 0; step < count; ++step) {
    scope.push();
    if (const auto &idx = repeat.getIndexName())
      // Evaluation may run more steps than were trained: reuse the last.
      scope.set(idx->name, Val::integerVal(std::min(
                               step, std::max<int64_t>(trained, 1) - 1)));
    // Assignments to names of the enclosing scope update them; new names
    // stay local to the step.
    LogicalResult ok = genBlock(repeat.getBody(), false, nullptr);
    scope.pop();
    if (failed(ok))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The learner
//===----------------------------------------------------------------------===//

LogicalResult MLIRGenImpl::collectModelParams(const ModelDecl &m) {
  // Dry run of the model body in a scratch function: dense() and param
  // declare parameters as they are met, in order.
  OpBuilder::InsertionGuard guard(builder);
  auto scratch = builder.create<func::FuncOp>(
      builder.getUnknownLoc(), "__collect", builder.getFunctionType({}, {}));
  builder.setInsertionPointToStart(scratch.addEntryBlock());
  collecting = true;
  collected = &modelParams;
  scope.push();
  bool ok = true;
  for (const TypedArg &arg : m.getArgs()) {
    SmallVector<int64_t> shape;
    // Symbolic sizes take the support size, the most common call, so that
    // errors found here show the shapes a user expects.
    int64_t n = settings["support"];
    for (const DimAST &d : arg.type.getDims())
      shape.push_back(d.isSymbolic ? n : d.size);
    for (const DimAST &d : arg.type.getDims()) {
      if (d.isSymbolic)
        scope.set(d.symbol, Val::integerVal(n));
      else if (d.size <= 0)
        ok = (diags.error(d.loc, "dimensions must be positive"), false);
    }
    if (arg.type.getElementType() != "f32")
      ok = (diags.error(arg.type.getLoc(), "model inputs must be f32, not '" +
                                               arg.type.getElementType() + "'"),
            false);
    scope.set(arg.name.name, Val::tensor(constant(shape, 0, arg.name.loc)));
  }
  OptVal result;
  Val empty = Val::record({});
  currentParams = nullptr;
  layerCounters.clear();
  if (ok)
    ok = succeeded(genBlock(m.getBody(), true, &result));
  scope.pop();
  collecting = false;
  scratch.erase();
  if (!ok)
    return failure();
  if (modelParams.empty())
    return diags.error(m.getLoc(), "model '" + m.getName() +
                                       "' has no parameters (use dense() or "
                                       "'param')"),
           failure();
  if (!result)
    return diags.error(m.getBody().rBraceLoc,
                       "model '" + m.getName() +
                           "' must end with an expression: its output"),
           failure();
  return success();
}

SmallVector<Type> MLIRGenImpl::paramTypes() {
  SmallVector<Type> types;
  for (auto *list : {&modelParams, &metaParams})
    for (const ParamSpec &p : *list)
      types.push_back(f32(p.shape));
  return types;
}

SmallVector<Type> MLIRGenImpl::dataTypes(int64_t n) {
  SmallVector<Type> types;
  for (auto &[name, rest] : dataFields) {
    SmallVector<int64_t> shape{n};
    shape.append(rest.begin(), rest.end());
    types.push_back(f32(shape));
  }
  return types;
}

Val MLIRGenImpl::paramsRecord(ValueRange args) {
  std::vector<std::pair<std::string, Value>> leaves;
  for (auto [p, v] : llvm::zip(modelParams, args))
    leaves.push_back({p.name, v});
  return Val::record(std::move(leaves));
}

Val MLIRGenImpl::dataRecord(ValueRange args) {
  std::vector<std::pair<std::string, Value>> leaves;
  for (auto [f, v] : llvm::zip(dataFields, args))
    leaves.push_back({f.first, v});
  return Val::record(std::move(leaves));
}

void MLIRGenImpl::bindMetaParams(ValueRange args) {
  // Meta items are records (`like theta`) or tensors; their leaves are the
  // trailing parameters, grouped by item name.
  size_t i = 0;
  for (const MetaItem *item : learner->getItemsOf<MetaItem>()) {
    if (item->isLike()) {
      std::vector<std::pair<std::string, Value>> leaves;
      for (const ParamSpec &p : modelParams)
        leaves.push_back({p.name, args[i++]});
      scope.set(item->getName(), Val::record(std::move(leaves)));
    } else {
      scope.set(item->getName(), Val::tensor(args[i++]));
    }
  }
}

func::FuncOp MLIRGenImpl::beginKernel(StringRef name, ArrayRef<Type> inputs,
                                      StringRef kind) {
  builder.setInsertionPointToEnd(module.getBody());
  auto fn = builder.create<func::FuncOp>(loc(learner->getLoc()), name,
                                         builder.getFunctionType(inputs, {}));
  fn->setAttr("metac.kernel", builder.getStringAttr(kind));
  builder.setInsertionPointToStart(fn.addEntryBlock());
  kernelLines.push_back(
      llvm::formatv("kernel {0} {1}", kernelNames.size(), kind).str());
  kernelNames.push_back(name.str());
  return fn;
}

void MLIRGenImpl::endKernel(func::FuncOp fn, ArrayRef<Value> results) {
  builder.create<func::ReturnOp>(fn.getLoc(), results);
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  fn.setFunctionType(
      builder.getFunctionType(fn.getFunctionType().getInputs(), types));
}

MLIRGenImpl::OptVal MLIRGenImpl::runAdapt(Val theta, Val support,
                                          std::optional<int64_t> steps) {
  scope.push();
  scope.set(adapt->getParamsName().name, theta);
  scope.set(adapt->getDataName().name, support);
  repeatOverride = steps;
  LogicalResult ok = genBlock(adapt->getBody(), false, nullptr);
  repeatOverride.reset();
  OptVal adapted;
  if (succeeded(ok)) {
    Val *v = scope.lookup(adapt->getParamsName().name);
    if (v->kind != Val::Record || v->leaves.size() != theta.leaves.size() ||
        !llvm::all_of(llvm::zip(v->leaves, theta.leaves), [](auto pair) {
          return std::get<0>(pair).second.getType() ==
                 std::get<1>(pair).second.getType();
        }))
      diags.error(adapt->getParamsName().loc,
                  "at the end of adapt, '" + adapt->getParamsName().name +
                      "' must still be the model's parameter record, but it "
                      "is " +
                      describe(*v));
    else
      adapted = *v;
  }
  scope.pop();
  return adapted;
}

MLIRGenImpl::OptVal MLIRGenImpl::runObjective(const ObjectiveItem &fn,
                                              Val theta, Val query,
                                              const Val &initial,
                                              const Val &support) {
  scope.push();
  // `objective(theta, q, theta0, s)` also sees the parameters before
  // adaptation and the support set: a derivative through theta0 reaches
  // the initial parameters directly, not only through adapt (the
  // score-function term of reinforcement learning's pre-update episodes).
  if (fn.hasSupportArguments()) {
    scope.set(fn.getInitialName().name, initial);
    scope.set(fn.getSupportName().name, support);
  }
  scope.set(fn.getParamsName().name, theta);
  scope.set(fn.getDataName().name, query);
  OptVal loss;
  LogicalResult ok = genBlock(fn.getBody(), true, &loss);
  scope.pop();
  if (failed(ok))
    return std::nullopt;
  SMLoc where =
      fn.getBody().back() ? fn.getBody().back()->getLoc() : fn.getLoc();
  auto *metric = dyn_cast<MetricItem>(&fn);
  std::string what = metric ? ("the metric '" + metric->getName() + "'").str()
                            : std::string("the objective");
  if (!loss)
    return fail(where, what + " must end with an expression: " +
                           (metric ? "its value" : "the loss"));
  if (loss->kind != Val::Tensor || !shapeOf(loss->value).empty())
    return fail(where,
                what + " must be a scalar, but it is " + describe(*loss));
  return loss;
}

LogicalResult MLIRGenImpl::genSampleKernel(int64_t n) {
  auto key = RankedTensorType::get({}, builder.getI64Type());
  std::string name = "sample_" + std::to_string(n);
  func::FuncOp fn =
      beginKernel(name, {key, key}, "sample " + std::to_string(n));
  taskKey = fn.getArgument(0);
  dataKey = Value();
  drawStream = 0;
  scope.push();
  // Latents first (per task), then the data generator (per draw of data).
  for (const StmtPtr &s : tasks->getLatents())
    if (failed(genStmt(*s, nullptr)))
      return scope.pop(), failure();
  dataKey = fn.getArgument(1);
  scope.push();
  scope.set(tasks->getSampleSize().name, Val::integerVal(n));
  LogicalResult ok = genBlock(tasks->getSampleBody(), false, nullptr);
  SmallVector<Value> results;
  if (succeeded(ok)) {
    bool first = dataFields.empty();
    // Every tensor named in sample(n) with leading dimension n is task data,
    // in order of first assignment.
    SmallVector<std::string> names;
    for (const StmtPtr &s : tasks->getSampleBody()) {
      std::string nm;
      if (auto *a = dyn_cast<AssignStmt>(s.get()); a && !a->isFieldAssignment())
        nm = a->getName().str();
      else if (auto *d = dyn_cast<DrawStmt>(s.get()))
        nm = d->getName().str();
      if (!nm.empty() && !llvm::is_contained(names, nm))
        names.push_back(nm);
    }
    // The fields must be the same for every size n the program samples,
    // with the same shape apart from the leading n: the kernels of every
    // size share one data layout.
    std::vector<std::pair<std::string, SmallVector<int64_t>>> fields;
    for (const std::string &nm : names) {
      Val *v = scope.lookup(nm);
      if (!v || v->kind != Val::Tensor || shapeOf(v->value).empty() ||
          shapeOf(v->value)[0] != n)
        continue;
      fields.push_back(
          {nm, SmallVector<int64_t>(shapeOf(v->value).drop_front())});
      results.push_back(v->value);
    }
    if (first) {
      dataFields = fields;
    } else if (fields != dataFields) {
      auto describeFields = [](const auto &list) {
        std::string out;
        for (auto &[name, rest] : list) {
          std::string shape = "f32[n";
          for (int64_t d : rest)
            shape += ", " + std::to_string(d);
          out += (out.empty() ? "" : ", ") + name + ": " + shape + "]";
        }
        return out;
      };
      diags.error(tasks->getSampleLoc(),
                  "the task data of sample(" + tasks->getSampleSize().name +
                      ") depends on the sample size: with " +
                      tasks->getSampleSize().name + " = " + std::to_string(n) +
                      " it is {" + describeFields(fields) +
                      "}, with the first size {" +
                      describeFields(dataFields) + "}");
      diags.note(tasks->getSampleLoc(),
                 "every tensor whose first dimension is '" +
                     tasks->getSampleSize().name +
                     "' is task data; give other tensors shapes that do not "
                     "start with it");
      ok = failure();
    }
    if (first && dataFields.empty()) {
      diags.error(tasks->getSampleLoc(),
                  "sample(" + tasks->getSampleSize().name +
                      ") defines no task data: assign tensors whose first "
                      "dimension is '" +
                      tasks->getSampleSize().name + "'");
      ok = failure();
    }
  }
  scope.pop();
  scope.pop();
  taskKey = dataKey = Value();
  if (failed(ok))
    return failure();
  endKernel(fn, results);
  return success();
}

MLIRGenImpl::TaskKernel MLIRGenImpl::beginTaskKernel(StringRef kind, int64_t s,
                                                     std::optional<int64_t> q) {
  SmallVector<Type> inputs = paramTypes();
  size_t numParams = inputs.size();
  auto support = dataTypes(s);
  inputs.append(support.begin(), support.end());
  std::string name = (kind + "_" + Twine(s)).str();
  std::string line = (kind + " " + Twine(s)).str();
  if (q) {
    auto query = dataTypes(*q);
    inputs.append(query.begin(), query.end());
    name += "_" + std::to_string(*q);
    line += " " + std::to_string(*q);
  }
  TaskKernel k;
  k.fn = beginKernel(name, inputs, line);
  auto args = k.fn.getArguments();
  k.params = args.take_front(numParams);
  k.support = dataRecord(args.slice(numParams, support.size()));
  if (q)
    k.query = dataRecord(args.drop_front(numParams + support.size()));
  return k;
}

MLIRGenImpl::OptVal MLIRGenImpl::metaObjective(ValueRange params,
                                               const Val &support,
                                               const Val &query,
                                               std::optional<int64_t> steps,
                                               const ObjectiveItem *fn) {
  scope.push();
  bindMetaParams(params.drop_front(modelParams.size()));
  // Zero steps measures the initialisation itself: no part of adapt runs.
  OptVal adapted = steps && *steps == 0
                       ? OptVal(paramsRecord(params))
                       : runAdapt(paramsRecord(params), support, steps);
  OptVal loss = adapted ? runObjective(fn ? *fn : *objective, *adapted, query,
                                       paramsRecord(params), support)
                        : std::nullopt;
  scope.pop();
  return loss;
}

LogicalResult MLIRGenImpl::genMetaGradKernel(int64_t s, int64_t q) {
  // loss(params) = objective(adapt(params, support), query).
  FailureOr<func::FuncOp> fn = genValueAndGradKernel(
      "meta_grad", s, q, loc(objective->getLoc()),
      [&](ValueRange params, const TaskKernel &k) {
        return metaObjective(params, k.support, k.query, std::nullopt);
      });
  if (failed(fn))
    return failure();
  info.metaGradKernel = fn->getName().str();
  return success();
}

FailureOr<func::FuncOp> MLIRGenImpl::genValueAndGradKernel(
    StringRef kind, int64_t s, int64_t q, Location l,
    llvm::function_ref<OptVal(ValueRange params, const TaskKernel &k)> value) {
  TaskKernel k = beginTaskKernel(kind, s, q);
  // The value, and its gradient: the same computation inside a meta.grad
  // region.
  OptVal loss = value(k.params, k);
  if (!loss)
    return failure();
  SmallVector<Type> types(k.params.getTypes());
  auto grad = builder.create<meta::GradOp>(l, types, k.params);
  mlir::Block *body = builder.createBlock(&grad.getBody());
  for (Type t : types)
    body->addArgument(t, l);
  OptVal inner = value(body->getArguments(), k);
  if (!inner)
    return failure();
  builder.create<meta::YieldOp>(l, inner->value);
  builder.setInsertionPointAfter(grad);
  SmallVector<Value> results{loss->value};
  results.append(grad.getResults().begin(), grad.getResults().end());
  endKernel(k.fn, results);
  return k.fn;
}

LogicalResult MLIRGenImpl::genAdaptKernel(int64_t s, bool oneStep) {
  TaskKernel k =
      beginTaskKernel(oneStep ? "adapt_step" : "adapt", s, std::nullopt);
  scope.push();
  bindMetaParams(k.params.drop_front(modelParams.size()));
  OptVal adapted = runAdapt(paramsRecord(k.params), k.support,
                            oneStep ? std::optional<int64_t>(1) : std::nullopt);
  scope.pop();
  if (!adapted)
    return failure();
  SmallVector<Value> results;
  for (auto &[n, v] : adapted->leaves)
    results.push_back(v);
  endKernel(k.fn, results);
  return success();
}

LogicalResult MLIRGenImpl::genEvalKernel(int64_t s, int64_t q) {
  TaskKernel k = beginTaskKernel("eval", s, q);
  // Per evaluated step count, the loss and then each metric. The k-step
  // unrolling is a prefix of the (k+1)-step one, and the metrics repeat the
  // adaptation, so CSE shares the work between them.
  SmallVector<Value> losses;
  for (int64_t steps : evalSteps)
    if (failed(appendObjectiveAndMetrics(k.params, k.support, k.query, steps,
                                         losses)))
      return failure();
  endKernel(k.fn, {concatScalars(losses, objective->getLoc())});
  return success();
}

LogicalResult
MLIRGenImpl::appendObjectiveAndMetrics(ValueRange params, const Val &support,
                                       const Val &query, int64_t steps,
                                       SmallVectorImpl<Value> &values) {
  OptVal loss = metaObjective(params, support, query, steps);
  if (!loss)
    return failure();
  values.push_back(reshape(loss->value, {1}, objective->getLoc()));
  for (const MetricItem *m : metrics) {
    OptVal value = metaObjective(params, support, query, steps, m);
    if (!value)
      return failure();
    values.push_back(reshape(value->value, {1}, m->getLoc()));
  }
  return success();
}

Value MLIRGenImpl::concatScalars(ArrayRef<Value> scalars, SMLoc where) {
  if (scalars.size() == 1)
    return scalars.front();
  // Pad each into place and sum.
  int64_t count = scalars.size();
  Location l = loc(where);
  Value all;
  for (auto [i, v] : llvm::enumerate(scalars)) {
    Value placed = builder.create<meta::PadOp>(
        l, f32({count}), v, builder.getDenseI64ArrayAttr({(int64_t)i}));
    all =
        all ? builder.create<meta::AddOp>(l, all, placed).getResult() : placed;
  }
  return all;
}

/// Collects the names assigned anywhere in `block`, nested repeats included.
static void collectAssignedNames(const metac::Block &block,
                                 SmallVectorImpl<StringRef> &names,
                                 bool &draws) {
  for (const StmtPtr &stmt : block) {
    if (auto *assign = dyn_cast<AssignStmt>(stmt.get()))
      names.push_back(assign->getName());
    else if (auto *repeat = dyn_cast<RepeatStmt>(stmt.get()))
      collectAssignedNames(repeat->getBody(), names, draws);
    else if (isa<DrawStmt>(stmt.get()))
      draws = true;
  }
}

bool MLIRGenImpl::adaptsStepwise() {
  // k steps are then one step applied k times: adapt is a single repeat
  // whose body sees no step index, draws nothing, and carries nothing from
  // one step to the next but the parameters. The objective and metrics see
  // only the adapted parameters and the query set.
  if (adapt->getBody().size() != 1 || !innerLoop ||
      adapt->getBody().stmts.front().get() != innerLoop ||
      innerLoop->getIndexName() || objective->hasSupportArguments() ||
      llvm::any_of(metrics, [](const MetricItem *m) {
        return m->hasSupportArguments();
      }))
    return false;
  SmallVector<StringRef> assigned;
  bool draws = false;
  collectAssignedNames(innerLoop->getBody(), assigned, draws);
  if (draws)
    return false;
  StringRef theta = adapt->getParamsName().name;
  StringRef data = adapt->getDataName().name;
  // A name the step assigns but that exists before adapt runs would carry
  // its value into the next step.
  return llvm::all_of(assigned, [&](StringRef name) {
    return name == theta || (name != data && !scope.lookup(name) &&
                             llvm::none_of(learner->getItemsOf<MetaItem>(),
                                           [&](const MetaItem *m) {
                                             return m->getName() == name;
                                           }));
  });
}

LogicalResult MLIRGenImpl::genQueryEvalKernel(int64_t q) {
  SmallVector<Type> inputs = paramTypes();
  size_t numParams = inputs.size();
  auto query = dataTypes(q);
  inputs.append(query.begin(), query.end());
  func::FuncOp fn = beginKernel("query_eval_" + std::to_string(q), inputs,
                                "query_eval " + std::to_string(q));
  auto args = fn.getArguments();
  ValueRange params = args.take_front(numParams);
  Val queryRecord = dataRecord(args.drop_front(numParams));
  // The parameters as they are (0 steps): the runtime has adapted them.
  SmallVector<Value> values;
  if (failed(appendObjectiveAndMetrics(params, Val(), queryRecord, 0, values)))
    return failure();
  endKernel(fn, {concatScalars(values, objective->getLoc())});
  return success();
}

LogicalResult MLIRGenImpl::genLatents() {
  for (const StmtPtr &s : tasks->getLatents())
    if (failed(genStmt(*s, nullptr)))
      return failure();
  return success();
}

LogicalResult MLIRGenImpl::genResetKernel(int64_t n) {
  auto key = RankedTensorType::get({}, builder.getI64Type());
  func::FuncOp fn = beginKernel("reset_" + std::to_string(n), {key, key},
                                "reset " + std::to_string(n));
  taskKey = fn.getArgument(0);
  dataKey = Value();
  drawStream = 0;
  scope.push();
  LogicalResult ok = genLatents();
  dataKey = fn.getArgument(1);
  scope.push();
  scope.set(tasks->getResetSize().name, Val::integerVal(n));
  if (succeeded(ok))
    ok = genBlock(tasks->getResetBody(), false, nullptr);
  const std::string &state = tasks->getStepState().name;
  Val *v = scope.lookup(state);
  Value result;
  if (succeeded(ok)) {
    SmallVector<int64_t> want{n, env->obsDim};
    if (!v || v->kind != Val::Tensor || shapeOf(v->value) != ArrayRef(want)) {
      diags.error(
          tasks->getResetLoc(),
          "reset(" + tasks->getResetSize().name +
              ") must set the "
              "state '" +
              state + "' to " + shapeString(want) + " (the observations of " +
              tasks->getResetSize().name +
              " episodes, as the policy model's input), but " +
              (v ? "it is " + describe(*v) : std::string("it is not set")));
      ok = failure();
    } else {
      result = v->value;
    }
  }
  scope.pop();
  scope.pop();
  taskKey = dataKey = Value();
  if (failed(ok))
    return failure();
  endKernel(fn, {result});
  return success();
}

LogicalResult MLIRGenImpl::genStepKernel(int64_t n) {
  auto key = RankedTensorType::get({}, builder.getI64Type());
  bool simulated = env->sim.has_value();
  SmallVector<Type> inputs{key, key, f32({n, env->obsDim}),
                           f32({n, env->actDim})};
  if (simulated)
    inputs.push_back(f32({n, env->obsDim}));
  std::string kind = simulated ? "reward" : "step";
  func::FuncOp fn = beginKernel(kind + "_" + std::to_string(n), inputs,
                                kind + " " + std::to_string(n));
  taskKey = fn.getArgument(0);
  dataKey = Value();
  drawStream = 0;
  scope.push();
  LogicalResult ok = genLatents();
  // Draws inside step are per step: the runtime passes a fresh key.
  dataKey = fn.getArgument(1);
  scope.push();
  const std::string &state = tasks->getStepState().name;
  scope.set(state, Val::tensor(fn.getArgument(2)));
  scope.set(tasks->getStepAction().name, Val::tensor(fn.getArgument(3)));
  SMLoc where = tasks->getStepLoc();
  if (simulated) {
    // The readings after the step, one field per named sensor: f32[n] for
    // a scalar sensor, f32[n, size] otherwise.
    Value readings = fn.getArgument(4);
    std::vector<std::pair<std::string, Value>> fields;
    for (const SimulatorModel::Sensor &sensor : env->sim->sensors) {
      Value column = builder.create<meta::SliceOp>(
          loc(where), f32({n, sensor.size}), readings,
          builder.getDenseI64ArrayAttr({0, sensor.offset}));
      if (sensor.size == 1)
        column = builder.create<meta::ReshapeOp>(loc(where), f32({n}), column);
      fields.emplace_back(sensor.name, column);
    }
    scope.set(tasks->getStepSensors().name, Val::record(std::move(fields)));
  }
  if (succeeded(ok))
    ok = genBlock(tasks->getStepBody(), false, nullptr);
  SmallVector<Value> results;
  auto expect = [&](StringRef name, ArrayRef<int64_t> shape,
                    StringRef meaning) {
    Val *v = scope.lookup(name);
    if (v && v->kind == Val::Tensor && shapeOf(v->value) == shape) {
      results.push_back(v->value);
      return true;
    }
    diags.error(
        where,
        "step(" + state + ", " + tasks->getStepAction().name +
            (simulated ? ", " + tasks->getStepSensors().name : std::string()) +
            ") must set '" + name + "' to " + shapeString(shape) + " (" +
            meaning + "), but " +
            (v ? "it is " + describe(*v) : std::string("it is not set")));
    return false;
  };
  if (succeeded(ok) && !simulated &&
      !expect(state, {n, env->obsDim}, "the next observations"))
    ok = failure();
  if (succeeded(ok) && simulated) {
    // The simulator's sensors are the observations; a new value here would
    // be silently dropped.
    Val *v = scope.lookup(state);
    if (!v || v->kind != Val::Tensor || v->value != fn.getArgument(2)) {
      diags.error(where, "step(" + state + ", " + tasks->getStepAction().name +
                             ", " + tasks->getStepSensors().name + ") sets '" +
                             state +
                             "', but the simulator's sensor readings are the "
                             "observations");
      ok = failure();
    }
  }
  if (succeeded(ok) && !expect("reward", {n}, "one reward per episode"))
    ok = failure();
  if (succeeded(ok)) {
    // done: a condition per episode (or 0/1 values); without it, episodes
    // run for the whole horizon.
    Val *done = scope.lookup("done");
    Location l = loc(where);
    if (!done) {
      results.push_back(constant({n}, 0, where));
    } else if (done->kind == Val::Bool && shapeOf(done->value) == ArrayRef{n}) {
      results.push_back(builder.create<meta::SelectOp>(
          l, f32({n}), done->value, constant({n}, 1, where),
          constant({n}, 0, where)));
    } else if (done->kind == Val::Tensor &&
               shapeOf(done->value) == ArrayRef{n}) {
      results.push_back(done->value);
    } else {
      diags.error(where, "'done' must be a condition per episode (f32[" +
                             std::to_string(n) +
                             "], such as 'max(abs(obs), "
                             "axis = 1) < 0.01'), but it is " +
                             describe(*done));
      ok = failure();
    }
  }
  scope.pop();
  scope.pop();
  taskKey = dataKey = Value();
  if (failed(ok))
    return failure();
  endKernel(fn, results);
  return success();
}

LogicalResult MLIRGenImpl::genPolicyKernel(int64_t n) {
  // The policy sees the model parameters only: the runtime calls it with
  // the adapted ones, which have no meta-parameters.
  SmallVector<Type> inputs;
  for (const ParamSpec &p : modelParams)
    inputs.push_back(f32(p.shape));
  inputs.push_back(f32({n, env->obsDim}));
  func::FuncOp fn = beginKernel("policy_" + std::to_string(n), inputs,
                                "policy " + std::to_string(n));
  auto args = fn.getArguments();
  Val theta = paramsRecord(args.drop_back());
  const TypedArg &input = model->getArgs().front();
  std::map<std::string, int64_t> symbols{
      {input.type.getDims().front().symbol, n}};
  OptVal dist = inlineModel(
      *model, theta, {{input.name.name, Val::tensor(args.back())}}, symbols);
  if (!dist)
    return failure();
  if (distributionKind(*dist).empty() || distributionShape(*dist)[0] != n)
    return diags.error(model->getLoc(),
                       "the policy model '" + model->getName() +
                           "' of an environment's learner must return a "
                           "distribution over actions, gaussian(mean, "
                           "log_std) with mean f32[n, actions] or "
                           "categorical(logits) with logits f32[n, actions], "
                           "but it returns " +
                           describe(*dist)),
           failure();
  env->actDim = distributionShape(*dist)[1];
  env->policy = distributionKind(*dist).str();
  if (env->sim && env->policy != "gaussian")
    return diags.error(model->getLoc(),
                       "the policy model '" + model->getName() +
                           "' returns a " + env->policy +
                           " distribution, but a simulator's actuators take "
                           "continuous controls: return gaussian(mean, "
                           "log_std)"),
           failure();
  if (env->sim && env->actDim != env->sim->actions)
    return diags.error(model->getLoc(),
                       "the policy model '" + model->getName() + "' acts in " +
                           std::to_string(env->actDim) +
                           " dimensions, but the simulator's model has " +
                           std::to_string(env->sim->actions) + " actuators"),
           failure();
  SmallVector<Value> outputs;
  for (auto &[name, leaf] : dist->leaves)
    outputs.push_back(leaf);
  endKernel(fn, outputs);
  return success();
}

MLIRGenImpl::OptVal MLIRGenImpl::trustRegionKL(ValueRange params,
                                               const Val &support,
                                               const Val &query) {
  scope.push();
  bindMetaParams(params.drop_front(modelParams.size()));
  OptVal adapted = runAdapt(paramsRecord(params), support, std::nullopt);
  scope.pop();
  if (!adapted)
    return std::nullopt;
  SMLoc l = learner->getLoc();
  Location ml = loc(l);
  OptVal obs = field(query, "obs", l), old = field(query, "pi", l),
         mask = field(query, "mask", l);
  const TypedArg &input = model->getArgs().front();
  int64_t rows = shapeOf(obs->value)[0];
  OptVal now = inlineModel(*model, *adapted, {{input.name.name, *obs}},
                           {{input.type.getDims().front().symbol, rows}});
  if (!now)
    return std::nullopt;
  Value perRow = distributionKL(*old, *now, l);
  Value weighted = builder.create<meta::MulOp>(ml, perRow, mask->value);
  // Divided by the number of valid steps, at least 1.
  Value count = builder.create<meta::MaxOp>(ml, reduceAll(mask->value, l),
                                            constant({}, 1, l));
  return Val::tensor(
      builder.create<meta::DivOp>(ml, reduceAll(weighted, l), count));
}

// trpo_hvp: the product of the KL's Hessian (at the current parameters,
// where TRPO needs it) with a vector v, as the gradient of <grad KL, v>:
// reverse mode twice, through the adaptation step.
LogicalResult MLIRGenImpl::genTrpoHvpKernel(int64_t rows) {
  SmallVector<Type> types = paramTypes();
  TaskKernel k = beginTaskKernel("trpo_hvp", rows, rows);
  // Adding the vector's arguments reallocates the block's argument list,
  // which k.params views: keep the values themselves.
  SmallVector<Value> params(k.params);
  SmallVector<Value> vs;
  for (Type t : types)
    vs.push_back(k.fn.getBody().front().addArgument(t, k.fn.getLoc()));
  SmallVector<Type> inputs(k.fn.getFunctionType().getInputs());
  inputs.append(types.begin(), types.end());
  k.fn.setFunctionType(builder.getFunctionType(inputs, {}));
  Location l = loc(learner->getLoc());
  auto outer = builder.create<meta::GradOp>(l, types, ValueRange(params));
  mlir::Block *outerBody = builder.createBlock(&outer.getBody());
  for (Type t : types)
    outerBody->addArgument(t, l);
  auto inner = builder.create<meta::GradOp>(
      l, types, ValueRange(outerBody->getArguments()));
  mlir::Block *innerBody = builder.createBlock(&inner.getBody());
  for (Type t : types)
    innerBody->addArgument(t, l);
  OptVal kl = trustRegionKL(innerBody->getArguments(), k.support, k.query);
  if (!kl)
    return failure();
  builder.create<meta::YieldOp>(l, kl->value);
  builder.setInsertionPointAfter(inner);
  Value dot;
  for (auto [g, v] : llvm::zip(inner.getResults(), vs)) {
    Value term =
        reduceAll(builder.create<meta::MulOp>(l, g, v), learner->getLoc());
    dot = dot ? builder.create<meta::AddOp>(l, dot, term).getResult() : term;
  }
  builder.create<meta::YieldOp>(l, dot);
  builder.setInsertionPointAfter(outer);
  endKernel(k.fn, SmallVector<Value>(outer.getResults()));
  return success();
}

LogicalResult MLIRGenImpl::genTrpoKernels(int64_t rows) {
  // With hvp_eps, the runtime takes Hessian-vector products as central
  // differences of the KL's gradient (rllab's FiniteDifferenceHvp, what the
  // MAML paper's TRPO used): a second-order kernel instead of a third-order
  // one.
  if (trpo["hvp_eps"] > 0) {
    if (failed(genValueAndGradKernel(
            "trpo_kl_grad", rows, rows, loc(learner->getLoc()),
            [&](ValueRange params, const TaskKernel &k) {
              return trustRegionKL(params, k.support, k.query);
            })))
      return failure();
  } else if (failed(genTrpoHvpKernel(rows))) {
    return failure();
  }
  // surrogate: the meta-objective and the KL at candidate parameters, for
  // the line search.
  TaskKernel k = beginTaskKernel("surrogate", rows, rows);
  OptVal loss = metaObjective(k.params, k.support, k.query, std::nullopt);
  OptVal kl = loss ? trustRegionKL(k.params, k.support, k.query) : std::nullopt;
  if (!kl)
    return failure();
  Location l = loc(learner->getLoc());
  Value both = builder.create<meta::AddOp>(
      l,
      builder.create<meta::PadOp>(l, f32({2}),
                                  reshape(loss->value, {1}, learner->getLoc()),
                                  builder.getDenseI64ArrayAttr({0})),
      builder.create<meta::PadOp>(l, f32({2}),
                                  reshape(kl->value, {1}, learner->getLoc()),
                                  builder.getDenseI64ArrayAttr({1})));
  endKernel(k.fn, {both});
  return success();
}

LogicalResult MLIRGenImpl::checkLearner(const LearnerDecl &l) {
  learner = &l;
  bool ok = true;
  auto once =
      [&](auto items,
          StringRef what) -> std::remove_reference_t<decltype(items.front())> {
    if (items.size() > 1) {
      diags.error(items[1]->getLoc(), "'" + what + "' given twice");
      diags.note(items[0]->getLoc(), "first given here");
      ok = false;
    }
    return items.empty() ? nullptr : items.front();
  };
  const TasksItem *tasksItem = once(l.getItemsOf<TasksItem>(), "tasks");
  const ModelItem *modelItem = once(l.getItemsOf<ModelItem>(), "model");
  adapt = once(l.getItemsOf<AdaptItem>(), "adapt");
  objective = once(l.getItemsOf<ObjectiveItem>(), "objective");
  const OptimizerItem *opt = once(l.getItemsOf<OptimizerItem>(), "optimizer");
  const EvaluateItem *evalItem = once(l.getItemsOf<EvaluateItem>(), "evaluate");
  if (!ok)
    return failure();

  // Task distribution.
  if (!tasksItem)
    return diags.error(l.getLoc(),
                       "learner '" + l.getName() + "' needs 'tasks NAME'"),
           failure();
  const Decl *td = program.lookup(tasksItem->getName());
  tasks = td ? dyn_cast<TasksDecl>(td) : nullptr;
  if (!tasks)
    return diags.error(tasksItem->getIdentifier().loc,
                       "unknown task distribution '" + tasksItem->getName() +
                           "'",
                       tasksItem->getIdentifier().getRange()),
           failure();
  if (const CallExpr *source = tasks->getSource()) {
    if (failed(checkTaskSource(*source)))
      return failure();
  } else if (tasks->isEnvironment()) {
    if (failed(checkEnvironment()))
      return failure();
  } else if (!tasks->hasSample()) {
    return diags.error(tasks->getLoc(), "tasks '" + tasks->getName() +
                                            "' has no sample(n) block"),
           failure();
  }

  // Model.
  auto models = program.getDeclsOf<ModelDecl>();
  if (modelItem) {
    const Decl *md = program.lookup(modelItem->getName());
    model = md ? dyn_cast<ModelDecl>(md) : nullptr;
    if (!model)
      return diags.error(modelItem->getIdentifier().loc,
                         "unknown model '" + modelItem->getName() + "'",
                         modelItem->getIdentifier().getRange()),
             failure();
  } else if (models.size() == 1) {
    model = models.front();
  } else {
    return diags.error(l.getLoc(), models.empty()
                                       ? "the program declares no model"
                                       : "several models are declared: say "
                                         "which one with 'model NAME'"),
           failure();
  }
  if (env) {
    // The policy sees observations: one input f32[n, d].
    auto args = model->getArgs();
    if (args.size() != 1 || args[0].type.getRank() != 2 ||
        !args[0].type.getDims()[0].isSymbolic ||
        args[0].type.getDims()[1].isSymbolic ||
        args[0].type.getDims()[1].size <= 0)
      return diags.error(model->getLoc(),
                         "the policy model '" + model->getName() +
                             "' of an environment's learner must take one "
                             "input, the observations, typed f32[n, d]"),
             failure();
    env->obsDim = args[0].type.getDims()[1].size;
    if (env->sim && env->obsDim != env->sim->observations)
      return diags.error(args[0].type.getLoc(),
                         "the policy model '" + model->getName() +
                             "' observes f32[n, " +
                             std::to_string(env->obsDim) +
                             "], but the simulator's model has " +
                             std::to_string(env->sim->observations) +
                             " sensor readings (the observation is every "
                             "sensor, in order)"),
             failure();
  }
  if (!adapt)
    return diags.error(l.getLoc(), "learner '" + l.getName() +
                                       "' needs an adapt(theta, s) block"),
           failure();
  if (!objective)
    return diags.error(l.getLoc(), "learner '" + l.getName() +
                                       "' needs an objective(theta, q)"),
           failure();
  for (const MetricItem *m : l.getItemsOf<MetricItem>()) {
    auto same = llvm::find_if(metrics, [&](const MetricItem *other) {
      return other->getName() == m->getName();
    });
    if (same != metrics.end()) {
      diags.error(m->getIdentifier().loc,
                  "metric '" + m->getName() + "' defined twice",
                  m->getIdentifier().getRange());
      diags.note((*same)->getIdentifier().loc, "first defined here");
      return failure();
    }
    // The evaluation table and log already have these columns and keys.
    static const char *const reserved[] = {"loss", "shots", "steps", "mean",
                                           "ci95"};
    if (llvm::is_contained(reserved, m->getName()))
      return diags.error(m->getIdentifier().loc,
                         "'" + m->getName() +
                             "' names a column of the evaluation table: give "
                             "the metric another name",
                         m->getIdentifier().getRange()),
             failure();
    metrics.push_back(m);
  }

  // Settings. Learners of environments count episodes, not examples.
  static const char *const known[] = {"support", "query", "meta_batch",
                                      "train"};
  static const char *const knownEnv[] = {"episodes",   "eval_episodes",
                                         "meta_batch", "train",
                                         "discount",   "gae_lambda"};
  for (const SettingItem *s : l.getItemsOf<SettingItem>()) {
    bool isKnown = env ? llvm::is_contained(knownEnv, s->getKey())
                       : llvm::is_contained(known, s->getKey());
    if (!isKnown) {
      diags.error(s->getLoc(), "unknown learner setting '" + s->getKey() + "'",
                  s->getKeyIdentifier().getRange());
      if (env)
        diags.note(s->getLoc(),
                   "the tasks are an environment: settings are episodes, "
                   "eval_episodes, meta_batch, train, discount and "
                   "gae_lambda");
      else
        diags.note(s->getLoc(),
                   "settings are support, query, meta_batch and train");
      return failure();
    }
    if (s->getKey() == "discount" || s->getKey() == "gae_lambda") {
      if (s->getReal() < 0 || s->getReal() > 1)
        return diags.error(s->getValueLoc(),
                           "'" + s->getKey() + "' must be between 0 and 1"),
               failure();
      (s->getKey() == "discount" ? env->discount : env->gaeLambda) =
          s->getReal();
      continue;
    }
    if (s->getValue() <= 0 || s->getValue() > 100000000)
      return diags.error(s->getValueLoc(),
                         "'" + s->getKey() + "' must be between 1 and 1e8"),
             failure();
    settings[s->getKey().str()] = s->getValue();
  }
  if (env) {
    // Support and query sets are trajectories: episodes x horizon rows.
    env->episodes = settings.count("episodes") ? settings["episodes"] : 20;
    env->evalEpisodes = settings.count("eval_episodes")
                            ? settings["eval_episodes"]
                            : env->episodes;
    settings.erase("episodes");
    settings.erase("eval_episodes");
    // The limit of supervised splits, in the environment's terms.
    int64_t most = std::max(env->episodes, env->evalEpisodes) * env->horizon;
    if (most > 100000)
      return diags.error(l.getLoc(),
                         "(eval_)episodes x horizon = " + std::to_string(most) +
                             " steps per rollout is above the supported "
                             "100000"),
             failure();
    if (!metrics.empty())
      return diags.error(metrics.front()->getLoc(),
                         "an environment's evaluation reports returns; "
                         "'metric' items are not supported there yet"),
             failure();
    settings["support"] = settings["query"] = env->episodes * env->horizon;
  }
  if (!settings.count("support"))
    return diags.error(l.getLoc(), "learner '" + l.getName() +
                                       "' needs 'support K' (examples per "
                                       "task for adaptation)"),
           failure();
  settings.try_emplace("query", settings["support"]);
  settings.try_emplace("meta_batch", 1);
  settings.try_emplace("train", 1000);
  if (settings["support"] > 100000 || settings["query"] > 100000)
    return diags.error(l.getLoc(), "support and query sizes above 100000 are "
                                   "not supported"),
           failure();

  // The inner loop: the repeat evaluation varies.
  for (const StmtPtr &s : adapt->getBody())
    if (auto *r = dyn_cast<RepeatStmt>(s.get())) {
      if (innerLoop) {
        diags.error(r->getLoc(), "adapt may contain one repeat loop (the "
                                 "inner loop)");
        diags.note(innerLoop->getLoc(), "the first one is here");
        return failure();
      }
      innerLoop = r;
    }
  settings["inner_steps"] = innerLoop ? innerLoop->getCount() : 0;

  // Optimizer.
  if (!opt) {
    optimizerLine = "optimizer adam lr 0.001 beta1 0.9 beta2 0.999 eps 1e-08";
  } else {
    if (opt->getKey() != "optimizer")
      return diags.error(opt->getLoc(),
                         "unknown learner item '" + opt->getKey() + "'"),
             failure();
    std::map<std::string, double> values;
    std::vector<std::string> keys;
    if (opt->getOptimizerKind() == "adam") {
      values = {{"lr", 0.001}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}};
      keys = {"lr", "beta1", "beta2", "eps"};
    } else if (opt->getOptimizerKind() == "sgd") {
      values = {{"lr", 0.01}, {"momentum", 0.0}};
      keys = {"lr", "momentum"};
    } else if (opt->getOptimizerKind() == "trpo" && env) {
      // rllab's ConjugateGradientOptimizer defaults, as MAML-RL used them.
      values = {{"max_kl", 0.01},   {"damping", 1e-5},   {"cg_iters", 10},
                {"backtrack", 0.8}, {"line_search", 15}, {"hvp_eps", 0}};
      keys = {"max_kl",    "damping",     "cg_iters",
              "backtrack", "line_search", "hvp_eps"};
    } else {
      if (opt->getOptimizerKind() == "trpo")
        return diags.error(opt->getKindIdentifier().loc,
                           "'trpo' is for environments: it bounds the change "
                           "of a policy; use adam or sgd",
                           opt->getKindIdentifier().getRange()),
               failure();
      return diags.error(opt->getKindIdentifier().loc,
                         "unknown optimizer '" + opt->getOptimizerKind() +
                             (env ? "' (expected adam, sgd or trpo)"
                                  : "' (expected adam or sgd)"),
                         opt->getKindIdentifier().getRange()),
             failure();
    }
    // An environment's Adam or SGD may step several times per batch of
    // rollouts (PPO's epochs).
    if (env && opt->getOptimizerKind() != "trpo") {
      values["epochs"] = 1;
      keys.push_back("epochs");
    }
    for (const KeywordArg &kw : opt->getKwargs()) {
      if (!values.count(kw.name.name))
        return diags.error(kw.name.loc,
                           "'" + opt->getOptimizerKind() +
                               "' has no hyper-parameter '" + kw.name.name +
                               "' (it has " + llvm::join(keys, ", ") + ")",
                           kw.name.getRange()),
               failure();
      auto v = evalConstant(*kw.value, "a hyper-parameter");
      if (!v)
        return failure();
      if (*v < 0 || (kw.name.name == "lr" && *v == 0))
        return diags.error(kw.value->getStartLoc(),
                           "'" + kw.name.name + "' must be positive",
                           kw.value->getRange()),
               failure();
      values[kw.name.name] = *v;
    }
    if (values.count("epochs") &&
        (values["epochs"] < 1 || values["epochs"] > 1000 ||
         values["epochs"] != std::floor(values["epochs"])))
      return diags.error(opt->getLoc(), "'epochs' must be a whole number from "
                                        "1 to 1000"),
             failure();
    if (opt->getOptimizerKind() == "trpo") {
      for (const char *k : {"max_kl", "cg_iters", "line_search"})
        if (values[k] <= 0 ||
            (k != std::string("max_kl") &&
             (values[k] != std::floor(values[k]) || values[k] > 1000)))
          return diags.error(opt->getLoc(),
                             std::string("trpo's '") + k + "' must be " +
                                 (k == std::string("max_kl")
                                      ? "positive"
                                      : "a whole number from 1 to 1000")),
                 failure();
      if (values["backtrack"] <= 0 || values["backtrack"] >= 1)
        return diags.error(opt->getLoc(),
                           "trpo's 'backtrack' must be between 0 and 1"),
               failure();
      trpo = values;
    }
    optimizerLine = "optimizer " + opt->getOptimizerKind().str();
    for (const std::string &k : keys)
      // Defaults that select the plain behaviour stay out of the record,
      // so programs that do not use them keep their descriptor and hash.
      if ((k != "epochs" || values[k] != 1) &&
          (k != "hvp_eps" || values[k] != 0))
        optimizerLine += " " + k + " " + num(values[k]);
  }

  // Evaluation protocol (REFERENCE.md: 600 tasks; before and after steps).
  settings["eval_tasks"] = 600;
  settings["eval_query"] = settings["query"];
  if (env) {
    // Returns after k rounds of (roll out, adapt): fresh tasks, each round
    // with eval_episodes new episodes.
    settings["eval_tasks"] = 40;
    settings["eval_query"] = env->evalEpisodes * env->horizon;
    evalShots = {settings["eval_query"]};
    evalSteps = {0, 1};
    if (evalItem)
      for (const EvalPair &p : evalItem->getPairs()) {
        StringRef key = p.key.name;
        if (key != "tasks" && key != "steps") {
          diags.error(p.key.loc, "unknown evaluation setting '" + key + "'",
                      p.key.getRange());
          diags.note(p.key.loc, "an environment's evaluation settings are "
                                "tasks and steps (rounds of rollouts and "
                                "adaptation); episodes per round are "
                                "'eval_episodes'");
          return failure();
        }
        if (p.values.empty() ||
            llvm::any_of(p.values, [](int64_t v) { return v < 0 || v > 100; }))
          return diags.error(p.key.loc,
                             "'" + key +
                                 "' takes values between 0 "
                                 "and 100",
                             p.key.getRange()),
                 failure();
        if (key == "tasks") {
          if (p.isList || p.values.size() != 1 || p.values[0] == 0)
            return diags.error(p.key.loc, "'tasks' takes one positive integer",
                               p.key.getRange()),
                   failure();
          settings["eval_tasks"] = p.values[0];
        } else {
          evalSteps.assign(p.values.begin(), p.values.end());
        }
      }
    if (std::set<int64_t>(evalSteps.begin(), evalSteps.end()).size() !=
        evalSteps.size())
      return diags.error(evalItem->getLoc(),
                         "evaluation 'steps' lists a value twice"),
             failure();
    return success();
  }
  // Before adaptation and after the trained number of steps.
  evalSteps = {0};
  if (innerLoop && settings["inner_steps"] > 0)
    evalSteps.push_back(settings["inner_steps"]);
  evalShots = {settings["support"]};
  if (evalItem) {
    for (const EvalPair &p : evalItem->getPairs()) {
      StringRef key = p.key.name;
      auto bad = [&](const Twine &msg) {
        diags.error(p.key.loc, msg, p.key.getRange());
        return failure();
      };
      for (int64_t v : p.values)
        if (v < 0 || v > 100000)
          return bad("'" + key + "' values must be between 0 and 100000");
      if (key == "tasks" || key == "query") {
        if (p.isList || p.values.size() != 1 || p.values[0] == 0)
          return bad("'" + key + "' takes one positive integer");
        settings[key == "tasks" ? "eval_tasks" : "eval_query"] = p.values[0];
      } else if (key == "steps") {
        evalSteps.assign(p.values.begin(), p.values.end());
        if (!innerLoop && llvm::any_of(evalSteps, [](int64_t k) { return k; }))
          return bad("evaluation steps need a repeat loop in adapt");
        if (llvm::any_of(evalSteps, [](int64_t k) { return k > 1000; }))
          return bad("at most 1000 evaluation steps are supported");
      } else if (key == "shots") {
        evalShots.assign(p.values.begin(), p.values.end());
        if (llvm::is_contained(evalShots, 0))
          return bad("shots must be positive");
      } else {
        diags.error(p.key.loc, "unknown evaluation setting '" + key + "'",
                    p.key.getRange());
        diags.note(p.key.loc, "evaluation settings are tasks, steps, shots "
                              "and query");
        return failure();
      }
      if (p.values.empty())
        return bad("'" + key + "' needs at least one value");
    }
  }
  for (auto *list : {&evalSteps, &evalShots})
    if (evalItem &&
        std::set<int64_t>(list->begin(), list->end()).size() != list->size())
      return diags.error(evalItem->getLoc(),
                         std::string("evaluation '") +
                             (list == &evalSteps ? "steps" : "shots") +
                             "' lists a value twice"),
             failure();
  // Classification episodes count shots per class; kernels see way times as
  // many rows, and so does the descriptor (docs/abi.md).
  if (imageSource) {
    int64_t way = imageSource->way;
    for (const char *k : {"support", "query", "eval_query"})
      settings[k] *= way;
    for (int64_t &shots : evalShots)
      shots *= way;
    int64_t largest =
        std::max({settings["support"], settings["query"],
                  settings["eval_query"], *llvm::max_element(evalShots)});
    if (largest > 100000)
      return diags.error(tasks->getLoc(),
                         "an episode of " + std::to_string(largest) +
                             " images (way x shots) is above the supported "
                             "100000"),
             failure();
  }
  return success();
}

LogicalResult MLIRGenImpl::checkEnvironment() {
  const TasksDecl &t = *tasks;
  std::string what = "environment '" + t.getName().str() + "'";
  if (t.hasSample())
    return diags.error(t.getSampleLoc(),
                       what + " has a sample(n) block: an environment's data "
                              "are the trajectories of its episodes"),
           failure();
  const CallExpr *sim = t.getSimulator();
  bool hasReadings = !t.getStepSensors().name.empty();
  if (!sim && hasReadings)
    return diags.error(t.getStepSensors().loc,
                       "'" + t.getStepSensors().name +
                           "' names simulator readings, but " + what +
                           " has no 'simulator'",
                       t.getStepSensors().getRange()),
           failure();
  if (sim && t.getResetLoc().isValid())
    return diags.error(t.getResetLoc(),
                       what + " has a simulator, which starts the episodes: "
                              "a reset block has nothing to set"),
           failure();
  if (!sim && !t.getResetLoc().isValid())
    return diags.error(t.getLoc(), what + " needs 'reset(n) { obs = ... }', "
                                          "which starts n episodes"),
           failure();
  if (!t.getStepLoc().isValid())
    return diags.error(
               t.getLoc(),
               what + (sim ? " needs 'step(obs, action, sim) { ... }', which "
                             "sets the 'reward' and optionally 'done' from "
                             "the simulator's readings 'sim' after the step"
                           : " needs 'step(obs, action) { ... }', which sets "
                             "the next 'obs', the 'reward' and optionally "
                             "'done'")),
           failure();
  if (sim && !hasReadings)
    return diags.error(t.getStepLoc(),
                       "the step of " + what +
                           " has a simulator: it takes a third argument, "
                           "the readings after the step, as in 'step(obs, "
                           "action, sim)', and sets 'reward' (and 'done')"),
           failure();
  if (!t.getHorizonLoc().isValid())
    return diags.error(t.getLoc(), what + " needs 'horizon N', the most steps "
                                          "of an episode"),
           failure();
  env = Environment();
  env->horizon = t.getHorizon();
  if (sim && failed(checkSimulator(*sim)))
    return failure();
  return success();
}

LogicalResult MLIRGenImpl::checkSimulator(const CallExpr &call) {
  const Identifier &callee = call.getCalleeIdentifier();
  if (callee.name != "mujoco")
    return diags.error(callee.loc,
                       "unknown simulator '" + callee.name +
                           "' (expected mujoco)",
                       callee.getRange()),
           failure();
  auto args = call.getArgs();
  auto *file = args.size() == 1 ? dyn_cast<StringExpr>(args[0].get()) : nullptr;
  if (!file)
    return diags.error(args.empty() ? call.getLParenLoc()
                                    : args[0]->getStartLoc(),
                       "mujoco takes the model's MJCF file as a string, "
                       "then keyword arguments (frame_skip, reset_noise)"),
           failure();
  for (const KeywordArg &kw : call.getKwargs()) {
    StringRef key = kw.name.name;
    if (key == "frame_skip") {
      auto v = evalInt(*kw.value, "'frame_skip'");
      if (!v)
        return failure();
      if (*v < 1 || *v > 1000)
        return diags.error(kw.value->getStartLoc(),
                           "'frame_skip' must be between 1 and 1000",
                           kw.value->getRange()),
               failure();
      env->frameSkip = *v;
    } else if (key == "reset_noise") {
      auto v = evalConstant(*kw.value, "'reset_noise'");
      if (!v)
        return failure();
      if (!(*v >= 0 && *v <= 10))
        return diags.error(kw.value->getStartLoc(),
                           "'reset_noise' must be between 0 and 10",
                           kw.value->getRange()),
               failure();
      env->resetNoise = *v;
    } else {
      return diags.error(kw.name.loc,
                         "'mujoco' has no argument '" + key +
                             "' (it has frame_skip and reset_noise)",
                         kw.name.getRange()),
             failure();
    }
  }
  // A relative path is relative to the .meta file, as an #include is.
  SmallString<256> path(file->getValue());
  if (!llvm::sys::path::is_absolute(path)) {
    llvm::SourceMgr &srcMgr = diags.getSourceMgr();
    StringRef source =
        srcMgr.getMemoryBuffer(srcMgr.FindBufferContainingLoc(call.getLoc()))
            ->getBufferIdentifier();
    SmallString<256> dir(source == "<stdin>"
                             ? StringRef("")
                             : llvm::sys::path::parent_path(source));
    llvm::sys::path::append(dir, path);
    path = dir;
  }
  if (!llvm::sys::fs::is_regular_file(path))
    return diags.error(args[0]->getStartLoc(),
                       "cannot open the MuJoCo model '" + path.str().str() +
                           "': no such file",
                       args[0]->getRange()),
           failure();
  std::string error;
  std::optional<SimulatorModel> model = loadMujocoModel(path, error);
  if (!model) {
    // MuJoCo's messages span lines; a diagnostic is one.
    SmallVector<StringRef> lines;
    StringRef(error).split(lines, '\n', -1, /*KeepEmpty=*/false);
    std::string message;
    for (StringRef line : lines)
      message += (message.empty() ? "" : "; ") + line.trim().str();
    return diags.error(args[0]->getStartLoc(),
                       "cannot load the MuJoCo model '" + path.str().str() +
                           "': " + message,
                       args[0]->getRange()),
           failure();
  }
  if (model->actions < 1 || model->observations < 1)
    return diags.error(args[0]->getStartLoc(),
                       "the MuJoCo model '" + path.str().str() + "' has " +
                           std::to_string(model->actions) + " actuators and " +
                           std::to_string(model->observations) +
                           " sensor readings: the policy acts through the "
                           "actuators and observes the sensors, so it needs "
                           "at least one of each",
                       args[0]->getRange()),
           failure();
  env->sim = std::move(model);
  return success();
}

LogicalResult MLIRGenImpl::checkTaskSource(const CallExpr &call) {
  StringRef kind = call.getCallee();
  const Identifier &callee = call.getCalleeIdentifier();
  if (kind != "glyphs" && kind != "omniglot")
    return diags.error(callee.loc,
                       "unknown task source '" + kind +
                           "' (expected glyphs or omniglot)",
                       callee.getRange()),
           failure();
  ImageSource src;
  src.kind = kind.str();
  // omniglot("DIR") may name its folder; --omniglot DIR at run time wins.
  for (const ExprPtr &arg : call.getArgs()) {
    auto *path = dyn_cast<StringExpr>(arg.get());
    if (kind != "omniglot" || path == nullptr || &arg != &call.getArgs()[0])
      return diags.error(arg->getStartLoc(),
                         kind == "omniglot"
                             ? "omniglot takes the data set's folder as a "
                               "string, then keyword arguments"
                             : "glyphs takes keyword arguments only (way, "
                               "rotations)",
                         arg->getRange()),
             failure();
    if (path->getValue().empty() ||
        llvm::any_of(path->getValue(), [](char c) { return llvm::isSpace(c); }))
      return diags.error(arg->getStartLoc(),
                         "the Omniglot folder must be a non-empty path "
                         "without spaces",
                         arg->getRange()),
             failure();
    src.root = path->getValue().str();
  }
  for (const KeywordArg &kw : call.getKwargs()) {
    StringRef key = kw.name.name;
    if (key != "way" && key != "rotations" && key != "pretrain_classes")
      return diags.error(kw.name.loc,
                         "'" + kind + "' has no argument '" + key +
                             "' (it has way, rotations and pretrain_classes)",
                         kw.name.getRange()),
             failure();
    auto v = evalInt(*kw.value, "'" + key.str() + "'");
    if (!v)
      return failure();
    if (key == "way" && (*v < 2 || *v > 1000))
      return diags.error(kw.value->getStartLoc(),
                         "'way' must be between 2 and 1000",
                         kw.value->getRange()),
             failure();
    if (key == "rotations" && *v != 1 && *v != 4)
      return diags.error(kw.value->getStartLoc(),
                         "'rotations' must be 1 (none) or 4 (each class also "
                         "turned by 90, 180 and 270 degrees)",
                         kw.value->getRange()),
             failure();
    if (key == "pretrain_classes" && (*v < 2 || *v > 100000))
      return diags.error(kw.value->getStartLoc(),
                         "'pretrain_classes' must be between 2 and 100000",
                         kw.value->getRange()),
             failure();
    (key == "way"         ? src.way
     : key == "rotations" ? src.rotations
                          : src.classes) = *v;
  }
  if (src.classes && src.classes < src.way)
    return diags.error(call.getLoc(),
                       "'pretrain_classes' must be at least 'way' (the "
                       "evaluation labels are its first columns)"),
           failure();
  // Episodes hold 28x28 grey images (ink 1) and one-hot labels.
  dataFields = {{"x", {28, 28, 1}},
                {"y", {src.classes ? src.classes : src.way}}};
  imageSource = src;
  return success();
}

std::string MLIRGenImpl::descriptor() {
  auto shape = [](ArrayRef<int64_t> s) {
    if (s.empty())
      return std::string("scalar");
    std::string out;
    for (auto [i, d] : llvm::enumerate(s))
      out += (i ? "x" : "") + std::to_string(d);
    return out;
  };
  std::string d = "metac-program 1\nname " + learner->getName().str() + "\n";
  for (const ParamSpec &p : modelParams)
    d += "param " + p.name + " " + shape(p.shape) + " " + p.init + "\n";
  for (const ParamSpec &p : metaParams)
    d += "meta " + p.name + " " + shape(p.shape) + " " + p.init + "\n";
  for (auto &[name, rest] : dataFields)
    d += "data " + name + " " + shape(rest) + "\n";
  if (imageSource)
    d += llvm::formatv(
             "source {0} way {1} rotations {2}{3}{4}\n", imageSource->kind,
             imageSource->way, imageSource->rotations,
             imageSource->classes
                 ? " classes " + std::to_string(imageSource->classes)
                 : "",
             imageSource->root.empty() ? "" : " root " + imageSource->root)
             .str();
  if (env)
    d += llvm::formatv("env {7} obs {0} act {1} horizon {2} episodes {3} "
                       "eval_episodes {4} discount {5} gae_lambda {6} policy "
                       "{8}\n",
                       env->obsDim, env->actDim, env->horizon, env->episodes,
                       env->evalEpisodes, num(env->discount),
                       num(env->gaeLambda), tasks->getName(), env->policy)
             .str();
  if (env && env->sim) {
    // The compiled model travels inside the executable, hex-encoded.
    d += llvm::formatv("simulator mujoco frame_skip {0} reset_noise {1} "
                       "model ",
                       env->frameSkip, num(env->resetNoise))
             .str();
    d += llvm::toHex(env->sim->binary, /*LowerCase=*/true);
    d += "\n";
  }
  for (const MetricItem *m : metrics)
    d += "metric " + m->getName().str() + "\n";
  for (const char *k : {"support", "query", "meta_batch", "train", "eval_tasks",
                        "eval_query", "inner_steps"})
    d += llvm::formatv("setting {0} {1}\n", k, settings[k]).str();
  d += "list eval_steps";
  for (int64_t k : evalSteps)
    d += " " + std::to_string(k);
  d += "\nlist eval_shots";
  for (int64_t k : evalShots)
    d += " " + std::to_string(k);
  d += "\n" + optimizerLine + "\n";
  for (const std::string &k : kernelLines)
    d += k + "\n";
  return d + "end\n";
}

OwningOpRef<ModuleOp> MLIRGenImpl::run() {
  auto learners = program.getDeclsOf<LearnerDecl>();
  // Duplicate names across declarations.
  llvm::StringMap<const Decl *> names;
  for (const DeclPtr &d : program) {
    auto [it, inserted] = names.try_emplace(d->getName(), d.get());
    if (!inserted) {
      diags.error(d->getIdentifier().loc,
                  "'" + d->getName() + "' is declared twice",
                  d->getIdentifier().getRange());
      diags.note(it->second->getIdentifier().loc, "first declared here");
      return nullptr;
    }
  }
  if (learners.empty()) {
    SMLoc where;
    if (auto *buf = diags.getSourceMgr().getMemoryBuffer(
            diags.getSourceMgr().getMainFileID()))
      where = SMLoc::getFromPointer(buf->getBufferStart());
    diags.error(where, "the program declares no learner: nothing to compile");
    return nullptr;
  }
  if (learners.size() > 1) {
    diags.error(learners[1]->getLoc(),
                "only one learner per program is supported");
    diags.note(learners[0]->getLoc(), "the first learner is here");
    return nullptr;
  }
  module = ModuleOp::create(loc(learners[0]->getLoc()));
  OwningOpRef<ModuleOp> owned(module);
  builder.setInsertionPointToEnd(module.getBody());

  if (failed(checkLearner(*learners[0])) || failed(collectModelParams(*model)))
    return nullptr;
  // Meta-parameters: records mirroring theta or plain tensors.
  std::map<std::string, const MetaItem *> metaNames;
  for (const MetaItem *item : learner->getItemsOf<MetaItem>()) {
    auto [it, fresh] = metaNames.try_emplace(item->getName().str(), item);
    if (!fresh) {
      diags.error(item->getIdentifier().loc,
                  "meta-parameter '" + item->getName() + "' declared twice",
                  item->getIdentifier().getRange());
      diags.note(it->second->getIdentifier().loc, "first declared here");
      return nullptr;
    }
    for (const Identifier *shadow :
         {&adapt->getParamsName(), &adapt->getDataName(),
          &objective->getParamsName(), &objective->getDataName(),
          &objective->getInitialName(), &objective->getSupportName()})
      if (shadow->name == item->getName()) {
        diags.error(item->getIdentifier().loc,
                    "meta-parameter '" + item->getName() +
                        "' has the name of an adapt or objective argument, "
                        "which would hide it",
                    item->getIdentifier().getRange());
        diags.note(shadow->loc, "the argument is here");
        return nullptr;
      }
    if (!item->isLike() && item->getType().getElementType() != "f32") {
      diags.error(item->getType().getLoc(),
                  "meta-parameters must be f32, not '" +
                      item->getType().getElementType() + "'",
                  item->getType().getRange());
      return nullptr;
    }
    std::string init = "zeros";
    if (const Expr *e = item->getInit()) {
      auto v = evalConstant(*e, "a meta-parameter's initial value");
      if (!v)
        return nullptr;
      init = "const " + num(*v);
    }
    if (item->isLike()) {
      if (item->getLikeName().name != adapt->getParamsName().name &&
          item->getLikeName().name != "theta") {
        diags.error(item->getLikeName().loc,
                    "'like' must name the model parameters ('" +
                        adapt->getParamsName().name + "')",
                    item->getLikeName().getRange());
        return nullptr;
      }
      for (const ParamSpec &p : modelParams)
        metaParams.push_back({item->getName().str() + "." + p.name, p.shape,
                              init, item->getLoc()});
    } else {
      SmallVector<int64_t> shape;
      for (const DimAST &dim : item->getType().getDims()) {
        if (dim.isSymbolic || dim.size <= 0) {
          diags.error(dim.loc, "meta-parameter shapes must be positive "
                               "constants");
          return nullptr;
        }
        shape.push_back(dim.size);
      }
      if (!isReasonableShape(shape)) {
        diags.error(item->getType().getLoc(),
                    "meta-parameters are at most 2^28 elements");
        return nullptr;
      }
      metaParams.push_back(
          {item->getName().str(), shape, init, item->getLoc()});
    }
  }

  if (env) {
    // Rollouts need the environment and the policy at both episode counts;
    // learning needs the trajectory kernels at both rollout sizes.
    std::set<int64_t> episodes{env->episodes, env->evalEpisodes};
    for (int64_t n : episodes)
      if ((!env->sim && failed(genResetKernel(n))) ||
          failed(genPolicyKernel(n)))
        return nullptr;
    int64_t od = env->obsDim, ad = env->actDim;
    dataFields = {{"obs", {od}}, {"act", {ad}}, {"reward", {}}, {"ret", {}},
                  {"adv", {}},   {"mask", {}},  {"logp", {}}};
    // The acting policy's distribution: `pi` is a value of its kind.
    if (env->policy == "gaussian")
      dataFields.insert(dataFields.end(),
                        {{"pi.mean", {ad}}, {"pi.log_std", {ad}}});
    else
      dataFields.push_back({"pi.logits", {ad}});
    dataFields.push_back({"round", {}});
    for (int64_t n : episodes)
      if (failed(genStepKernel(n)))
        return nullptr;
    std::set<int64_t> rows{settings["support"], settings["eval_query"]};
    if (failed(genMetaGradKernel(settings["support"], settings["query"])))
      return nullptr;
    for (int64_t r : rows)
      if (failed(genAdaptKernel(r)))
        return nullptr;
    if (!trpo.empty() && failed(genTrpoKernels(settings["support"])))
      return nullptr;
  }

  // Kernels: samplers for every size, then training, adaptation, evaluation.
  std::set<int64_t> sizes{settings["support"], settings["query"],
                          settings["eval_query"]};
  sizes.insert(evalShots.begin(), evalShots.end());
  // A built-in source samples in the runtime; sample(n) needs kernels.
  if (!imageSource && !env)
    for (int64_t n : sizes)
      if (failed(genSampleKernel(n)))
        return nullptr;
  if (!env) {
    if (failed(genMetaGradKernel(settings["support"], settings["query"])))
      return nullptr;
    // Evaluation runs up to the largest evaluated step count, and the
    // embedding API's adapt the trained count: unrolled, every step is
    // code. When one step applied k times is k steps, the kernels hold one
    // step and the runtime repeats it.
    if (adaptsStepwise()) {
      std::set<int64_t> shots(evalShots.begin(), evalShots.end());
      shots.insert(settings["support"]);
      for (int64_t s : shots)
        if (failed(genAdaptKernel(s, /*oneStep=*/true)))
          return nullptr;
      if (!evalShots.empty() &&
          failed(genQueryEvalKernel(settings["eval_query"])))
        return nullptr;
    } else {
      if (failed(genAdaptKernel(settings["support"])))
        return nullptr;
      for (int64_t s : evalShots)
        if (failed(genEvalKernel(s, settings["eval_query"])))
          return nullptr;
    }
  }

  info.learnerName = learner->getName().str();
  info.supportSize = settings["support"];
  info.querySize = settings["query"];
  info.metaBatch = settings["meta_batch"];
  for (auto *list : {&modelParams, &metaParams})
    for (const ParamSpec &p : *list)
      info.parameters.push_back(
          {p.name, std::vector<int64_t>(p.shape.begin(), p.shape.end()),
           list == &metaParams, p.loc});
  for (auto &[name, rest] : dataFields)
    info.dataFields.push_back(name);
  info.usesImages = imageSource.has_value();
  if (env) {
    info.episodes = env->episodes;
    info.horizon = env->horizon;
    info.usesSimulator = env->sim.has_value();
    if (!trpo.empty())
      info.trpoCgIters = static_cast<int64_t>(trpo["cg_iters"]);
  }

  SmallVector<Attribute> kernelAttrs;
  for (const std::string &k : kernelNames)
    kernelAttrs.push_back(builder.getStringAttr(k));
  module->setAttr("metac.kernels", builder.getArrayAttr(kernelAttrs));
  module->setAttr("metac.program", builder.getStringAttr(descriptor()));
  if (failed(verify(module))) {
    diags.error(learner->getLoc(),
                "internal error: generated IR does not verify (please report)");
    return nullptr;
  }
  return owned;
}

} // namespace

OwningOpRef<ModuleOp> metac::generateMLIR(MLIRContext &context,
                                          const Program &program,
                                          metac::DiagnosticEngine &diags,
                                          ProgramInfo &info) {
  context.getOrLoadDialect<meta::MetaDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  return MLIRGenImpl(context, program, diags, info).run();
}
