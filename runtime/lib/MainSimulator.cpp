//===- MainSimulator.cpp - main() of programs with a physics simulator ----===//
//
// Generated executables of environments declared with `simulator mujoco(...)`
// link this main() and libmetac_sim.a, which brings in MuJoCo.
//
//===----------------------------------------------------------------------===//

#include "metac/abi.h"
#include "metac/runtime/Driver.h"
#include "metac/runtime/Simulator.h"

int main(int Argc, char **Argv) {
  return metac::runtime::runMain(Argc, Argv, metac_target, metac_program(),
                                 metac_kernels, nullptr,
                                 metac::runtime::createMujocoSimulator);
}
