//===- metac/runtime/Program.h - The parsed program descriptor --*- C++ -*-===//
//
// A compiled program describes itself with the text returned by
// metac_program() (the grammar is in metac/abi.h). Program is that text,
// parsed and validated once, plus everything derived from it that the rest of
// the runtime needs: the flat parameter layout and kernel lookup.
//
// The flat layout is the runtime's single view of the parameters: one float
// vector with every `param` and `meta` record back to back in descriptor
// order. Optimisers, checkpoints, gradients and the embedding API all use it,
// and a kernel receives pointers into it at each parameter's offset.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_PROGRAM_H
#define METAC_RUNTIME_PROGRAM_H

#include "metac/abi.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metac::runtime {

class Simulator;

/// How a parameter's entries are initialised. A and B hold the arguments in
/// descriptor order: `const v` (A = v), `uniform lo hi`, `normal mean std`,
/// `truncated_normal mean std`.
struct Initializer {
  enum Kind { Zeros, Const, Uniform, Normal, TruncatedNormal };
  Kind K = Zeros;
  double A = 0;
  double B = 0;
};

/// One `param` or `meta` record and its place in the flat vector.
struct Parameter {
  std::string Name;
  /// Empty for `scalar`.
  std::vector<int64_t> Shape;
  /// Number of floats (1 for a scalar).
  int64_t Size = 0;
  /// Offset in the flat vector of all parameters.
  int64_t Offset = 0;
  /// Offset in the flat vector of model (`param`) parameters only, or -1 for
  /// a `meta` record. Adapted parameters use this layout.
  int64_t ModelOffset = -1;
  Initializer Init;
  bool IsMeta = false;
};

/// One `data` record. A task split with n examples holds an [n, Shape...]
/// tensor of it, i.e. n * RowSize floats.
struct DataTensor {
  std::string Name;
  std::vector<int64_t> Shape;
  int64_t RowSize = 1;
};

/// One `kernel` record. N0 and N1 are the sizes after the kind: `sample n`
/// (N0 = n), `meta_grad s q`, `adapt s` (N0 = s), `eval s q`, `adapt_step s`,
/// `query_eval q` (N0 = q).
struct KernelRecord {
  /// Reset, Step and Policy take an episode count; TrpoHvp, TrpoKlGrad and
  /// Surrogate (trajectory rows) two sizes like MetaGrad.
  enum Kind {
    Sample,
    MetaGrad,
    Adapt,
    Eval,
    Reset,
    Step,
    Policy,
    TrpoHvp,
    /// The trust-region KL and its gradient (meta_grad's signature), for
    /// finite-difference Hessian-vector products (OptimizerSpec::HvpEps).
    TrpoKlGrad,
    Surrogate,
    /// A simulator's environment: (obs, action, readings) -> reward, done.
    Reward,
    /// One inner step, which the runtime repeats (stepwise programs).
    AdaptStep,
    /// The objective and metrics of given parameters on a query set.
    QueryEval
  };
  int64_t Id = 0;
  Kind K = Sample;
  int64_t N0 = 0;
  int64_t N1 = 0;
};

/// The `optimizer` record.
struct OptimizerSpec {
  enum Kind { Adam, Sgd, Trpo };
  Kind K = Adam;
  float Lr = 0.001f;
  float Beta1 = 0.9f;
  float Beta2 = 0.999f;
  float Eps = 1e-8f;
  float Momentum = 0;
  /// Adam and SGD of an environment program: optimisation steps per batch
  /// of rollouts (PPO's epochs; each recomputes the meta-gradient at the
  /// current parameters on the same trajectories).
  int64_t Epochs = 1;
  /// TRPO (environments only): the KL bound of the trust region, the
  /// damping added to the Hessian, conjugate-gradient iterations, and the
  /// backtracking line search's ratio and number of tries.
  float MaxKl = 0.01f;
  float Damping = 1e-5f;
  float Backtrack = 0.8f;
  int64_t CgIters = 10;
  int64_t LineSearch = 15;
  /// 0: exact Hessian-vector products (the `trpo_hvp` kernel). Otherwise
  /// central differences of the KL's gradient with step
  /// HvpEps / (|theta| + 1e-8) along v, as rllab's FiniteDifferenceHvp
  /// (the `trpo_kl_grad` kernel).
  float HvpEps = 0;
};

/// The `simulator` record after `env`: a physics simulator advances the
/// environment and starts its episodes (the `reward` kernels score the
/// steps). The observation is the model's sensor readings.
struct SimulatorSpec {
  /// "mujoco".
  std::string Kind;
  /// Physics steps per environment step.
  int64_t FrameSkip = 1;
  /// Episodes start at the model's initial positions plus U(-r, r) and
  /// velocities r N(0, 1), r = ResetNoise.
  double ResetNoise = 0.1;
  /// The compiled model (MuJoCo's MJB bytes).
  std::string Model;
};

/// The `env` record: the tasks are an environment (reinforcement learning).
/// Support and query sets are trajectories of Episodes x Horizon rows, row
/// e * Horizon + t; the data records are exactly obs, act, reward, ret, adv,
/// mask, logp, then pi.mean, pi.log_std (Gaussian) or pi.logits
/// (categorical), then round (docs/abi.md).
struct EnvironmentSpec {
  /// The `tasks` declaration's name, for messages.
  std::string Name;
  int64_t ObsDim = 0;
  int64_t ActDim = 0;
  int64_t Horizon = 0;
  int64_t Episodes = 0;
  int64_t EvalEpisodes = 0;
  double Discount = 0.99;
  double GaeLambda = 1.0;
  /// The policy's distribution: Gaussian (continuous actions) or
  /// categorical (one-hot actions over ActDim choices).
  enum PolicyKind { Gaussian, Categorical };
  PolicyKind Policy = Gaussian;
  /// Set by a `simulator` record.
  std::optional<SimulatorSpec> Sim;
};

/// Where tasks come from: the program's own `sample` kernels, or a built-in
/// image source (a `source` record) whose episodes the runtime's data layer
/// samples: Way classes, split sizes counted in rows (Way x shots).
struct TaskSourceSpec {
  enum Kind { Kernels, Glyphs, Omniglot };
  Kind K = Kernels;
  int64_t Way = 0;
  /// 1, or 4 when every class also appears turned by 90, 180 and 270 degrees.
  int64_t Rotations = 1;
  /// Omniglot's folder as the program names it (may be empty).
  std::string Root;
  /// Nonzero for supervised pretraining (`classes G`): labels are G wide;
  /// training rows are labelled by their class among the background
  /// classes, evaluation episodes use the first Way columns.
  int64_t Classes = 0;
  /// Columns of the label tensor.
  int64_t labelWidth() const { return Classes ? Classes : Way; }
  bool isImages() const { return K != Kernels; }
};

/// The `setting` and `list` records. Optional settings carry the defaults
/// documented in docs/abi.md.
struct Settings {
  int64_t Support = 0;
  int64_t Query = 0;
  int64_t MetaBatch = 0;
  int64_t Train = 0;
  int64_t EvalTasks = 600;
  /// Defaults to Query.
  int64_t EvalQuery = 0;
  int64_t InnerSteps = 0;
  std::vector<int64_t> EvalSteps;
  /// Empty when the program defines no evaluation.
  std::vector<int64_t> EvalShots;
};

class Program {
public:
  /// Parses and validates a descriptor. Throws Error with a message such as
  /// "bad program descriptor line 7: ..." on any problem.
  static Program parse(std::string_view Text);

  /// Parses Text and attaches the kernel table it describes. Every kernel id
  /// the descriptor names must have a non-null entry in Table.
  static Program load(const char *Text, const metac_kernel_fn *Table);

  const std::string &name() const { return Name; }
  const std::string &text() const { return Text; }
  /// A 64-bit FNV-1a hash of the descriptor text: checkpoints record it so
  /// that they are never loaded into a different program.
  uint64_t hash() const { return Hash; }

  /// All `param` and `meta` records in descriptor order.
  const std::vector<Parameter> &parameters() const { return Params; }
  const std::vector<DataTensor> &data() const { return Data; }
  const std::vector<KernelRecord> &kernels() const { return Kernels; }
  const Settings &settings() const { return Config; }
  const OptimizerSpec &optimizer() const { return Optim; }
  const TaskSourceSpec &source() const { return Source; }
  /// The `env` record, or null if the tasks are not an environment.
  const EnvironmentSpec *environment() const {
    return Env.Horizon ? &Env : nullptr;
  }
  /// The `metric` records: evaluation reports each after the loss.
  const std::vector<std::string> &metrics() const { return Metrics; }
  /// Floats an `eval` kernel writes: the loss then each metric, per
  /// eval_steps entry.
  int64_t evalOutputs() const {
    return static_cast<int64_t>(Config.EvalSteps.size() * (1 + Metrics.size()));
  }

  /// Floats in the flat vector of all parameters.
  int64_t numParameters() const { return FlatSize; }
  /// Floats in the flat vector of model parameters only.
  int64_t numModelParameters() const { return ModelFlatSize; }
  /// Floats of data tensor I for a split of N examples.
  int64_t dataSize(size_t I, int64_t N) const { return N * Data[I].RowSize; }

  /// Whether the program defines an evaluation protocol.
  bool hasEvaluation() const { return !Config.EvalShots.empty(); }
  /// Whether adaptation is one `adapt_step` kernel repeated by the runtime
  /// (instead of `adapt` and `eval` kernels with the steps unrolled).
  bool adaptsStepwise() const {
    return findKernel(KernelRecord::AdaptStep, Config.Support) != nullptr;
  }

  /// The kernel record of the given kind and sizes, or null.
  const KernelRecord *findKernel(KernelRecord::Kind K, int64_t N0,
                                 int64_t N1 = 0) const;
  /// The kernel record of the given kind and sizes; throws Error if absent.
  const KernelRecord &requireKernel(KernelRecord::Kind K, int64_t N0,
                                    int64_t N1 = 0) const;
  /// The function of a kernel record (requires load()).
  metac_kernel_fn function(const KernelRecord &R) const;

  /// The simulator of a program whose environment has a `simulator`
  /// record, once runMain (or a test) has attached it; null otherwise.
  const Simulator *simulator() const { return Sim.get(); }
  void attachSimulator(std::shared_ptr<const Simulator> S) {
    Sim = std::move(S);
  }

private:
  void validate();
  void validateEnvironment(const EnvironmentSpec &E);

  std::string Text;
  uint64_t Hash = 0;
  std::string Name;
  std::vector<Parameter> Params;
  std::vector<DataTensor> Data;
  std::vector<KernelRecord> Kernels;
  Settings Config;
  OptimizerSpec Optim;
  TaskSourceSpec Source;
  EnvironmentSpec Env;
  std::vector<std::string> Metrics;
  int64_t FlatSize = 0;
  int64_t ModelFlatSize = 0;
  const metac_kernel_fn *Table = nullptr;
  std::shared_ptr<const Simulator> Sim;

  friend class DescriptorParser;
};

/// The spelling of a kernel record as it appears in a descriptor, e.g.
/// "meta_grad 10 10"; used in messages.
std::string describeKernel(KernelRecord::Kind K, int64_t N0, int64_t N1);

} // namespace metac::runtime

#endif // METAC_RUNTIME_PROGRAM_H
