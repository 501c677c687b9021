//===- TrainerTest.cpp - Training loop determinism and failure modes ------===//

#include "TestUtil.h"

#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Evaluator.h"
#include "metac/runtime/Rng.h"
#include "metac/runtime/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

struct TrainResult {
  std::vector<double> Losses;
  std::vector<float> Params;
};

TrainResult train(unsigned Threads, int Iterations, uint64_t Seed = 1) {
  ThreadPool Pool(Threads);
  Trainer T(fakeProgram(), Pool, Seed);
  TrainResult R;
  for (int I = 0; I < Iterations; ++I)
    R.Losses.push_back(T.step());
  R.Params = T.parameters();
  return R;
}

bool sameBytes(const std::vector<float> &A, const std::vector<float> &B) {
  return A.size() == B.size() &&
         std::memcmp(A.data(), B.data(), A.size() * sizeof(float)) == 0;
}

} // namespace

TEST(TrainerTest, ResultsDoNotDependOnThreadCount) {
  TrainResult One = train(1, 40), Two = train(2, 40), Three = train(3, 40);
  EXPECT_TRUE(sameBytes(One.Params, Two.Params));
  EXPECT_TRUE(sameBytes(One.Params, Three.Params));
  EXPECT_EQ(One.Losses, Two.Losses);
  EXPECT_EQ(One.Losses, Three.Losses);
}

TEST(TrainerTest, SeedChangesTheRun) {
  EXPECT_FALSE(sameBytes(train(1, 5, 1).Params, train(1, 5, 2).Params));
}

TEST(TrainerTest, MetaTrainingImprovesAdaptation) {
  // The fake program learns its inner step size: after meta-training, one
  // inner step on 5 examples must fit new tasks clearly better.
  const Program &P = fakeProgram();
  ThreadPool Pool(2);
  Trainer T(P, Pool, 1);
  std::vector<float> Initial = T.parameters();
  for (int I = 0; I < 300; ++I)
    T.step();
  Evaluator E(P, Pool);
  double Before = E.run(Initial.data(), 1, 200)[1].Loss.Mean;
  double After = E.run(T.parameters().data(), 1, 200)[1].Loss.Mean;
  EXPECT_LT(After, 0.7 * Before);
}

TEST(TrainerTest, SnapshotAndRestoreContinueExactly) {
  ThreadPool Pool(2);
  Trainer Straight(fakeProgram(), Pool, 4);
  for (int I = 0; I < 20; ++I)
    Straight.step();

  Trainer First(fakeProgram(), Pool, 4);
  for (int I = 0; I < 10; ++I)
    First.step();
  // Through the bytes of a checkpoint, as --resume does.
  Checkpoint C = decodeCheckpoint(encodeCheckpoint(First.snapshot()), "mem");
  Trainer Second(fakeProgram(), Pool, 999);
  Second.restore(C);
  EXPECT_EQ(Second.iteration(), 10);
  EXPECT_EQ(Second.seed(), 4u);
  for (int I = 0; I < 10; ++I)
    Second.step();
  EXPECT_TRUE(sameBytes(Straight.parameters(), Second.parameters()));
  EXPECT_EQ(Straight.optimizer().state(), Second.optimizer().state());
}

// A program whose kernels misbehave for chosen tasks: the sample kernel
// stores the task key in the data, and meta_grad poisons its output when it
// recognises a key from the list.
namespace {

std::vector<uint64_t> PoisonedKeys;
bool PoisonLoss = false;

void keySample(void **Args) {
  uint64_t Key;
  std::memcpy(&Key, Args[0], 8);
  std::memcpy(Args[2], &Key, 8); // `data k 2`: two floats of key bits.
}

void poisonedMetaGrad(void **Args) {
  // [a, b, support k, query k, loss, grad a, grad b]
  uint64_t Key;
  std::memcpy(&Key, Args[2], 8);
  bool Poisoned = std::find(PoisonedKeys.begin(), PoisonedKeys.end(), Key) !=
                  PoisonedKeys.end();
  *static_cast<float *>(Args[4]) = Poisoned && PoisonLoss ? NAN : 1.0f;
  static_cast<float *>(Args[5])[0] = 0.1f;
  static_cast<float *>(Args[5])[1] = 0.1f;
  *static_cast<float *>(Args[6]) = Poisoned && !PoisonLoss ? INFINITY : 0.2f;
}

const char *PoisonDescriptor = "metac-program 1\nname poison\n"
                               "param a 2 zeros\nparam b scalar zeros\n"
                               "data k 2\n"
                               "setting support 1\nsetting query 1\n"
                               "setting meta_batch 5\nsetting train 10\n"
                               "optimizer sgd lr 0.1 momentum 0\n"
                               "kernel 0 sample 1\nkernel 1 meta_grad 1 1\n"
                               "end\n";
const metac_kernel_fn PoisonKernels[] = {keySample, poisonedMetaGrad};

std::string failureOf(unsigned Threads, int Iterations) {
  Program P = Program::load(PoisonDescriptor, PoisonKernels);
  ThreadPool Pool(Threads);
  Trainer T(P, Pool, 1);
  try {
    for (int I = 0; I < Iterations; ++I)
      T.step();
  } catch (const Error &E) {
    EXPECT_EQ(E.exitCode(), ExitNonFinite);
    EXPECT_EQ(T.iteration(), 2) << "the failing update is not applied";
    return E.what();
  }
  return "";
}

} // namespace

TEST(TrainerTest, NonFiniteGradientNamesParameterIterationAndTask) {
  // Tasks 3 and 1 of the third iteration (0-based index 2).
  PoisonedKeys = {rng::trainTaskKey(1, 2, 3), rng::trainTaskKey(1, 2, 1)};
  PoisonLoss = false;
  for (unsigned Threads : {1u, 2u, 4u})
    EXPECT_EQ(failureOf(Threads, 5),
              "non-finite gradient for parameter b at iteration 3 (task 1)")
        << Threads << " threads";
}

TEST(TrainerTest, NonFiniteLossNamesIterationAndTask) {
  PoisonedKeys = {rng::trainTaskKey(1, 2, 4)};
  PoisonLoss = true;
  EXPECT_EQ(failureOf(2, 5), "non-finite loss (nan) at iteration 3 (task 4)");
}

// The update is the mean of the tasks' gradients: a meta_grad whose gradient
// is a function of the task key, seven tasks (so no block split lines up with
// the summation tree for 2 to 4 threads), and one plain SGD step from zero.
namespace {

float keyGradient(uint64_t Key, int Entry) {
  return static_cast<float>((Key >> (8 * Entry)) & 0xff) / 16.0f - 8.0f;
}

void keyedMetaGrad(void **Args) {
  // [a, b, support k, query k, loss, grad a, grad b]
  uint64_t Key;
  std::memcpy(&Key, Args[2], 8);
  *static_cast<float *>(Args[4]) = 1.0f;
  static_cast<float *>(Args[5])[0] = keyGradient(Key, 0);
  static_cast<float *>(Args[5])[1] = keyGradient(Key, 1);
  *static_cast<float *>(Args[6]) = keyGradient(Key, 2);
}

const char *KeyedDescriptor = "metac-program 1\nname keyed\n"
                              "param a 2 zeros\nparam b scalar zeros\n"
                              "data k 2\n"
                              "setting support 1\nsetting query 1\n"
                              "setting meta_batch 7\nsetting train 10\n"
                              "optimizer sgd lr 1 momentum 0\n"
                              "kernel 0 sample 1\nkernel 1 meta_grad 1 1\n"
                              "end\n";
const metac_kernel_fn KeyedKernels[] = {keySample, keyedMetaGrad};

/// Expects T's parameters to be one SGD step (lr 1, from zero) along the
/// mean of the keyed gradients of iteration 0's seven tasks (seed 5).
void expectOneMeanStep(const Trainer &T, const std::string &Context) {
  for (int Entry = 0; Entry < 3; ++Entry) {
    double Sum = 0;
    for (uint64_t Task = 0; Task < 7; ++Task)
      Sum += keyGradient(rng::trainTaskKey(5, 0, Task), Entry);
    EXPECT_NEAR(T.parameters()[Entry], -Sum / 7, 1e-5)
        << Context << ", entry " << Entry;
  }
}

} // namespace

TEST(TrainerTest, UpdateIsTheMeanOfTheTaskGradients) {
  Program P = Program::load(KeyedDescriptor, KeyedKernels);
  for (unsigned Threads : {1u, 2u, 3u, 4u, 7u}) {
    ThreadPool Pool(Threads);
    Trainer T(P, Pool, 5);
    T.step();
    expectOneMeanStep(T, std::to_string(Threads) + " threads");
  }
}

namespace {

/// The program's tasks, except that one task's data cannot be read once.
class FailingOnceSource : public TaskSource {
public:
  FailingOnceSource(const Program &P, uint64_t FailingKey)
      : Inner(P), FailingKey(FailingKey) {}
  void sample(uint64_t TaskKey, Phase Ph, TaskSplit &Support,
              TaskSplit &Query) const override {
    if (TaskKey == FailingKey && !Failed.exchange(true))
      throw Error("cannot read the task's data");
    Inner.sample(TaskKey, Ph, Support, Query);
  }

private:
  KernelTaskSource Inner;
  uint64_t FailingKey;
  mutable std::atomic<bool> Failed{false};
};

} // namespace

TEST(TrainerTest, StepAfterAFailedStepIsExact) {
  // A task that throws leaves its block unfinished and its nodes of the
  // summation tree with one arrival; the next step must still sum every
  // task exactly once.
  Program P = Program::load(KeyedDescriptor, KeyedKernels);
  for (unsigned Threads : {1u, 2u, 3u, 4u, 7u}) {
    for (uint64_t Failing : {0u, 3u, 6u}) {
      ThreadPool Pool(Threads);
      FailingOnceSource Source(P, rng::trainTaskKey(5, 0, Failing));
      Trainer T(P, Pool, 5, &Source);
      EXPECT_THROW(T.step(), Error);
      T.step();
      expectOneMeanStep(T, std::to_string(Threads) + " threads, task " +
                               std::to_string(Failing) + " failed");
    }
  }
}
