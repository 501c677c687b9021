//===- metac/runtime/Init.h - Initial parameter values ----------*- C++ -*-===//
//
// Every entry of every parameter gets its initial value from its own
// counter-based stream, keyed by (seed, parameter index, element index). A
// value therefore depends on nothing else: not on the other parameters, not
// on the thread count, not on the order entries are filled in.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_INIT_H
#define METAC_RUNTIME_INIT_H

#include "metac/runtime/Program.h"

#include <cstdint>

namespace metac::runtime {

/// The initial value of element Element of parameter number ParamIndex.
float initialValue(const Initializer &Init, uint64_t Seed, uint64_t ParamIndex,
                   uint64_t Element);

/// Fills Flat (numParameters() floats) with the initial values of every
/// parameter.
void initializeParameters(const Program &P, uint64_t Seed, float *Flat);

} // namespace metac::runtime

#endif // METAC_RUNTIME_INIT_H
