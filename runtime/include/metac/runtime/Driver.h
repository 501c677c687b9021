//===- metac/runtime/Driver.h - The run of a generated program --*- C++ -*-===//
//
// runMain is everything a generated executable does: parse the descriptor
// and the command line, train (or resume), checkpoint, evaluate, report. The
// executable's main() (runtime/lib/Main.cpp) only hands it the two ABI
// symbols, which keeps metac_runtime free of references to them and lets
// tests drive a run in process with any descriptor and kernel table.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_DRIVER_H
#define METAC_RUNTIME_DRIVER_H

#include "metac/abi.h"
#include "metac/runtime/Simulator.h"
#include "metac/runtime/TaskSource.h"

namespace metac::runtime {

/// Runs a compiled program with the command line Argv[1..Argc). Prints
/// results to stdout and progress and errors to stderr; returns the exit
/// code (see ExitCode in Error.h). Images creates the task source of a
/// program with a `source` record; executables of other programs do not
/// link the data layer and pass null. Simulators likewise creates the
/// physics simulator of an environment with a `simulator` record. Target
/// is the program's `metac_target` record, checked against this CPU first.
int runMain(int Argc, char **Argv, const char *Target, const char *Descriptor,
            const metac_kernel_fn *Kernels, ImageSourceFactory Images = nullptr,
            SimulatorFactory Simulators = nullptr);

} // namespace metac::runtime

#endif // METAC_RUNTIME_DRIVER_H
