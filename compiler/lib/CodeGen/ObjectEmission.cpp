//===- ObjectEmission.cpp - LLVM IR, host object files and linking --------===//
//
// Everything after the LLVM dialect happens in process: translation to LLVM
// IR, the O0-O3 pipeline for the target CPU, and object emission, one part
// of the program per thread for an executable. The target is the host CPU
// with its real features by default (so AVX-512 is used where the machine
// has it), or the CPU named by metac --cpu; the program records it in
// `metac_target` (metac/abi.h), which the runtime checks at start. Only the
// final link is delegated, to the system C++ driver, because the runtime is
// a C++ library with its own dependencies (libstdc++, fmt, pthreads).
//
//===----------------------------------------------------------------------===//
#include "metac/CodeGen/Pipeline.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <mutex>

using namespace mlir;

namespace {

/// Loop strength reduction took 0.46 of the 3.5 s the sinusoid example took
/// to compile (its kernels are thousands of short constant-trip loops) and
/// made no measurable difference to their speed (1224 vs 1217 it/s), so
/// metac turns it off unless the user asks for it with -disable-lsr=false.
void disableLoopStrengthReduction() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("disable-lsr");
  if (it != options.end() && it->second->getNumOccurrences() == 0)
    it->second->addOccurrence(0, "disable-lsr", "true");
}

/// The host's target, registered once, before any thread compiles a part:
/// registering targets and setting options are not thread-safe.
const llvm::Target *hostTarget(std::string &error) {
  static std::once_flag initialised;
  std::call_once(initialised, [] {
    disableLoopStrengthReduction();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  return llvm::TargetRegistry::lookupTarget(llvm::sys::getDefaultTargetTriple(),
                                            error);
}

/// A target machine for `cpu`: the host CPU with all of its features for
/// "native", otherwise the named CPU with the features LLVM gives it.
std::unique_ptr<llvm::TargetMachine>
targetMachine(llvm::StringRef cpu, unsigned optLevel, std::string &error) {
  const llvm::Target *target = hostTarget(error);
  if (!target || !metac::checkTargetCpu(cpu, error))
    return nullptr;
  std::string triple = llvm::sys::getDefaultTargetTriple();
  llvm::SubtargetFeatures features;
  std::string cpuName = cpu.str();
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
  }
  llvm::TargetOptions options;
  auto level = optLevel == 0   ? llvm::CodeGenOptLevel::None
               : optLevel == 1 ? llvm::CodeGenOptLevel::Less
               : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                               : llvm::CodeGenOptLevel::Aggressive;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpuName, features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, level));
}

/// The extensions of metac/cpu_features.def that `subtarget` has, in the
/// table's order.
std::vector<std::string>
listedFeatures(const llvm::MCSubtargetInfo &subtarget) {
  std::vector<std::string> features;
#define METAC_CPU_FEATURE(name, ...)                                           \
  if (subtarget.checkFeatures(std::string("+") + name))                        \
    features.push_back(name);
#include "metac/cpu_features.def"
  return features;
}

/// The `metac_target` record of a program compiled by `machine`.
std::string targetRecord(const llvm::TargetMachine &machine) {
  return "cpu=" + machine.getTargetCPU().str() + " features=" +
         llvm::join(listedFeatures(*machine.getMCSubtargetInfo()), ",");
}

/// The runtime archive for programs compiled for `cpu` (see
/// runtime/CMakeLists.txt): its vectorised loops are built for the
/// compiling machine's CPU, or for the highest x86-64 level whose listed
/// extensions `cpu` all has (as LLVM defines the levels).
std::string runtimeArchive(llvm::StringRef cpu) {
  if (cpu == "native")
    return "libmetac_runtime.a";
  std::string error;
  const llvm::Target *target = hostTarget(error);
  if (!target)
    return "libmetac_runtime_x86-64.a";
  auto features = [&](llvm::StringRef name) {
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
        target->createMCSubtargetInfo(llvm::sys::getDefaultTargetTriple(), name,
                                      ""));
    return listedFeatures(*subtarget);
  };
  std::vector<std::string> has = features(cpu);
  for (const char *level : {"x86-64-v4", "x86-64-v3"})
    if (llvm::all_of(features(level), [&](const std::string &f) {
          return llvm::is_contained(has, f);
        }))
      return "libmetac_runtime_" + std::string(level) + ".a";
  return "libmetac_runtime_x86-64.a";
}

/// Defines `metac_target` in the part of a program that defines
/// metac_program() (one part per program).
void addTargetRecord(llvm::Module &module, const llvm::TargetMachine &machine) {
  llvm::Function *program = module.getFunction("metac_program");
  if (!program || program->isDeclaration())
    return;
  llvm::Constant *text = llvm::ConstantDataArray::getString(
      module.getContext(), targetRecord(machine));
  new llvm::GlobalVariable(module, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           "metac_target");
}

/// Kernels are long chains of short loops, and two loop passes cost time
/// quadratic in a function's loops. IndVarSimplify asks, for every
/// induction-variable compare, whether the loop's entry is guarded by a
/// condition, and ScalarEvolution answers by climbing through every loop
/// before it. On the 20-way example (a meta-gradient of 12,408 blocks) LLVM's
/// optimisation took 87 s, of which IndVarSimplify 50 s and LoopRotate 21 s
/// (0.07 s and 0.04 s for the small sinusoid kernels). IndVarSimplify is
/// skipped everywhere: without it, the sinusoid and convolutional MAML
/// examples ran at the same speed (1.50 vs 1.51 and 4.61 vs 4.29 CPU
/// seconds, best of several runs). LoopRotate is skipped in functions of
/// more than 5,000 blocks, whose time goes to runtime GEMMs (the 20-way
/// example's speed did not change); smaller functions keep it, since the
/// vectoriser needs rotated loops. The 20-way optimisation now takes 10 s.
bool skipQuadraticLoopPasses(llvm::StringRef pass, llvm::Any ir) {
  if (pass == "IndVarSimplifyPass")
    return false;
  if (pass != "LoopRotatePass")
    return true;
  const llvm::Function *f = nullptr;
  if (const auto *loop = llvm::any_cast<const llvm::Loop *>(&ir))
    f = (*loop)->getHeader()->getParent();
  else if (const auto *fn = llvm::any_cast<const llvm::Function *>(&ir))
    f = *fn;
  return !f || f->size() <= 5000;
}

/// What cold kernels get instead of O3: scalar cleanups, invariant code out
/// of loops and redundancy elimination. No vectorisation: their loops are
/// not rotated (LoopRotate is one of the passes that grow quadratically).
const char *const kColdPipeline =
    "sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop-mssa(licm),gvn,instcombine<no-verify-fixpoint>,simplifycfg,dse";

/// The LLVM IR of an LLVM-dialect module for `machine`, unoptimised, with
/// the target record.
std::unique_ptr<llvm::Module> translateToLLVMIR(ModuleOp module,
                                                llvm::LLVMContext &context,
                                                llvm::TargetMachine &machine,
                                                std::string &error) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "metac");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple().str());
  addTargetRecord(*llvmModule, machine);
  return llvmModule;
}

/// Runs the O1-O3 pipeline (nothing at O0) on a module of LLVM IR.
void optimize(llvm::Module &llvmModule, llvm::TargetMachine &machine,
              unsigned optLevel) {
  if (optLevel == 0)
    return;
  llvm::LLVMContext &context = llvmModule.getContext();
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  // Kernels are long chains of small constant-trip loops. Unrolling them all
  // made the sinusoid example compile in 41 s instead of 3.5 s, for 30% more
  // speed; generated loops are vectorised instead (issue 3 revisits this).
  tuning.LoopUnrolling = false;
  // Interleaving vectorised loops (4 x 8 lanes) left the 40-wide rows of the
  // sinusoid network with a scalar remainder of 8 iterations; plain 8-lane
  // vectors cover them exactly. Measured: 1211 -> 1660 it/s.
  tuning.LoopInterleaving = false;
  // The standard instrumentation is what makes passes skip optnone
  // functions (the cold kernels below).
  llvm::PassInstrumentationCallbacks callbacks;
  llvm::StandardInstrumentations instrumentation(context,
                                                 /*DebugLogging=*/false);
  instrumentation.registerCallbacks(callbacks, &mam);
  callbacks.registerShouldRunOptionalPassCallback(skipQuadraticLoopPasses);
  llvm::PassBuilder builder(&machine, tuning, std::nullopt, &callbacks);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel == 1   ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;

  // Cold kernels (evaluation: every evaluated inner step unrolled into one
  // function of thousands of short loops) skip the O3 pipeline for a short
  // function pipeline, run after the module pipeline: on one sinusoid
  // evaluation kernel, 0.2 s instead of 1.5 s (0.43 s without
  // IndVarSimplify), and the evaluation ran no slower.
  // By name: the module pipeline may delete a kernel nothing calls.
  SmallVector<std::string> cold;
  for (llvm::Function &f : llvmModule)
    if (!f.isDeclaration() && f.hasFnAttribute(llvm::Attribute::Cold)) {
      f.addFnAttr(llvm::Attribute::OptimizeNone);
      f.addFnAttr(llvm::Attribute::NoInline);
      cold.push_back(f.getName().str());
    }
  builder.buildPerModuleDefaultPipeline(level).run(llvmModule, mam);
  if (!cold.empty()) {
    llvm::FunctionPassManager fpm;
    // A fixed string: a parse error is a bug in metac.
    llvm::cantFail(builder.parsePassPipeline(fpm, kColdPipeline));
    for (const std::string &name : cold) {
      llvm::Function *f = llvmModule.getFunction(name);
      if (!f || f->isDeclaration())
        continue;
      f->removeFnAttr(llvm::Attribute::OptimizeNone);
      fam.clear(*f, f->getName());
      fpm.run(*f, fam);
    }
  }
}

/// Writes a module of LLVM IR as an object file.
bool emitObject(llvm::Module &module, llvm::TargetMachine &machine,
                llvm::StringRef path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, out, nullptr,
                                  llvm::CodeGenFileType::ObjectFile)) {
    error = "the host target cannot emit object files";
    return false;
  }
  pm.run(module);
  // Checked here: an unchecked write error would abort the process from
  // the stream's destructor, leaving the temporary objects behind.
  out.close();
  if (out.has_error()) {
    error = "cannot write '" + path.str() + "': " + out.error().message();
    out.clear_error();
    return false;
  }
  return true;
}

} // namespace

void metac::prepareTranslation(MLIRContext &context) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  context.appendDialectRegistry(registry);
}

bool metac::checkTargetCpu(llvm::StringRef cpu, std::string &error) {
  if (cpu == "native")
    return true;
  const llvm::Target *target = hostTarget(error);
  if (!target)
    return false;
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(llvm::sys::getDefaultTargetTriple(), "",
                                    ""));
  if (subtarget && subtarget->isCPUStringValid(cpu))
    return true;
  error = "unknown CPU '" + cpu.str() +
          "' for --cpu (use native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 "
          "or an LLVM CPU name such as skylake-avx512 or znver4)";
  return false;
}

std::unique_ptr<llvm::Module>
metac::translateToOptimizedLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                                  unsigned optLevel, llvm::StringRef cpu,
                                  std::string &error) {
  prepareTranslation(*module->getContext());
  auto machine = targetMachine(cpu, optLevel, error);
  if (!machine)
    return nullptr;
  auto llvmModule = translateToLLVMIR(module, context, *machine, error);
  if (!llvmModule)
    return nullptr;
  optimize(*llvmModule, *machine, optLevel);
  return llvmModule;
}

bool metac::emitObjectFile(ModuleOp module, unsigned optLevel,
                           llvm::StringRef cpu, llvm::StringRef path,
                           std::string &error) {
  auto machine = targetMachine(cpu, optLevel, error);
  if (!machine)
    return false;
  llvm::LLVMContext context;
  auto llvmModule = translateToLLVMIR(module, context, *machine, error);
  if (!llvmModule)
    return false;
  // Functions another part calls (partitionModule) link across objects but
  // stay inside the program, a shared library included.
  for (llvm::Function &f : *llvmModule)
    if (!f.isDeclaration() && f.getName().starts_with("__metac_"))
      f.setVisibility(llvm::GlobalValue::HiddenVisibility);
  optimize(*llvmModule, *machine, optLevel);
  return emitObject(*llvmModule, *machine, path, error);
}

bool metac::linkProgram(llvm::ArrayRef<std::string> objectPaths,
                        llvm::StringRef outputPath, bool shared,
                        RuntimeLayer layer, llvm::StringRef cpu,
                        std::string &error) {
  bool images = layer == RuntimeLayer::Images;
  bool simulator = layer == RuntimeLayer::Simulator;
  // METAC_RUNTIME_DIR lets an installed or relocated metac find the runtime.
  std::string runtimeDir = METAC_RUNTIME_LIB_DIR;
  if (const char *env = std::getenv("METAC_RUNTIME_DIR"))
    runtimeDir = env;
  auto driver = llvm::sys::findProgramByName(METAC_CXX);
  if (!driver) {
    error = std::string("cannot find the C++ driver '") + METAC_CXX + "'";
    return false;
  }
  std::vector<std::string> args = {*driver, "-o", outputPath.str()};
  if (*METAC_LINK_FLAG)
    args.push_back(METAC_LINK_FLAG);
  if (*METAC_LINK_PREFIX)
    args.push_back(METAC_LINK_PREFIX);
  args.insert(args.end(), objectPaths.begin(), objectPaths.end());
  if (shared)
    args.insert(args.begin() + 1, "-shared");
  else if (images)
    args.push_back(runtimeDir + "/libmetac_main_images.a");
  else if (simulator)
    args.push_back(runtimeDir + "/libmetac_main_sim.a");
  else
    args.push_back(runtimeDir + "/libmetac_main.a");
  // The image data layer, for programs with a built-in image task source.
  if (images && !shared)
    args.push_back(runtimeDir + "/libmetac_data.a");
  if (simulator && !shared)
    args.push_back(runtimeDir + "/libmetac_sim.a");
  // A shared library keeps the whole embedding API, which nothing in the
  // generated object refers to.
  if (shared)
    args.push_back("-Wl,--whole-archive");
  args.push_back(runtimeDir + "/" + runtimeArchive(cpu));
  if (shared)
    args.push_back("-Wl,--no-whole-archive");
  args.push_back(METAC_FMT_LIB);
  if (images && !shared) {
    args.push_back("-lfreetype");
    args.push_back("-lpng16");
  }
  if (simulator && !shared)
    args.push_back("-lmujoco");
  args.push_back("-lpthread");
  args.push_back("-lm");
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*driver, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    error = "linking failed (" + llvm::join(argRefs, " ") + ")" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}
