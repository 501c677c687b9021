//===- CpuTest.cpp - Target records and the CPU check ---------------------===//

#include "metac/runtime/Cpu.h"
#include "metac/runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

using namespace metac::runtime;

TEST(CpuTest, ParsesARecord) {
  TargetRecord R = parseTargetRecord("cpu=znver4 features=avx2,avx512f,fma");
  EXPECT_EQ(R.Cpu, "znver4");
  EXPECT_EQ(R.Features, (std::vector<std::string>{"avx2", "avx512f", "fma"}));
  TargetRecord Baseline = parseTargetRecord("cpu=x86-64 features=");
  EXPECT_EQ(Baseline.Cpu, "x86-64");
  EXPECT_TRUE(Baseline.Features.empty());
}

TEST(CpuTest, RejectsMalformedRecords) {
  EXPECT_THROW(parseTargetRecord(""), Error);
  EXPECT_THROW(parseTargetRecord("features=avx2"), Error);
  EXPECT_THROW(parseTargetRecord("cpu= features=avx2"), Error);
  EXPECT_THROW(parseTargetRecord("cpu=znver4 features=avx2 avx512f"), Error);
  EXPECT_THROW(parseTargetRecord("cpu=znver4 flags=avx2"), Error);
}

TEST(CpuTest, ListsMissingFeaturesInOrderOnce) {
  auto Has = [](std::string_view F) { return F == "avx2" || F == "fma"; };
  EXPECT_EQ(
      missingFeatures({"avx2", "avx512f", "fma", "avx512bw", "avx512f"}, Has),
      (std::vector<std::string>{"avx512f", "avx512bw"}));
  EXPECT_TRUE(missingFeatures({"fma", "avx2"}, Has).empty());
}

// The CPUID table (metac/cpu_features.def) against the compiler: this test
// links the runtime built with -march=native, so every extension the
// compiler enabled for this machine must be one CPUID reports. A wrong leaf,
// register or bit for an extension this machine has fails here.
TEST(CpuTest, ThisCpuHasWhatTheRuntimeWasCompiledFor) {
  std::vector<std::string> Host = hostCpuFeatures();
  std::istringstream Compiled(RuntimeCompiledFeatures);
  for (std::string F; Compiled >> F;)
    EXPECT_NE(std::find(Host.begin(), Host.end(), F), Host.end())
        << "the runtime was compiled with " << F
        << " but CPUID does not report it";
  EXPECT_NO_THROW(checkTargetCpu("cpu=x86-64 features="));
}

TEST(CpuTest, NamesTheMissingFeature) {
  // Every CPU lacks a feature metac does not know; the check treats it as
  // missing rather than assume it.
  try {
    checkTargetCpu("cpu=future features=sse3,notafeature");
    FAIL() << "no error";
  } catch (const Error &E) {
    EXPECT_NE(std::string(E.what()).find("compiled for CPU 'future' and uses "
                                         "notafeature, which this CPU lacks"),
              std::string::npos)
        << E.what();
  }
}

TEST(CpuTest, DescribesTheTarget) {
  std::string Text = describeTarget("cpu=x86-64-v3 features=avx2,fma");
  EXPECT_EQ(Text.rfind("compiled for CPU 'x86-64-v3'\n  its kernels use: "
                       "avx2, fma\n  the runtime's loops use: ",
                       0),
            0u)
      << Text;
  EXPECT_NE(describeTarget("cpu=x86-64 features=")
                .find("its kernels use: nothing beyond x86-64"),
            std::string::npos);
}
