//===- metac/runtime/Cpu.h - Does this CPU run the program? -----*- C++ -*-===//
//
// Generated code is compiled for one CPU (metac --cpu, the compiling
// machine's by default), and so are the runtime's vectorised loops. Run on
// a CPU without one of the instruction-set extensions they use, a program
// would die of SIGILL somewhere in its first kernel. Instead, before
// anything compiled for that CPU runs, the runtime compares the extensions
// the program was compiled for (the `metac_target` record of metac/abi.h,
// and the runtime archive's own) with what CPUID reports, and names what is
// missing.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_CPU_H
#define METAC_RUNTIME_CPU_H

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace metac::runtime {

/// What a target record says: `cpu=NAME features=F1,F2,...`.
struct TargetRecord {
  std::string Cpu;
  std::vector<std::string> Features;
};

/// Parses a `metac_target` record; throws Error if it is malformed.
TargetRecord parseTargetRecord(std::string_view Text);

/// The extensions of metac/cpu_features.def that this CPU has and the
/// operating system enables.
std::vector<std::string> hostCpuFeatures();

/// The extensions the runtime archive itself was compiled to use (the
/// `-march` of its vectorised loops), as a space-separated list.
extern const char *const RuntimeCompiledFeatures;

/// Features of Needed that Has does not accept, in Needed's order, without
/// repeats.
std::vector<std::string>
missingFeatures(const std::vector<std::string> &Needed,
                const std::function<bool(std::string_view)> &Has);

/// For --help: the CPU of TargetText and the extensions the program's
/// kernels and the runtime's loops use.
std::string describeTarget(const char *TargetText);

/// Throws Error (ExitFailure) if this CPU lacks an extension that the
/// program of TargetText, or the runtime it was linked with, uses.
void checkTargetCpu(const char *TargetText);

} // namespace metac::runtime

#endif // METAC_RUNTIME_CPU_H
