//===- Cpu.cpp - Does this CPU run the program? ---------------------------===//
//
// Compiled for the baseline x86-64 in every runtime archive: it runs before
// anything that might use an extension the CPU lacks.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Cpu.h"
#include "metac/runtime/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <sstream>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace metac::runtime;

TargetRecord metac::runtime::parseTargetRecord(std::string_view Text) {
  TargetRecord R;
  bool HasCpu = false;
  std::istringstream In{std::string(Text)};
  for (std::string Field; In >> Field;) {
    size_t Eq = Field.find('=');
    std::string Key = Field.substr(0, Eq);
    std::string Value = Eq == std::string::npos ? "" : Field.substr(Eq + 1);
    if (Eq != std::string::npos && Key == "cpu" && !Value.empty()) {
      R.Cpu = Value;
      HasCpu = true;
    } else if (Eq != std::string::npos && Key == "features") {
      std::istringstream List(Value);
      for (std::string F; std::getline(List, F, ',');)
        if (!F.empty())
          R.Features.push_back(F);
    } else {
      throw Error(fmt::format("bad target record (metac_target): unexpected "
                              "'{}' in \"{}\"",
                              Field, Text));
    }
  }
  if (!HasCpu)
    throw Error(fmt::format("bad target record (metac_target): no `cpu=` in "
                            "\"{}\"",
                            Text));
  return R;
}

namespace {

enum Register { Eax, Ebx, Ecx, Edx };
enum State { None, Avx, Avx512 };

/// CPUID(Leaf, Subleaf), or zeros where the CPU does not have the leaf.
std::array<uint32_t, 4> cpuid(uint32_t Leaf, uint32_t Subleaf) {
  std::array<uint32_t, 4> R = {0, 0, 0, 0};
#if defined(__x86_64__)
  if (!__get_cpuid_count(Leaf, Subleaf, &R[0], &R[1], &R[2], &R[3]))
    R = {0, 0, 0, 0};
#endif
  return R;
}

/// The register state the operating system saves (XCR0), or 0 if it does
/// not manage extended state (no OSXSAVE).
uint64_t savedState() {
#if defined(__x86_64__)
  if (!(cpuid(1, 0)[Ecx] & (1u << 27)))
    return 0;
  uint32_t Lo, Hi;
  __asm__ volatile("xgetbv" : "=a"(Lo), "=d"(Hi) : "c"(0));
  return (uint64_t(Hi) << 32) | Lo;
#else
  return 0;
#endif
}

} // namespace

std::vector<std::string> metac::runtime::hostCpuFeatures() {
  const uint64_t Xcr0 = savedState();
  // SSE and AVX registers (bits 1-2); AVX-512's opmask and upper halves
  // (bits 5-7).
  const bool AvxState = (Xcr0 & 0x6) == 0x6;
  const bool Avx512State = (Xcr0 & 0xe6) == 0xe6;
  std::vector<std::string> Has;
#define METAC_CPU_FEATURE(Name, Leaf, Subleaf, Reg, Bit, St)                   \
  if ((cpuid(Leaf, Subleaf)[Reg] >> (Bit)) & 1u &&                             \
      (St == None || (St == Avx && AvxState) ||                                \
       (St == Avx512 && Avx512State)))                                         \
    Has.push_back(Name);
#include "metac/cpu_features.def"
  return Has;
}

std::vector<std::string> metac::runtime::missingFeatures(
    const std::vector<std::string> &Needed,
    const std::function<bool(std::string_view)> &Has) {
  std::vector<std::string> Missing;
  for (const std::string &F : Needed)
    if (!Has(F) &&
        std::find(Missing.begin(), Missing.end(), F) == Missing.end())
      Missing.push_back(F);
  return Missing;
}

namespace {

std::vector<std::string> runtimeFeatures() {
  std::vector<std::string> Features;
  std::istringstream List(RuntimeCompiledFeatures);
  for (std::string F; List >> F;)
    Features.push_back(F);
  return Features;
}

std::string join(const std::vector<std::string> &Features) {
  std::string S;
  for (const std::string &F : Features)
    S += (S.empty() ? "" : ", ") + F;
  return S.empty() ? "nothing beyond x86-64" : S;
}

} // namespace

std::string metac::runtime::describeTarget(const char *TargetText) {
  TargetRecord Program = parseTargetRecord(TargetText ? TargetText : "");
  return fmt::format("compiled for CPU '{}'\n  its kernels use: {}\n  the "
                     "runtime's loops use: {}\n",
                     Program.Cpu, join(Program.Features),
                     join(runtimeFeatures()));
}

void metac::runtime::checkTargetCpu(const char *TargetText) {
  if (!TargetText)
    throw Error("bad target record: metac_target is null");
  TargetRecord Program = parseTargetRecord(TargetText);
  const std::vector<std::string> Host = hostCpuFeatures();
  auto Has = [&](std::string_view F) {
    return std::find(Host.begin(), Host.end(), F) != Host.end();
  };
  std::vector<std::string> Missing = missingFeatures(Program.Features, Has);
  std::vector<std::string> RuntimeMissing =
      missingFeatures(runtimeFeatures(), Has);
  if (!Missing.empty())
    throw Error(fmt::format(
        "error: this program was compiled for CPU '{}' and uses {}, which "
        "this CPU lacks; compile it again on this machine, or with `metac "
        "--cpu=x86-64` for any x86-64 CPU",
        Program.Cpu, join(Missing)));
  if (!RuntimeMissing.empty())
    throw Error(fmt::format(
        "error: the metac runtime this program was linked with was built "
        "for a CPU with {}, which this CPU lacks; compile the program with "
        "`metac --cpu=x86-64`, which links the runtime built for any x86-64 "
        "CPU",
        join(RuntimeMissing)));
}
