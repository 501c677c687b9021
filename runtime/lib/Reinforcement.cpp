//===- Reinforcement.cpp - Meta-RL: rollouts, training and evaluation -----===//

#include "metac/runtime/Reinforcement.h"
#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Init.h"
#include "metac/runtime/PolicyGradient.h"
#include "metac/runtime/Rng.h"
#include "metac/runtime/Simulator.h"
#include "metac/runtime/Trainer.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace metac::runtime;

namespace {

/// Keys of the draws of one rollout: start states, actions, per-step draws
/// of the dynamics. Distinct domains of the rollout key.
enum RolloutDomain : uint64_t {
  StartDraws = 1,
  ActionDraws = 2,
  StepDraws = 3
};

[[noreturn]] void nonFinite(const Program &P, const std::string &What,
                            double Value, int64_t Episode, int64_t Step,
                            const std::string &Where) {
  // NaN's sign bit is noise; print it as plain "nan".
  std::string Text = std::isnan(Value) ? "nan" : fmt::format("{}", Value);
  throw Error(fmt::format("environment '{}': non-finite {} ({}) in episode "
                          "{}, step {} ({})",
                          P.environment()->Name, What, Text, Episode, Step,
                          Where),
              ExitNonFinite);
}

} // namespace

void metac::runtime::extractModel(const Program &P, const float *Flat,
                                  float *Model) {
  for (const Parameter &Param : P.parameters())
    if (!Param.IsMeta)
      std::copy_n(Flat + Param.Offset, Param.Size, Model + Param.ModelOffset);
}

void metac::runtime::insertModel(const Program &P, const float *Model,
                                 float *Flat) {
  for (const Parameter &Param : P.parameters())
    if (!Param.IsMeta)
      std::copy_n(Model + Param.ModelOffset, Param.Size, Flat + Param.Offset);
}

double metac::runtime::rollout(const Program &P, uint64_t TaskKey,
                               uint64_t RolloutKey, const float *ModelParams,
                               int64_t Round, TaskSplit &Split,
                               const std::string &Where) {
  const EnvironmentSpec &Env = *P.environment();
  const int64_t T = Env.Horizon, E = Split.rows() / T;
  const int64_t O = Env.ObsDim, A = Env.ActDim;
  const KernelRecord &Policy = P.requireKernel(KernelRecord::Policy, E);
  // A simulator's environment: the simulator starts and advances the
  // episodes, the `reward` kernel scores the steps.
  std::unique_ptr<SimulatorEpisodes> Sim;
  if (Env.Sim) {
    if (!P.simulator())
      throw Error(fmt::format("environment '{}' needs its simulator, which is "
                              "not attached",
                              Env.Name));
    Sim = P.simulator()->start(E);
  }
  const KernelRecord &Step =
      P.requireKernel(Sim ? KernelRecord::Reward : KernelRecord::Step, E);

  float *Obs = Split.tensor(FieldObs), *Act = Split.tensor(FieldAct);
  float *Reward = Split.tensor(FieldReward), *Mask = Split.tensor(FieldMask);
  float *LogP = Split.tensor(FieldLogProb);
  // Gaussian: the mean then the log-std; categorical: the logits.
  const bool Categorical = Env.Policy == EnvironmentSpec::Categorical;
  float *Mean = Split.tensor(FieldPolicy);
  float *LogStd = Categorical ? nullptr : Split.tensor(FieldPolicy + 1);
  for (size_t I = 0; I < P.data().size(); ++I)
    std::fill_n(Split.tensor(I), P.dataSize(I, Split.rows()), 0.0f);
  std::fill_n(Split.tensor(P.data().size() - 1), Split.rows(),
              static_cast<float>(Round));

  // Kernels see one time step of all episodes ([E, ...]); the split stores
  // episode-major rows e * T + t, so each step is scattered into place.
  std::vector<float> Now(E * O), Next(E * O), StepMean(E * A),
      StepLogStd(E * A), Action(E * A), StepReward(E), Done(E), StepLogP(E);
  std::vector<char> Alive(E, 1);
  if (Sim) {
    int64_t Failed = 0;
    std::string Why =
        Sim->reset(rng::CounterRng(rng::combine(RolloutKey, StartDraws)),
                   Now.data(), Failed);
    if (!Why.empty())
      throw Error(fmt::format("environment '{}': {} in episode {}, at its "
                              "start ({})",
                              Env.Name, Why, Failed, Where),
                  ExitNonFinite);
  } else
    callReset(P, P.requireKernel(KernelRecord::Reset, E), TaskKey,
              rng::combine(RolloutKey, StartDraws), Now.data());
  const rng::CounterRng Noise(rng::combine(RolloutKey, ActionDraws));
  const uint64_t StepKeys = rng::combine(RolloutKey, StepDraws);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t e = 0; e < E; ++e)
      for (int64_t j = 0; j < O; ++j)
        if (Alive[e] && !std::isfinite(Now[e * O + j]))
          nonFinite(P, "observation", Now[e * O + j], e, t, Where);
    callPolicy(P, Policy, ModelParams, Now.data(), StepMean.data(),
               Categorical ? nullptr : StepLogStd.data());
    for (int64_t e = 0; e < E; ++e) {
      if (!Alive[e])
        continue;
      if (Categorical) {
        for (int64_t j = 0; j < A; ++j)
          if (!std::isfinite(StepMean[e * A + j]))
            nonFinite(P, "policy logit", StepMean[e * A + j], e, t, Where);
        // One uniform number per step and episode picks the action.
        StepLogP[e] = static_cast<float>(categoricalSample(
            &StepMean[e * A], A,
            Noise.uniform(static_cast<uint64_t>(t * E + e)), &Action[e * A]));
        continue;
      }
      for (int64_t j = 0; j < A; ++j) {
        int64_t K = e * A + j;
        if (!std::isfinite(StepMean[K]) || !std::isfinite(StepLogStd[K]))
          nonFinite(
              P, std::isfinite(StepMean[K]) ? "policy log-std" : "policy mean",
              std::isfinite(StepMean[K]) ? StepLogStd[K] : StepMean[K], e, t,
              Where);
        double Z = Noise.normal(static_cast<uint64_t>((t * E + e) * A + j));
        Action[K] =
            static_cast<float>(StepMean[K] + std::exp(StepLogStd[K]) * Z);
        if (!std::isfinite(Action[K]))
          nonFinite(P, "action", Action[K], e, t, Where);
      }
      StepLogP[e] = static_cast<float>(gaussianLogProb(
          &Action[e * A], &StepMean[e * A], &StepLogStd[e * A], A));
    }
    if (Sim) {
      int64_t Failed = 0;
      std::string Why =
          Sim->step(Action.data(), Alive.data(), Next.data(), Failed);
      if (!Why.empty())
        throw Error(fmt::format("environment '{}': {} in episode {}, step {} "
                                "({})",
                                Env.Name, Why, Failed, t, Where),
                    ExitNonFinite);
      callReward(P, Step, TaskKey, rng::combine(StepKeys, t), Now.data(),
                 Action.data(), Next.data(), StepReward.data(), Done.data());
    } else {
      callStep(P, Step, TaskKey, rng::combine(StepKeys, t), Now.data(),
               Action.data(), Next.data(), StepReward.data(), Done.data());
    }
    bool Any = false;
    for (int64_t e = 0; e < E; ++e) {
      if (!Alive[e]) {
        // Ended episodes stay where they ended, so the batched kernels
        // never see a state the environment would not have reached.
        std::copy_n(&Now[e * O], O, &Next[e * O]);
        continue;
      }
      if (!std::isfinite(StepReward[e]))
        nonFinite(P, "reward", StepReward[e], e, t, Where);
      int64_t R = e * T + t;
      std::copy_n(&Now[e * O], O, Obs + R * O);
      std::copy_n(&Action[e * A], A, Act + R * A);
      std::copy_n(&StepMean[e * A], A, Mean + R * A);
      if (LogStd)
        std::copy_n(&StepLogStd[e * A], A, LogStd + R * A);
      LogP[R] = StepLogP[e];
      Reward[R] = StepReward[e];
      Mask[R] = 1;
      // The step that ends an episode still counts (its reward is real).
      if (Done[e] != 0)
        Alive[e] = 0;
      Any |= Alive[e] != 0;
    }
    if (!Any)
      break;
    Now.swap(Next);
  }

  float *Returns = Split.tensor(FieldReturn);
  float *Adv = Split.tensor(FieldAdvantage);
  discountedReturns(Reward, Mask, E, T, Env.Discount, Returns);
  LinearFeatureBaseline Baseline;
  Baseline.fit(Obs, O, Returns, Mask, E, T);
  std::vector<float> Values(E * T);
  Baseline.predict(Obs, O, E, T, Values.data());
  gaeAdvantages(Reward, Values.data(), Mask, E, T, Env.Discount, Env.GaeLambda,
                Adv);
  normalizeAdvantages(Adv, Mask, E * T);

  double Total = 0;
  for (int64_t R = 0; R < E * T; ++R)
    Total += Mask[R] != 0 ? Reward[R] : 0.0;
  return Total / static_cast<double>(E);
}

RolloutRate metac::runtime::measureRollouts(const Program &P, ThreadPool &Pool,
                                            const float *FlatParams,
                                            uint64_t Seed, int64_t Tasks) {
  std::vector<float> Model(P.numModelParameters());
  extractModel(P, FlatParams, Model.data());
  const unsigned Workers = std::max(1u, Pool.size());
  std::vector<TaskSplit> Splits;
  for (unsigned W = 0; W < Workers; ++W)
    Splits.emplace_back(P, P.settings().Support);
  std::vector<int64_t> Steps(Tasks, 0);
  auto Start = std::chrono::steady_clock::now();
  // Each worker reuses one trajectory buffer for its share of the tasks.
  Pool.parallelFor(Workers, [&](size_t W) {
    for (int64_t I = static_cast<int64_t>(W); I < Tasks; I += Workers) {
      uint64_t TaskKey = rng::trainTaskKey(Seed, 0, static_cast<uint64_t>(I));
      rollout(P, TaskKey, rng::supportDataKey(TaskKey), Model.data(), 0,
              Splits[W], fmt::format("rollout of task {}", I));
      const float *Mask = Splits[W].tensor(FieldMask);
      for (int64_t R = 0; R < Splits[W].rows(); ++R)
        Steps[I] += Mask[R] != 0;
    }
  });
  RolloutRate Rate;
  Rate.Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  Rate.Tasks = Tasks;
  for (int64_t S : Steps)
    Rate.Steps += S;
  return Rate;
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

RlTrainer::RlTrainer(const Program &P, ThreadPool &Pool, uint64_t Seed)
    : P(P), Pool(Pool),
      Adapt(P.requireKernel(KernelRecord::Adapt, P.settings().Support)),
      MetaGrad(P.requireKernel(KernelRecord::MetaGrad, P.settings().Support,
                               P.settings().Query)),
      Seed(Seed), Params(P.numParameters()), MeanGrad(P.numParameters()) {
  if (P.optimizer().K == OptimizerSpec::Trpo) {
    Hvp = &P.requireKernel(P.optimizer().HvpEps > 0 ? KernelRecord::TrpoKlGrad
                                                    : KernelRecord::TrpoHvp,
                           P.settings().Support, P.settings().Query);
    Surrogate = &P.requireKernel(KernelRecord::Surrogate, P.settings().Support,
                                 P.settings().Query);
  } else {
    Optim = Optimizer::create(P.optimizer(), P.numParameters());
  }
  initializeParameters(P, Seed, Params.data());
  Slots.resize(P.settings().MetaBatch);
  for (Slot &S : Slots) {
    S.Support = TaskSplit(P, P.settings().Support);
    S.Query = TaskSplit(P, P.settings().Query);
    S.Model.assign(P.numModelParameters(), 0.0f);
    S.Adapted.assign(P.numModelParameters(), 0.0f);
    S.Grad.assign(P.numParameters(), 0.0f);
    S.Out.assign(P.numParameters(), 0.0f);
  }
}

void RlTrainer::restore(const Checkpoint &C) {
  restoreTrainingState(C, Params, Iteration, Seed, Optim.get());
}

Checkpoint RlTrainer::snapshot() const {
  return trainingState(P, Iteration, Seed, Params, Optim.get());
}

void RlTrainer::meanOverSlots(std::vector<float> Slot::*Field, float *Out) {
  std::vector<const float *> Rows;
  for (const Slot &S : Slots)
    Rows.push_back((S.*Field).data());
  meanInOrder(Pool, Rows, P.numParameters(), Out);
}

static std::string describeTask(int64_t Iteration, size_t Task) {
  return fmt::format("iteration {}, task {}", Iteration, Task);
}

static void checkFinite(const std::vector<float> &V, const char *What,
                        const std::string &Where) {
  Eigen::Map<const Eigen::ArrayXf> A(V.data(), V.size());
  if (!A.isFinite().all())
    throw Error(fmt::format("non-finite {} ({})", What, Where), ExitNonFinite);
}

RlIteration RlTrainer::step() {
  const uint64_t It = static_cast<uint64_t>(Iteration);
  Pool.parallelFor(Slots.size(), [&](size_t I) {
    Slot &S = Slots[I];
    std::string Where = describeTask(Iteration + 1, I);
    uint64_t TaskKey = rng::trainTaskKey(Seed, It, I);
    extractModel(P, Params.data(), S.Model.data());
    S.PreReturn = rollout(P, TaskKey, rng::supportDataKey(TaskKey),
                          S.Model.data(), 0, S.Support, Where);
    callAdapt(P, Adapt, Params.data(), S.Support.pointers(), S.Adapted.data());
    checkFinite(S.Adapted, "adapted parameters", Where);
    S.PostReturn = rollout(P, TaskKey, rng::queryDataKey(TaskKey),
                           S.Adapted.data(), 1, S.Query, Where);
    S.Loss = callMetaGrad(P, MetaGrad, Params.data(), S.Support.pointers(),
                          S.Query.pointers(), S.Grad.data());
  });
  RlIteration R;
  for (size_t I = 0; I < Slots.size(); ++I) {
    std::string Where = describeTask(Iteration + 1, I);
    if (!std::isfinite(Slots[I].Loss))
      throw Error(
          fmt::format("non-finite loss ({}) ({})", Slots[I].Loss, Where),
          ExitNonFinite);
    checkFinite(Slots[I].Grad, "meta-gradient", Where);
    R.Loss += Slots[I].Loss;
    R.PreReturn += Slots[I].PreReturn;
    R.PostReturn += Slots[I].PostReturn;
  }
  double B = static_cast<double>(Slots.size());
  R.Loss /= B;
  R.PreReturn /= B;
  R.PostReturn /= B;
  meanOverSlots(&Slot::Grad, MeanGrad.data());
  if (Optim) {
    Optim->step(Params.data(), MeanGrad.data());
    // Later epochs: the same trajectories, the meta-gradient at the updated
    // parameters (an objective with likelihood ratios to q.logp, such as
    // PPO's clipped one, accounts for the policy having moved).
    for (int64_t Epoch = 1; Epoch < P.optimizer().Epochs; ++Epoch) {
      Pool.parallelFor(Slots.size(), [&](size_t I) {
        Slot &S = Slots[I];
        S.Loss = callMetaGrad(P, MetaGrad, Params.data(), S.Support.pointers(),
                              S.Query.pointers(), S.Grad.data());
      });
      for (size_t I = 0; I < Slots.size(); ++I) {
        std::string Where = fmt::format("iteration {}, epoch {}, task {}",
                                        Iteration + 1, Epoch + 1, I);
        if (!std::isfinite(Slots[I].Loss))
          throw Error(
              fmt::format("non-finite loss ({}) ({})", Slots[I].Loss, Where),
              ExitNonFinite);
        checkFinite(Slots[I].Grad, "meta-gradient", Where);
      }
      meanOverSlots(&Slot::Grad, MeanGrad.data());
      Optim->step(Params.data(), MeanGrad.data());
    }
  } else {
    trpoStep(R);
  }
  checkFinite(Params, "parameters after the update",
              fmt::format("iteration {}", Iteration + 1));
  ++Iteration;
  return R;
}

void RlTrainer::hessianVector(const float *V, float *Out) {
  const int64_t N = P.numParameters();
  const float HvpEps = P.optimizer().HvpEps;
  if (HvpEps > 0) {
    // rllab's FiniteDifferenceHvp: (g(theta + e v) - g(theta - e v)) / 2e,
    // g the mean gradient of the KL, e = HvpEps / (|theta| + 1e-8). With
    // the authors' HvpEps = 1 the difference spans about a trust-region
    // step, so it sees the KL's curvature over the step, not only at theta.
    double Norm = 0;
    for (float X : Params)
      Norm += double(X) * X;
    const float E = static_cast<float>(HvpEps / (std::sqrt(Norm) + 1e-8));
    std::vector<float> Shifted(N), Plus(N);
    auto KlGradient = [&](float Sign, float *Mean) {
      for (int64_t K = 0; K < N; ++K)
        Shifted[K] = Params[K] + Sign * E * V[K];
      Pool.parallelFor(Slots.size(), [&](size_t I) {
        Slot &S = Slots[I];
        callTrpoKlGrad(P, *Hvp, Shifted.data(), S.Support.pointers(),
                       S.Query.pointers(), S.Out.data());
      });
      for (size_t I = 0; I < Slots.size(); ++I)
        checkFinite(Slots[I].Out, "gradient of the trust region's KL",
                    describeTask(Iteration + 1, I));
      meanOverSlots(&Slot::Out, Mean);
    };
    KlGradient(1, Plus.data());
    KlGradient(-1, Out);
    for (int64_t K = 0; K < N; ++K)
      Out[K] = (Plus[K] - Out[K]) / (2 * E);
  } else {
    Pool.parallelFor(Slots.size(), [&](size_t I) {
      Slot &S = Slots[I];
      callTrpoHvp(P, *Hvp, Params.data(), S.Support.pointers(),
                  S.Query.pointers(), V, S.Out.data());
    });
    for (size_t I = 0; I < Slots.size(); ++I)
      checkFinite(Slots[I].Out, "Hessian-vector product of the trust region",
                  describeTask(Iteration + 1, I));
    meanOverSlots(&Slot::Out, Out);
  }
  const float Damping = P.optimizer().Damping;
  for (int64_t K = 0; K < N; ++K)
    Out[K] += Damping * V[K];
}

void RlTrainer::trpoStep(RlIteration &R) {
  // rllab's ConjugateGradientOptimizer: solve H s = g, scale s so that the
  // quadratic model of the KL reaches max_kl, then backtrack until the
  // objective improves and the actual KL is within the bound.
  const OptimizerSpec &O = P.optimizer();
  const int64_t N = P.numParameters();
  std::vector<float> Dir(N), HDir(N);
  auto Hv = [&](const float *V, float *Out) { hessianVector(V, Out); };
  conjugateGradient(Hv, MeanGrad.data(), N, static_cast<int>(O.CgIters), 1e-10,
                    Dir.data());
  hessianVector(Dir.data(), HDir.data());
  double Curvature = 0;
  for (int64_t K = 0; K < N; ++K)
    Curvature += double(Dir[K]) * HDir[K];
  R.Accepted = false;
  if (!(Curvature > 0) || !std::isfinite(Curvature))
    return;
  const double Scale = std::sqrt(2.0 * O.MaxKl / Curvature);
  // The mean objective and KL at the current parameters, by the kernel
  // the search uses (meta_grad's loss may differ in the last bits).
  auto Evaluate = [&](double &Loss, double &Kl) {
    std::vector<float> Values(2 * Slots.size());
    Pool.parallelFor(Slots.size(), [&](size_t I) {
      Slot &S = Slots[I];
      callSurrogate(P, *Surrogate, Params.data(), S.Support.pointers(),
                    S.Query.pointers(), &Values[2 * I]);
    });
    Loss = Kl = 0;
    for (size_t I = 0; I < Slots.size(); ++I) {
      Loss += Values[2 * I];
      Kl += Values[2 * I + 1];
    }
    Loss /= double(Slots.size());
    Kl /= double(Slots.size());
  };
  double LossBefore, KlBefore;
  Evaluate(LossBefore, KlBefore);
  const std::vector<float> Before = Params;
  for (int64_t Try = 0; Try < O.LineSearch; ++Try) {
    double Fraction = Scale * std::pow(double(O.Backtrack), double(Try));
    for (int64_t K = 0; K < N; ++K)
      Params[K] = static_cast<float>(Before[K] - Fraction * Dir[K]);
    double Loss, Kl;
    Evaluate(Loss, Kl);
    if (std::isfinite(Loss) && std::isfinite(Kl) && Loss < LossBefore &&
        Kl <= O.MaxKl) {
      R.Accepted = true;
      R.Kl = Kl;
      R.Backtracks = static_cast<int>(Try);
      return;
    }
  }
  Params = Before;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

std::vector<ReturnRow> metac::runtime::evaluateReturns(const Program &P,
                                                       ThreadPool &Pool,
                                                       const float *FlatParams,
                                                       uint64_t Seed,
                                                       int64_t Tasks) {
  const Settings &S = P.settings();
  const int64_t Rows = S.EvalQuery;
  const KernelRecord &Adapt = P.requireKernel(KernelRecord::Adapt, Rows);
  const int64_t Rounds =
      *std::max_element(S.EvalSteps.begin(), S.EvalSteps.end());
  // Returns[task][k]: after k rounds of adaptation.
  std::vector<std::vector<double>> Returns(Tasks,
                                           std::vector<double>(Rounds + 1));
  Pool.parallelFor(static_cast<size_t>(Tasks), [&](size_t Task) {
    uint64_t TaskKey = rng::evalTaskKey(Seed, Task, Rows);
    std::vector<float> Flat(FlatParams, FlatParams + P.numParameters());
    std::vector<float> Model(P.numModelParameters());
    extractModel(P, Flat.data(), Model.data());
    TaskSplit Split(P, Rows);
    for (int64_t K = 0; K <= Rounds; ++K) {
      std::string Where = fmt::format("evaluation task {}, after {} step{}",
                                      Task, K, K == 1 ? "" : "s");
      Returns[Task][K] = rollout(P, TaskKey, rng::combine(TaskKey, K + 1),
                                 Model.data(), K, Split, Where);
      if (K == Rounds)
        break;
      // The next round starts from the adapted model; meta-parameters stay.
      insertModel(P, Model.data(), Flat.data());
      callAdapt(P, Adapt, Flat.data(), Split.pointers(), Model.data());
    }
  });
  std::vector<ReturnRow> Out;
  for (int64_t K : S.EvalSteps) {
    ReturnRow Row;
    Row.Steps = K;
    Row.Tasks = Tasks;
    std::vector<double> Values;
    for (const auto &T : Returns)
      Values.push_back(T[K]);
    Row.Return = meanAndCi95(Values);
    Out.push_back(Row);
  }
  return Out;
}
