//===- Library.cpp - The embedding API (metac/metac.h) --------------------===//
//
// The only file of metac_runtime that refers to metac_program(),
// metac_kernels and metac_target, so an executable pulls it in only if it
// calls the API. The descriptor is parsed once, on first use, after the
// target CPU is checked; a bad descriptor (or CPU) makes every call fail
// with its message rather than abort.
//
//===----------------------------------------------------------------------===//

#include "metac/abi.h"
#include "metac/metac.h"
#include "metac/runtime/Cpu.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Init.h"
#include "metac/runtime/Kernels.h"
#include "metac/runtime/Program.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <string>

using namespace metac::runtime;

namespace {

thread_local std::string LastError;

struct LoadedProgram {
  std::optional<Program> P;
  std::string Error;
};

const LoadedProgram &loaded() {
  static LoadedProgram L = [] {
    LoadedProgram L;
    try {
      checkTargetCpu(metac_target);
      L.P = Program::load(metac_program(), metac_kernels);
    } catch (const std::exception &E) {
      L.Error = std::string("metac: ") + E.what();
    }
    return L;
  }();
  return L;
}

/// Runs Body with the program, turning exceptions into Fallback and a
/// message for metac_last_error.
template <typename T, typename F> T guarded(T Fallback, F Body) {
  LastError.clear();
  try {
    const LoadedProgram &L = loaded();
    if (!L.P) {
      LastError = L.Error;
      return Fallback;
    }
    return Body(*L.P);
  } catch (const std::exception &E) {
    LastError = std::string("metac: ") + E.what();
  } catch (...) {
    LastError = "metac: unknown error";
  }
  return Fallback;
}

void requireNonNull(const void *Ptr, const char *What) {
  if (!Ptr)
    throw Error(std::string(What) + " is null");
}

void requireData(const Program &P, const void *const *Data, const char *What) {
  requireNonNull(Data, What);
  for (size_t I = 0; I < P.data().size(); ++I)
    if (!Data[I])
      throw Error(std::string(What) + "[" + std::to_string(I) + "] is null");
}

} // namespace

extern "C" {

int metac_num_parameters(void) {
  return guarded(
      -1, [](const Program &P) { return static_cast<int>(P.numParameters()); });
}

int metac_num_model_parameters(void) {
  return guarded(-1, [](const Program &P) {
    return static_cast<int>(P.numModelParameters());
  });
}

int metac_support_size(void) {
  return guarded(-1, [](const Program &P) {
    return static_cast<int>(P.settings().Support);
  });
}

int metac_query_size(void) {
  return guarded(-1, [](const Program &P) {
    return static_cast<int>(P.settings().Query);
  });
}

int metac_num_data(void) {
  return guarded(
      -1, [](const Program &P) { return static_cast<int>(P.data().size()); });
}

int metac_data_size(int I, int N) {
  return guarded(-1, [&](const Program &P) {
    if (I < 0 || static_cast<size_t>(I) >= P.data().size())
      throw Error("data index " + std::to_string(I) + " is out of range");
    if (N < 1)
      throw Error("the number of examples must be positive");
    int64_t Size = P.dataSize(I, N);
    if (Size > INT32_MAX)
      throw Error("the data tensor is too large for int");
    return static_cast<int>(Size);
  });
}

int metac_init_parameters(uint64_t Seed, float *Flat) {
  return guarded(1, [&](const Program &P) {
    requireNonNull(Flat, "flat");
    initializeParameters(P, Seed, Flat);
    return 0;
  });
}

float metac_meta_loss_grad(const float *FlatParams, const float *const *Support,
                           const float *const *Query, float *FlatGrad) {
  return guarded(NAN, [&](const Program &P) {
    requireNonNull(FlatParams, "flat_params");
    requireNonNull(FlatGrad, "flat_grad");
    requireData(P, reinterpret_cast<const void *const *>(Support), "support");
    requireData(P, reinterpret_cast<const void *const *>(Query), "query");
    const Settings &S = P.settings();
    const KernelRecord &K =
        P.requireKernel(KernelRecord::MetaGrad, S.Support, S.Query);
    return callMetaGrad(P, K, FlatParams, Support, Query, FlatGrad);
  });
}

int metac_adapt(const float *FlatParams, const float *const *Support,
                float *AdaptedModel) {
  return guarded(1, [&](const Program &P) {
    requireNonNull(FlatParams, "flat_params");
    requireNonNull(AdaptedModel, "adapted_model_flat");
    requireData(P, reinterpret_cast<const void *const *>(Support), "support");
    const Settings &S = P.settings();
    if (!P.adaptsStepwise()) {
      callAdapt(P, P.requireKernel(KernelRecord::Adapt, S.Support), FlatParams,
                Support, AdaptedModel);
      return 0;
    }
    // The trained number of steps of the one-step kernel.
    std::vector<float> Params(FlatParams, FlatParams + P.numParameters());
    std::vector<float> Scratch;
    adaptStepwise(P, P.requireKernel(KernelRecord::AdaptStep, S.Support),
                  Params.data(), Support, S.InnerSteps, Scratch);
    for (const Parameter &Param : P.parameters())
      if (!Param.IsMeta)
        std::copy_n(Params.data() + Param.Offset, Param.Size,
                    AdaptedModel + Param.ModelOffset);
    return 0;
  });
}

int metac_sample_task(uint64_t TaskKey, uint64_t DataKey, int N,
                      float **OutData) {
  return guarded(1, [&](const Program &P) {
    requireData(P, reinterpret_cast<const void *const *>(OutData), "out_data");
    const KernelRecord &K = P.requireKernel(KernelRecord::Sample, N);
    callSample(P, K, TaskKey, DataKey, OutData);
    return 0;
  });
}

const char *metac_last_error(void) { return LastError.c_str(); }

} // extern "C"
