//===- metac/MLIRGen/Simulator.h - Simulator models ----------- -*- C++ -*-===//
//
// An environment may declare `simulator mujoco("runner.xml")`: its dynamics
// are a MuJoCo model that the runtime steps. The compiler loads the model
// once, so that a model that does not load, or a policy whose input or output
// does not fit the model's sensors or actuators, is a located compile error,
// and so that the executable can carry the compiled model (MuJoCo's binary
// MJB form, which also holds any meshes) instead of depending on the file.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_MLIRGEN_SIMULATOR_H
#define METAC_MLIRGEN_SIMULATOR_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metac {

struct SimulatorModel {
  /// A named sensor: its readings are sensordata[offset, offset + size).
  struct Sensor {
    std::string name;
    int64_t offset = 0, size = 0;
  };
  /// The observation is every sensor's readings, in declaration order.
  int64_t observations = 0;
  /// One action per actuator.
  int64_t actions = 0;
  std::vector<Sensor> sensors;
  /// The model in MJB form.
  std::string binary;
};

/// Loads the MJCF model at `path`; on failure returns nullopt and sets
/// `error` to MuJoCo's message.
std::optional<SimulatorModel> loadMujocoModel(llvm::StringRef path,
                                              std::string &error);

} // namespace metac

#endif // METAC_MLIRGEN_SIMULATOR_H
