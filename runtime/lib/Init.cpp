//===- Init.cpp - Initial parameter values --------------------------------===//

#include "metac/runtime/Init.h"
#include "metac/runtime/Rng.h"

#include <cmath>

using namespace metac::runtime;

float metac::runtime::initialValue(const Initializer &Init, uint64_t Seed,
                                   uint64_t ParamIndex, uint64_t Element) {
  rng::CounterRng Stream(rng::combine(
      rng::combine(rng::key(Seed, rng::Domain::Init), ParamIndex), Element));
  switch (Init.K) {
  case Initializer::Zeros:
    return 0.0f;
  case Initializer::Const:
    return static_cast<float>(Init.A);
  case Initializer::Uniform:
    return static_cast<float>(Init.A + (Init.B - Init.A) * Stream.uniform(0));
  case Initializer::Normal:
    return static_cast<float>(Init.A + Init.B * Stream.normal(0));
  case Initializer::TruncatedNormal:
    // Redraw (from the next counters of the same stream) until the sample is
    // within two standard deviations; 95% of first draws are.
    for (uint64_t K = 0;; ++K) {
      double Z = Stream.normal(K);
      if (std::fabs(Z) <= 2.0)
        return static_cast<float>(Init.A + Init.B * Z);
    }
  }
  return 0.0f;
}

void metac::runtime::initializeParameters(const Program &P, uint64_t Seed,
                                          float *Flat) {
  const auto &Params = P.parameters();
  for (size_t I = 0; I < Params.size(); ++I)
    for (int64_t E = 0; E < Params[I].Size; ++E)
      Flat[Params[I].Offset + E] = initialValue(Params[I].Init, Seed, I, E);
}
