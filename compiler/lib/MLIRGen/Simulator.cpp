//===- Simulator.cpp - Loading a MuJoCo model at compile time -------------===//

#include "metac/MLIRGen/Simulator.h"

#include <mujoco/mujoco.h>

#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace metac;

namespace {
// MuJoCo's default handlers write MUJOCO_LOG.TXT into the working directory
// and, for errors, exit. Loading reports problems through its error buffer;
// these only catch what slips past it.
void onMujocoWarning(const char *message) {
  llvm::errs() << "metac: warning: MuJoCo: " << message << "\n";
}
[[noreturn]] void onMujocoError(const char *message) {
  llvm::errs() << "metac: error: MuJoCo: " << message << "\n";
  std::exit(1);
}
} // namespace

std::optional<SimulatorModel> metac::loadMujocoModel(llvm::StringRef path,
                                                     std::string &error) {
  mju_user_warning = onMujocoWarning;
  mju_user_error = onMujocoError;
  char message[1024] = "";
  mjModel *m = mj_loadXML(path.str().c_str(), nullptr, message,
                          static_cast<int>(sizeof message));
  if (!m) {
    error = message[0] ? message : "the model did not load";
    return std::nullopt;
  }
  SimulatorModel model;
  model.observations = m->nsensordata;
  model.actions = m->nu;
  for (int i = 0; i < m->nsensor; ++i) {
    const char *name = mj_id2name(m, mjOBJ_SENSOR, i);
    if (name && *name)
      model.sensors.push_back({name, m->sensor_adr[i], m->sensor_dim[i]});
  }
  model.binary.resize(mj_sizeModel(m));
  mj_saveModel(m, nullptr, model.binary.data(),
               static_cast<int>(model.binary.size()));
  mj_deleteModel(m);
  return model;
}
