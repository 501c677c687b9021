//===- Mujoco.cpp - The MuJoCo simulator behind environments --------------===//
//
// The model arrives compiled (MJB bytes in the descriptor), is loaded once
// and shared read-only; each rollout gets one mjData per episode. An
// environment step applies the action as the actuators' controls for
// frame_skip physics steps, then reads the sensors, which are the
// observation. MuJoCo computes position and velocity sensors at the start
// of a physics step, from the state before it; so after the last step the
// sensors are brought up to date: with the Euler integrator by running the
// first half of the next step (mj_step1), which the next environment step
// then reuses instead of recomputing, otherwise with mj_forward.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Error.h"
#include "metac/runtime/Simulator.h"

#include <mujoco/mujoco.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace metac::runtime;

SimulatorEpisodes::~SimulatorEpisodes() = default;
Simulator::~Simulator() = default;

namespace {

// MuJoCo's default handlers print, write MUJOCO_LOG.TXT into the working
// directory and, for errors, exit. Warnings are read from mjData's counters
// instead (the step names the episode); errors become exceptions.
void ignoreWarning(const char *) {}
[[noreturn]] void throwError(const char *Message) {
  throw Error(fmt::format("MuJoCo: {}", Message));
}

struct ModelDeleter {
  void operator()(mjModel *M) const { mj_deleteModel(M); }
};
struct DataDeleter {
  void operator()(mjData *D) const { mj_deleteData(D); }
};

class MujocoSimulator final : public Simulator {
public:
  MujocoSimulator(const SimulatorSpec &Spec, mjModel *M)
      : FrameSkip(Spec.FrameSkip), ResetNoise(Spec.ResetNoise), M(M) {
    // Splitting a step into mj_step1/mj_step2 is only exact for Euler, and
    // only if no sensor needs accelerations (those come from mj_step2).
    Split = M->opt.integrator == mjINT_EULER;
    for (int I = 0; I < M->nsensor; ++I)
      Split &= M->sensor_needstage[I] != mjSTAGE_ACC;
  }
  std::unique_ptr<SimulatorEpisodes> start(int64_t Episodes) const override;

  int64_t FrameSkip;
  double ResetNoise;
  std::unique_ptr<mjModel, ModelDeleter> M;
  bool Split = false;
};

class MujocoEpisodes final : public SimulatorEpisodes {
public:
  MujocoEpisodes(const MujocoSimulator &S, int64_t Episodes) : S(S) {
    for (int64_t E = 0; E < Episodes; ++E) {
      D.emplace_back(mj_makeData(S.M.get()));
      if (!D.back())
        throw Error("MuJoCo: cannot allocate the simulation state");
    }
  }

  std::string reset(const rng::CounterRng &Draws, float *Obs,
                    int64_t &Failed) override {
    const mjModel *M = S.M.get();
    const double R = S.ResetNoise;
    const uint64_t PerEpisode = 2 * static_cast<uint64_t>(M->nq + M->nv);
    for (size_t E = 0; E < D.size(); ++E) {
      mjData *Data = D[E].get();
      std::string Why = guarded([&] {
        mj_resetData(M, Data);
        uint64_t Base = E * PerEpisode;
        for (int I = 0; I < M->nq; ++I)
          Data->qpos[I] += R * (2 * Draws.uniform(Base + I) - 1);
        for (int I = 0; I < M->nv; ++I)
          Data->qvel[I] += R * Draws.normal((Base + 2 * M->nq) / 2 + I);
        settle(Data);
        return instability(Data, Data->time);
      });
      if (!Why.empty()) {
        Failed = static_cast<int64_t>(E);
        return Why;
      }
      read(E, Obs);
    }
    return {};
  }

  std::string step(const float *Action, const char *Alive, float *Obs,
                   int64_t &Failed) override {
    const mjModel *M = S.M.get();
    for (size_t E = 0; E < D.size(); ++E) {
      if (!Alive[E])
        continue;
      mjData *Data = D[E].get();
      std::string Why = guarded([&] {
        for (int J = 0; J < M->nu; ++J)
          Data->ctrl[J] = Action[E * M->nu + J];
        for (int64_t K = 0; K < S.FrameSkip; ++K) {
          // Checked after every physics step: MuJoCo resets a state that
          // went bad, and the time then no longer says when it happened.
          double Time = Data->time + M->opt.timestep;
          if (S.Split) {
            if (K > 0)
              mj_step1(M, Data);
            mj_step2(M, Data);
          } else {
            mj_step(M, Data);
          }
          if (std::string Why = instability(Data, Time); !Why.empty())
            return Why;
        }
        settle(Data);
        return instability(Data, Data->time);
      });
      if (!Why.empty()) {
        Failed = static_cast<int64_t>(E);
        return Why;
      }
      read(E, Obs);
    }
    return {};
  }

private:
  /// Brings the sensors up to date with the state (see the file comment),
  /// checking the state as a physics step would: mj_step1 checks positions
  /// and velocities, mj_forward checks nothing.
  void settle(mjData *Data) const {
    const mjModel *M = S.M.get();
    if (S.Split) {
      mj_step1(M, Data);
      return;
    }
    mj_checkPos(M, Data);
    mj_checkVel(M, Data);
    mj_forward(M, Data);
    mj_checkAcc(M, Data);
  }

  /// What went wrong in a simulation, or "": MuJoCo quietly resets a
  /// simulation whose state went bad, and an episode that jumped back to
  /// its start would be a silent wrong answer.
  static std::string instability(const mjData *Data, double Time) {
    static const std::pair<int, const char *> Checks[] = {
        {mjWARN_BADQPOS, "positions"},
        {mjWARN_BADQVEL, "velocities"},
        {mjWARN_BADQACC, "accelerations"},
        {mjWARN_BADCTRL, "controls"}};
    for (auto [Kind, What] : Checks)
      if (Data->warning[Kind].number > 0)
        return fmt::format("the MuJoCo simulation became unstable "
                           "(non-finite or huge {}, time {:.3f} s)",
                           What, Time);
    if (Data->warning[mjWARN_CONTACTFULL].number > 0 ||
        Data->warning[mjWARN_CNSTRFULL].number > 0)
      return "MuJoCo ran out of room for contacts or constraints (raise "
             "<size nconmax/njmax> in the model)";
    return {};
  }

  /// Runs Body, turning a MuJoCo error (thrown by throwError) into the
  /// failure it reports, so that the caller names the episode and step.
  template <typename Fn> static std::string guarded(Fn Body) {
    try {
      return Body();
    } catch (const Error &E) {
      return E.what();
    }
  }

  void read(size_t E, float *Obs) const {
    const mjModel *M = S.M.get();
    const mjData *Data = D[E].get();
    std::transform(Data->sensordata, Data->sensordata + M->nsensordata,
                   Obs + E * M->nsensordata,
                   [](mjtNum V) { return static_cast<float>(V); });
  }

  const MujocoSimulator &S;
  std::vector<std::unique_ptr<mjData, DataDeleter>> D;
};

std::unique_ptr<SimulatorEpisodes>
MujocoSimulator::start(int64_t Episodes) const {
  return std::make_unique<MujocoEpisodes>(*this, Episodes);
}

} // namespace

std::shared_ptr<const Simulator>
metac::runtime::createMujocoSimulator(const EnvironmentSpec &Env) {
  mju_user_warning = ignoreWarning;
  mju_user_error = throwError;
  const std::string &Bytes = Env.Sim->Model;
  // mj_loadModel reads from a file or from a virtual file system; the VFS
  // is large (names of 2000 files), so it lives on the heap.
  struct VfsDeleter {
    void operator()(mjVFS *V) const {
      mj_deleteVFS(V);
      delete V;
    }
  };
  // Freed however mj_loadModel returns, including by a MuJoCo error.
  std::unique_ptr<mjVFS, VfsDeleter> Vfs(new mjVFS);
  mj_defaultVFS(Vfs.get());
  const char *Name = "model.mjb";
  if (mj_makeEmptyFileVFS(Vfs.get(), Name, static_cast<int>(Bytes.size())) != 0)
    throw Error(fmt::format("environment '{}': cannot stage the MuJoCo model "
                            "({} bytes)",
                            Env.Name, Bytes.size()));
  std::copy(Bytes.begin(), Bytes.end(),
            static_cast<char *>(Vfs->filedata[Vfs->nfile - 1]));
  mjModel *M = mj_loadModel(Name, Vfs.get());
  Vfs.reset();
  if (!M)
    throw Error(fmt::format("environment '{}': the MuJoCo model does not load "
                            "(was the program compiled against another "
                            "MuJoCo version than {}?)",
                            Env.Name, mj_versionString()));
  if (M->nsensordata != Env.ObsDim || M->nu != Env.ActDim) {
    int Obs = M->nsensordata, Act = M->nu;
    mj_deleteModel(M);
    throw Error(fmt::format("environment '{}': the MuJoCo model has {} sensor "
                            "readings and {} actuators, the program expects {} "
                            "and {}",
                            Env.Name, Obs, Act, Env.ObsDim, Env.ActDim));
  }
  return std::make_shared<MujocoSimulator>(*Env.Sim, M);
}
