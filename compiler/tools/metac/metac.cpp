//===- metac.cpp - The metac compiler driver ------------------------------===//
//
//   metac algo.meta -o algo          compile to a native executable
//   metac -emit=STAGE algo.meta      stop after STAGE and print/write it
//   metac run algo.meta [args...]    compile, then run with the runtime flags
//
// The stages, in order (each one can be printed, so each is tested by lit):
//   ast       the parsed program
//   mlir      the meta dialect as generated (meta.grad still present)
//   autodiff  after -meta-autodiff and simplification
//   lowered   the LLVM dialect, with the runtime interface
//   llvm      optimised LLVM IR for the target CPU (--cpu; the host's)
//   obj       an object file
//   exe       an executable linked with the runtime (the default)
//   lib       a shared library and a C header (the embedding API)
//
//===----------------------------------------------------------------------===//
#include "metac/CodeGen/Pipeline.h"
#include "metac/Dialect/MetaDialect.h"
#include "metac/Frontend/ASTDump.h"
#include "metac/Frontend/Diagnostics.h"
#include "metac/Frontend/Parser.h"
#include "metac/MLIRGen/MLIRGen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "EmbeddingHeader.inc"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <thread>

using namespace mlir;
using namespace metac;
namespace cl = llvm::cl;

namespace {
enum class Stage {
  AST,
  MLIR,
  Autodiff,
  Stats,
  Lowered,
  Parts,
  LLVM,
  Object,
  Executable,
  Library
};

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .meta file>"),
                               cl::Required);
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("file"), cl::init(""));
cl::opt<Stage>
    emit("emit", cl::desc("Stop after this stage:"),
         cl::init(Stage::Executable),
         cl::values(clEnumValN(Stage::AST, "ast", "the parsed program"),
                    clEnumValN(Stage::MLIR, "mlir", "the meta dialect"),
                    clEnumValN(Stage::Autodiff, "autodiff",
                               "meta dialect after differentiation"),
                    clEnumValN(Stage::Stats, "stats",
                               "FLOPs per meta-iteration and buffer bytes"),
                    clEnumValN(Stage::Lowered, "lowered", "the LLVM dialect"),
                    clEnumValN(Stage::Parts, "parts",
                               "the modules compiled in parallel, before "
                               "conversion to LLVM"),
                    clEnumValN(Stage::LLVM, "llvm", "optimised LLVM IR"),
                    clEnumValN(Stage::Object, "obj", "an object file"),
                    clEnumValN(Stage::Executable, "exe", "an executable"),
                    clEnumValN(Stage::Library, "lib",
                               "a shared library and a C header")));
cl::opt<unsigned> optLevel("O", cl::desc("Optimisation level (0-3)"),
                           cl::Prefix, cl::init(3));
// Verifying the whole module after each of the pipeline's passes took 0.35
// of the 1.8 s the 20-way Omniglot example took to compile. The module is
// verified where one pipeline hands it to the next; the test suite compiles
// a regression, a reinforcement-learning and a convolutional program with
// --verify-each (sinusoid-train, reinforcement and partition tests).
cl::opt<bool> verifyEach("verify-each",
                         cl::desc("Verify the IR after every pass (for "
                                  "debugging metac; slower)"),
                         cl::init(false));
cl::opt<unsigned> partCount(
    "parts",
    cl::desc("Modules an executable is compiled as, in parallel (default: "
             "one per core, at most 2)"),
    cl::init(0));
cl::opt<std::string> targetCpu(
    "cpu",
    cl::desc("CPU to compile for: native (this machine's, the default), or "
             "a name such as x86-64 (any x86-64 CPU), x86-64-v3, x86-64-v4, "
             "skylake-avx512, znver4"),
    cl::value_desc("name"), cl::init("native"));
cl::opt<bool> showStats("verbose", cl::desc("Report the compile time"),
                        cl::init(false));

int fail(const llvm::Twine &msg) {
  llvm::errs() << "metac: error: " << msg << "\n";
  return 1;
}

/// Writes `text` to `path` ("-" is stdout).
bool writeText(llvm::StringRef path,
               llvm::function_ref<void(llvm::raw_ostream &)> fn) {
  std::error_code ec;
  llvm::ToolOutputFile out(path.empty() ? "-" : path, ec,
                           llvm::sys::fs::OF_Text);
  if (ec) {
    fail("cannot write '" + path + "': " + ec.message());
    return false;
  }
  fn(out.os());
  out.keep();
  return true;
}

/// The C header of a -emit=lib library: what was compiled, then the API.
std::string libraryHeader(const ProgramInfo &info) {
  std::string h = "/* Generated by metac for learner '" + info.learnerName +
                  "'. Link with the shared library of the same name.\n *\n"
                  " * Parameters, in the order of the flat parameter vector:\n";
  int64_t offset = 0;
  for (const auto &p : info.parameters) {
    int64_t count = 1;
    std::string shape;
    for (int64_t d : p.shape) {
      count *= d;
      shape += (shape.empty() ? "" : "x") + std::to_string(d);
    }
    h += llvm::formatv(" *   {0,-24} {1,-10} offset {2}{3}\n", p.name,
                       shape.empty() ? "scalar" : shape, offset,
                       p.isMeta ? " (meta)" : "")
             .str();
    offset += count;
  }
  h += " * Task data fields:";
  for (const std::string &f : info.dataFields)
    h += " " + f;
  h += "\n */\n";
  h += llvm::formatv("#define METAC_NUM_PARAMETERS {0}\n\n", offset).str();
  return h + kEmbeddingHeader;
}

/// A convolution, or either of its gradients, as a GEMM: 2 * (output
/// pixels x filters) * (kh x kw x channels).
int64_t convFlops(Type output, Type filter) {
  auto w = cast<RankedTensorType>(filter);
  return 2 * cast<RankedTensorType>(output).getNumElements() *
         (w.getNumElements() / w.getDimSize(3));
}

/// Floating-point operations of one call of `kernel` (meta dialect, after
/// differentiation): 2mnk per matrix product and per convolution (as the
/// GEMM it is), one per element for elementwise ops (transcendentals
/// included) and per input element for reductions; data movement
/// (broadcast, reshape, transpose, slice, pad) counts nothing.
int64_t countFlops(func::FuncOp kernel) {
  int64_t flops = 0;
  kernel.walk([&](Operation *op) {
    if (op->getNumResults() != 1 || !isa<meta::MetaDialect>(op->getDialect()))
      return;
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type)
      return;
    if (auto mm = dyn_cast<meta::MatmulOp>(op)) {
      auto a = cast<RankedTensorType>(mm.getLhs().getType());
      flops += 2 * type.getNumElements() * a.getDimSize(1);
    } else if (auto c = dyn_cast<meta::Conv2DOp>(op)) {
      flops += convFlops(c.getType(), c.getFilter().getType());
    } else if (auto g = dyn_cast<meta::Conv2DInputGradOp>(op)) {
      flops += convFlops(g.getCotangent().getType(), g.getFilter().getType());
    } else if (auto g = dyn_cast<meta::Conv2DFilterGradOp>(op)) {
      flops += convFlops(g.getCotangent().getType(), g.getType());
    } else if (auto r = dyn_cast<meta::ReduceSumOp>(op)) {
      flops += cast<RankedTensorType>(r.getInput().getType()).getNumElements();
    } else if (!isa<meta::BroadcastOp, meta::ReshapeOp, meta::TransposeOp,
                    meta::SliceOp, meta::PadOp, meta::ConstantOp,
                    meta::StopGradientOp, meta::GradOp>(op)) {
      flops += type.getNumElements();
    }
  });
  return flops;
}

int64_t bytesOfArguments(func::FuncOp kernel) {
  int64_t bytes = 0;
  for (Type t : kernel.getFunctionType().getInputs())
    if (auto shaped = dyn_cast<ShapedType>(t))
      bytes += shaped.getNumElements() * 4;
  for (Type t : kernel.getFunctionType().getResults())
    if (auto shaped = dyn_cast<ShapedType>(t))
      bytes += shaped.getNumElements() * 4;
  return bytes;
}

/// FLOPs and argument bytes of each kernel, in module order.
using KernelCosts = llvm::MapVector<std::string, std::pair<int64_t, int64_t>,
                                    std::map<std::string, unsigned>>;

/// The cost model of one meta-iteration, for bench/run: every task of the
/// meta-batch samples its support and query sets and runs the meta-gradient
/// kernel (environments: see below); Adam then costs about 16 FLOPs per
/// parameter.
void printStats(llvm::raw_ostream &os, ModuleOp lowered,
                const ProgramInfo &info, const KernelCosts &cost) {
  int64_t params = 0;
  for (const auto &p : info.parameters) {
    int64_t n = 1;
    for (int64_t d : p.shape)
      n *= d;
    params += n;
  }
  auto arenaOf = [&](StringRef name) -> int64_t {
    if (auto fn = lowered.lookupSymbol<LLVM::LLVMFuncOp>(name))
      if (auto a = fn->getAttrOfType<IntegerAttr>("metac.arena_bytes"))
        return a.getInt();
    return 0;
  };
  os << "learner " << info.learnerName << "\n";
  os << "parameters: " << params << "\n";
  for (auto &[name, c] : cost)
    os << llvm::formatv("kernel {0}: flops {1}, argument bytes {2}, arena "
                        "bytes {3}\n",
                        name, c.first, c.second, arenaOf(name));
  auto find = [&](const std::string &name) {
    auto it = cost.find(name);
    return it == cost.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
  };
  auto bytes = [&](const std::string &name) {
    return find(name).second + arenaOf(name);
  };
  int64_t perTask = find(info.metaGradKernel).first +
                    find("sample_" + std::to_string(info.supportSize)).first +
                    find("sample_" + std::to_string(info.querySize)).first;
  int64_t peak = bytes(info.metaGradKernel);
  if (info.horizon) {
    // Environments: two rollouts (a policy call per step; a simulator's
    // physics is not counted), the adaptation,
    // and with TRPO a Hessian-vector product per conjugate-gradient
    // iteration, one more for the step length, and at least one line-search
    // evaluation.
    std::string rows = std::to_string(info.supportSize);
    std::string pair = rows + "_" + rows;
    perTask = find(info.metaGradKernel).first + find("adapt_" + rows).first +
              2 * info.horizon *
                  (find("policy_" + std::to_string(info.episodes)).first +
                   find((info.usesSimulator ? "reward_" : "step_") +
                        std::to_string(info.episodes))
                       .first);
    if (info.trpoCgIters) {
      // Finite-difference products take two KL gradients each; a program
      // has one of the two kernels, the other counts 0.
      perTask +=
          (info.trpoCgIters + 1) * (find("trpo_hvp_" + pair).first +
                                    2 * find("trpo_kl_grad_" + pair).first) +
          find("surrogate_" + pair).first;
      peak = std::max(
          {peak, bytes("trpo_hvp_" + pair), bytes("trpo_kl_grad_" + pair)});
    }
  }
  os << "flops per meta-iteration: " << info.metaBatch * perTask + 16 * params
     << "\n";
  os << "peak buffer bytes: " << peak << "\n";
}

std::string defaultOutput(Stage stage) {
  llvm::SmallString<128> base(llvm::sys::path::filename(inputFile));
  llvm::sys::path::replace_extension(base, "");
  switch (stage) {
  case Stage::Object:
    return (base + ".o").str();
  case Stage::Library:
    return ("lib" + base + ".so").str();
  case Stage::Executable:
    return base.str().str();
  default:
    return "-";
  }
}

int compile() {
  auto start = std::chrono::steady_clock::now();
  std::string error;
  // Before any work: a misspelt CPU is a usage error.
  if (!checkTargetCpu(targetCpu, error))
    return fail(error);
  llvm::SourceMgr srcMgr;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile, /*IsText=*/true);
  if (std::error_code ec = buffer.getError())
    return fail("cannot open '" + inputFile + "': " + ec.message());
  srcMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  metac::DiagnosticEngine diags(srcMgr);

  std::unique_ptr<Program> program = Parser(srcMgr, diags).parse();
  if (diags.hasErrors())
    return 1;
  if (emit == Stage::AST)
    return writeText(outputFile,
                     [&](llvm::raw_ostream &os) { dumpAST(*program, os); })
               ? 0
               : 1;

  // One report for --mlir-timing: the pass pipelines nest under it, and so
  // do the phases outside them (LLVM, the link), which on the large
  // examples are half of the time.
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope rootTiming = timing.getRootScope();

  MLIRContext context;
  DialectRegistry registry;
  registerMetacDialects(registry);
  context.appendDialectRegistry(registry);
  // MLIR diagnostics point into the same source, clang-style.
  SourceMgrDiagnosticHandler mlirDiags(srcMgr, &context);

  ProgramInfo info;
  TimingScope genTiming = rootTiming.nest("MLIR generation");
  OwningOpRef<ModuleOp> module = generateMLIR(context, *program, diags, info);
  genTiming.stop();
  if (!module || diags.hasErrors())
    return 1;
  auto printModule = [&] {
    return writeText(outputFile,
                     [&](llvm::raw_ostream &os) { module->print(os); })
               ? 0
               : 1;
  };
  if (emit == Stage::MLIR)
    return printModule();

  PassManager differentiate(&context);
  if (failed(applyPassManagerCLOptions(differentiate)))
    return fail("bad pass manager options");
  TimingScope differentiateTiming = rootTiming.nest("Differentiation");
  differentiate.enableTiming(differentiateTiming);
  buildDifferentiationPipeline(differentiate);
  differentiate.enableVerifier(verifyEach);
  if (failed(differentiate.run(*module)) || failed(verify(*module)))
    return fail("differentiation failed");
  differentiateTiming.stop();

  // A parameter whose meta-gradient folded to zero is never used.
  if (auto kernel = module->lookupSymbol<func::FuncOp>(info.metaGradKernel)) {
    auto ret = cast<func::ReturnOp>(kernel.getBody().front().getTerminator());
    for (auto [i, p] : llvm::enumerate(info.parameters)) {
      auto c = ret.getOperand(i + 1).getDefiningOp<meta::ConstantOp>();
      auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
      if (dense && dense.isSplat() && dense.getSplatValue<float>() == 0.0f)
        diags.warning(p.declLoc, "parameter '" + p.name +
                                     "' does not affect the objective; its "
                                     "meta-gradient is always zero");
    }
  }
  if (emit == Stage::Autodiff)
    return printModule();

  // Per-kernel FLOPs and argument bytes, counted before lowering erases the
  // meta ops; arena bytes are known only after buffer planning.
  KernelCosts kernelCost;
  for (auto kernel : module->getOps<func::FuncOp>())
    kernelCost[kernel.getName().str()] = {countFlops(kernel),
                                          bytesOfArguments(kernel)};

  PassManager lower(&context);
  if (failed(applyPassManagerCLOptions(lower)))
    return fail("bad pass manager options");
  lower.enableVerifier(verifyEach);
  TimingScope lowerTiming = rootTiming.nest("Lowering to loops");
  lower.enableTiming(lowerTiming);
  if (failed(buildLoweringPipeline(lower)) || failed(lower.run(*module)) ||
      failed(verify(*module)))
    return fail("lowering to LLVM failed");
  lowerTiming.stop();

  std::string output = outputFile.empty() ? defaultOutput(emit) : outputFile;
  if (emit != Stage::Executable && emit != Stage::Library &&
      emit != Stage::Parts) {
    // One module, on this thread.
    PassManager toLLVM(&context);
    if (failed(applyPassManagerCLOptions(toLLVM)))
      return fail("bad pass manager options");
    TimingScope toLLVMTiming = rootTiming.nest("Lowering to LLVM");
    toLLVM.enableTiming(toLLVMTiming);
    toLLVM.enableVerifier(verifyEach);
    if (failed(buildLLVMConversionPipeline(toLLVM, true)) ||
        failed(toLLVM.run(*module)) || failed(verify(*module)))
      return fail("lowering to LLVM failed");
    toLLVMTiming.stop();
    if (emit == Stage::Lowered)
      return printModule();
    if (emit == Stage::Stats)
      return writeText(outputFile,
                       [&](llvm::raw_ostream &os) {
                         printStats(os, *module, info, kernelCost);
                       })
                 ? 0
                 : 1;
    if (emit == Stage::LLVM) {
      llvm::LLVMContext llvmContext;
      auto llvmModule = translateToOptimizedLLVMIR(*module, llvmContext,
                                                   optLevel, targetCpu, error);
      if (!llvmModule)
        return fail(error);
      return writeText(
                 outputFile,
                 [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); })
                 ? 0
                 : 1;
    }
    prepareTranslation(context);
    return emitObjectFile(*module, optLevel, targetCpu, output, error)
               ? 0
               : fail(error);
  }

  // An executable or library: one part of the program per core (two at
  // most: beyond that the parts get too small to balance), each lowered to
  // LLVM and compiled to an object file on a thread of its own.
  unsigned cores =
      partCount ? partCount.getValue()
                : std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
  TimingScope partitionTiming = rootTiming.nest("Partition");
  SmallVector<OwningOpRef<ModuleOp>> parts =
      partitionModule(std::move(module), cores);
  partitionTiming.stop();
  if (emit == Stage::Parts)
    return writeText(outputFile,
                     [&](llvm::raw_ostream &os) {
                       for (auto [i, part] : llvm::enumerate(parts))
                         os << (i ? "// -----\n" : "") << *part << "\n";
                     })
               ? 0
               : 1;
  std::vector<std::string> objects;
  auto removeObjects = llvm::make_scope_exit([&] {
    for (const std::string &object : objects)
      llvm::sys::fs::remove(object);
  });
  // Pass managers are built, and every dialect and translation they need
  // loaded, here: the context may not change while threads use it.
  std::vector<std::unique_ptr<PassManager>> toLLVM;
  DialectRegistry needed;
  for (unsigned i = 0; i < parts.size(); ++i) {
    llvm::SmallString<128> object;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("metac", "o", object))
      return fail("cannot create a temporary file: " + ec.message());
    objects.push_back(object.str().str());
    auto &pm = toLLVM.emplace_back(std::make_unique<PassManager>(&context));
    pm->enableVerifier(verifyEach);
    if (failed(applyPassManagerCLOptions(*pm)) ||
        failed(buildLLVMConversionPipeline(*pm, i == 0)))
      return fail("bad pass manager options");
    pm->getDependentDialects(needed);
  }
  context.appendDialectRegistry(needed);
  for (StringRef name : needed.getDialectNames())
    context.getOrLoadDialect(name);
  prepareTranslation(context);

  TimingScope partsTiming =
      rootTiming.nest("Lowering to LLVM and compiling (parts in parallel)");
  std::vector<std::string> errors(parts.size());
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < parts.size(); ++i)
    threads.emplace_back([&, i] {
      if (failed(toLLVM[i]->run(*parts[i])) || failed(verify(*parts[i])))
        errors[i] = "lowering to LLVM failed";
      else
        emitObjectFile(*parts[i], optLevel, targetCpu, objects[i], errors[i]);
    });
  for (std::thread &t : threads)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty())
      return fail(e);
  partsTiming.stop();
  TimingScope linkTiming = rootTiming.nest("Link");
  if (!linkProgram(objects, output, emit == Stage::Library,
                   info.usesImages      ? RuntimeLayer::Images
                   : info.usesSimulator ? RuntimeLayer::Simulator
                                        : RuntimeLayer::None,
                   targetCpu, error))
    return fail(error);
  if (emit == Stage::Library) {
    llvm::SmallString<128> header(output);
    llvm::sys::path::replace_extension(header, "h");
    if (!writeText(header,
                   [&](llvm::raw_ostream &os) { os << libraryHeader(info); }))
      return 1;
  }
  if (showStats) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << llvm::formatv("metac: compiled {0} in {1:F2} s\n",
                                  inputFile, seconds);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPipelinePasses();
  // --mlir-timing and friends: where the compiler's own time goes.
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  // `metac run [metac options] FILE.meta [program flags...]`: compile to a
  // temporary executable, run it with the flags, remove it, and exit with
  // its status. While it runs, metac ignores Ctrl-C: the program gets it
  // (it checkpoints and exits 130) and metac still cleans up.
  if (argc >= 2 && llvm::StringRef(argv[1]) == "run") {
    int file = 2;
    while (file < argc && argv[file][0] == '-')
      ++file;
    if (file >= argc)
      return fail("usage: metac run [metac options] FILE.meta [program "
                  "flags...]");
    llvm::SmallString<128> exe;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("metac-run", "", exe))
      return fail("cannot create a temporary file: " + ec.message());
    std::vector<const char *> compileArgs{argv[0]};
    for (int i = 2; i < file; ++i)
      compileArgs.push_back(argv[i]);
    compileArgs.insert(compileArgs.end(), {argv[file], "-o", exe.c_str()});
    if (!cl::ParseCommandLineOptions(compileArgs.size(), compileArgs.data(),
                                     "metac run\n", &llvm::errs()))
      return 2;
    emit = Stage::Executable;
    if (int rc = compile()) {
      llvm::sys::fs::remove(exe);
      return rc;
    }
    std::vector<llvm::StringRef> args{exe.str()};
    for (int i = file + 1; i < argc; ++i)
      args.push_back(argv[i]);
    signal(SIGINT, SIG_IGN);
    std::string message;
    int rc = llvm::sys::ExecuteAndWait(exe, args, std::nullopt, {}, 0, 0,
                                       &message);
    llvm::sys::fs::remove(exe);
    if (rc < 0)
      return fail("the compiled program did not finish: " + message);
    return rc;
  }
  cl::ParseCommandLineOptions(argc, argv,
                              "metac: a compiler for meta-learning "
                              "algorithms\n");
  if (optLevel > 3)
    return fail("optimisation level must be 0 to 3");
  return compile();
}
