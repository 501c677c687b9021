//===- metac/runtime/Simulator.h - Physics engines ------------ -*- C++ -*-===//
//
// An environment declared with `simulator mujoco("runner.xml")` is stepped by
// a physics engine rather than by compiled code: the engine starts episodes
// and advances them, and the compiled `reward` kernel scores each step from
// the sensor readings. The engine lives in a layer of its own
// (libmetac_sim.a, MuJoCo) that only executables of such programs link; the
// runtime sees it through this interface, which runMain's factory fills in.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_SIMULATOR_H
#define METAC_RUNTIME_SIMULATOR_H

#include "metac/runtime/Program.h"
#include "metac/runtime/Rng.h"

#include <cstdint>
#include <memory>
#include <string>

namespace metac::runtime {

/// The states of a batch of episodes of one rollout; used by one thread.
class SimulatorEpisodes {
public:
  virtual ~SimulatorEpisodes();
  /// Starts every episode at the model's initial state perturbed by draws
  /// of Draws, and writes the observations ([episodes, obs]). Failures are
  /// reported as by step.
  virtual std::string reset(const rng::CounterRng &Draws, float *Obs,
                            int64_t &Failed) = 0;
  /// Applies Action ([episodes, act]) to the episodes with Alive[e] set, for
  /// frame_skip physics steps, and writes their observations into Obs. On a
  /// failure (the physics became unstable, or the engine reported an
  /// error), returns what happened and sets Failed to the episode; returns
  /// an empty string otherwise.
  virtual std::string step(const float *Action, const char *Alive, float *Obs,
                           int64_t &Failed) = 0;
};

/// A loaded model; shared read-only by all threads.
class Simulator {
public:
  virtual ~Simulator();
  virtual std::unique_ptr<SimulatorEpisodes> start(int64_t Episodes) const = 0;
};

/// Creates the simulator of an environment with a `simulator` record.
/// Throws Error if the model does not load or does not fit the environment.
using SimulatorFactory =
    std::shared_ptr<const Simulator> (*)(const EnvironmentSpec &Env);

/// The MuJoCo simulator (libmetac_sim.a).
std::shared_ptr<const Simulator>
createMujocoSimulator(const EnvironmentSpec &Env);

} // namespace metac::runtime

#endif // METAC_RUNTIME_SIMULATOR_H
