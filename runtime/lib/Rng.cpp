//===- Rng.cpp - Counter-based random numbers -----------------------------===//
//
// Only the Box–Muller transform lives out of line: it needs <cmath>, and its
// result must not depend on inlining decisions at the call site.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Rng.h"

#include <cmath>

using namespace metac::runtime::rng;

double CounterRng::normal(uint64_t K) const {
  // 1 - U lies in (0, 1], so the logarithm is finite.
  double U1 = 1.0 - uniform(2 * K);
  double U2 = uniform(2 * K + 1);
  return std::sqrt(-2.0 * std::log(U1)) * std::cos(2.0 * M_PI * U2);
}
