//===- Main.cpp - Entry point of every generated executable ---------------===//
//
// This file is the whole of libmetac_main.a. It is a separate library so that
// libmetac_runtime.a can also be linked into programs that have their own
// main() (see metac/metac.h).
//
//===----------------------------------------------------------------------===//

#include "metac/abi.h"
#include "metac/runtime/Driver.h"

int main(int Argc, char **Argv) {
  return metac::runtime::runMain(Argc, Argv, metac_target, metac_program(),
                                 metac_kernels);
}
