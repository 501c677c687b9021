//===- Trainer.cpp - The meta-training loop -------------------------------===//

#include "metac/runtime/Trainer.h"
#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Init.h"
#include "metac/runtime/Rng.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace metac::runtime;

Trainer::Trainer(const Program &P, ThreadPool &Pool, uint64_t Seed,
                 const TaskSource *Source)
    : P(P), Pool(Pool),
      OwnSource(Source ? nullptr : std::make_unique<KernelTaskSource>(P)),
      Source(Source ? *Source : *OwnSource),
      MetaGrad(P.requireKernel(KernelRecord::MetaGrad, P.settings().Support,
                               P.settings().Query)),
      Seed(Seed), Params(P.numParameters()), MeanGrad(P.numParameters()),
      Optim(Optimizer::create(P.optimizer(), P.numParameters())) {
  initializeParameters(P, Seed, Params.data());
  const Settings &S = P.settings();
  Slots.resize(S.MetaBatch);
  LeafParent.resize(S.MetaBatch);
  buildTree(0, static_cast<uint32_t>(S.MetaBatch), NoNode);
  Arrivals = std::make_unique<Counter[]>(Tree.size());
  NextInBlock = std::make_unique<Counter[]>(Pool.size());
  resetCounters();
  for (Slot &Sl : Slots) {
    Sl.Support = TaskSplit(P, S.Support);
    Sl.Query = TaskSplit(P, S.Query);
    Sl.Grad.assign(P.numParameters(), 0.0f);
  }
}

void Trainer::restore(const Checkpoint &C) {
  restoreTrainingState(C, Params, Iteration, Seed, Optim.get());
}

Checkpoint Trainer::snapshot() const {
  return trainingState(P, Iteration, Seed, Params, Optim.get());
}

Checkpoint metac::runtime::trainingState(const Program &P, int64_t Iteration,
                                         uint64_t Seed,
                                         const std::vector<float> &Params,
                                         const Optimizer *Optim) {
  Checkpoint C;
  C.ProgramHash = P.hash();
  C.Iteration = static_cast<uint64_t>(Iteration);
  C.Seed = Seed;
  C.Params = Params;
  C.OptimizerKind = static_cast<uint32_t>(P.optimizer().K);
  if (Optim) {
    C.OptimizerSteps = Optim->steps();
    C.OptimizerState = Optim->state();
  }
  return C;
}

void metac::runtime::restoreTrainingState(const Checkpoint &C,
                                          std::vector<float> &Params,
                                          int64_t &Iteration, uint64_t &Seed,
                                          Optimizer *Optim) {
  if (C.Params.size() != Params.size())
    throw Error("internal error: checkpoint size was not checked");
  if (Optim)
    Optim->restore(C.OptimizerSteps, C.OptimizerState);
  Params = C.Params;
  Iteration = static_cast<int64_t>(C.Iteration);
  Seed = C.Seed;
}

/// The parameter that holds flat index Index.
static const Parameter &parameterAt(const Program &P, int64_t Index) {
  for (const Parameter &Param : P.parameters())
    if (Index < Param.Offset + Param.Size)
      return Param;
  return P.parameters().back();
}

static int64_t firstNonFinite(const float *Data, size_t Size) {
  // An exponent of all ones is Inf or NaN. An OR over every entry, with no
  // early exit, vectorises; Eigen's isFinite().all() ran one scalar compare
  // per entry, 5% of sinusoid MAML's training time.
  uint32_t AllOnes = 0;
  for (size_t I = 0; I < Size; ++I) {
    uint32_t Bits;
    std::memcpy(&Bits, Data + I, sizeof Bits);
    AllOnes |= (Bits & 0x7f800000u) == 0x7f800000u;
  }
  if (!AllOnes)
    return -1;
  for (size_t I = 0; I < Size; ++I)
    if (!std::isfinite(Data[I]))
      return static_cast<int64_t>(I);
  return -1;
}

/// Asks for every cache line of Data[0, N) at once. A line another core
/// wrote or holds takes 125-300 ns to arrive here (a round trip between
/// this machine's two cores measures 250-600 ns, depending on where the
/// host places them); requested one at a time, as
/// a loop reaches them, the 110 lines of sinusoid MAML's parameters cost
/// the second thread's first task several microseconds per iteration.
static void prefetchLines(const float *Data, size_t N, bool Write) {
  for (size_t I = 0; I < N; I += 16) {
    if (Write)
      __builtin_prefetch(Data + I, 1, 3);
    else
      __builtin_prefetch(Data + I, 0, 3);
  }
}

void Trainer::checkSlot(size_t Index) const {
  const Slot &Sl = Slots[Index];
  // Iterations are numbered from 1 for the user: iteration N is the N-th
  // update, the one that completes N iterations.
  if (!std::isfinite(Sl.Loss))
    throw Error(fmt::format("non-finite loss ({}) at iteration {} (task {})",
                            Sl.Loss, Iteration + 1, Index),
                ExitNonFinite);
  if (Sl.FirstBad >= 0)
    throw Error(fmt::format("non-finite gradient for parameter {} at "
                            "iteration {} (task {})",
                            parameterAt(P, Sl.FirstBad).Name, Iteration + 1,
                            Index),
                ExitNonFinite);
}

void Trainer::runSlot(size_t I) {
  Slot &Sl = Slots[I];
  uint64_t TaskKey =
      rng::trainTaskKey(Seed, static_cast<uint64_t>(Iteration), I);
  Source.sample(TaskKey, Phase::Training, Sl.Support, Sl.Query);
  Sl.Loss = callMetaGrad(P, MetaGrad, Params.data(), Sl.Support.pointers(),
                         Sl.Query.pointers(), Sl.Grad.data());
  Sl.FirstBad = firstNonFinite(Sl.Grad.data(), Sl.Grad.size());
}

uint32_t Trainer::buildTree(uint32_t Lo, uint32_t Hi, uint32_t Parent) {
  if (Hi - Lo == 1) {
    LeafParent[Lo] = Parent;
    return NoNode;
  }
  // The larger half first, like the threads' blocks below.
  const uint32_t Mid = Lo + (Hi - Lo + 1) / 2;
  const uint32_t Id = static_cast<uint32_t>(Tree.size());
  Tree.push_back({Lo, Mid, Parent});
  buildTree(Lo, Mid, Id);
  buildTree(Mid, Hi, Id);
  return Id;
}

void Trainer::resetCounters() {
  // Every block exhausted, every node at an even count: the state at the
  // end of a completed iteration.
  for (size_t K = 0; K < Pool.size(); ++K)
    NextInBlock[K].Value.store(Slots.size(), std::memory_order_relaxed);
  for (size_t Node = 0; Node < Tree.size(); ++Node)
    Arrivals[Node].Value.store(0, std::memory_order_relaxed);
}

void Trainer::finishSlot(size_t I) {
  const int64_t N = P.numParameters();
  // The root (node 0) is added by step(), into the mean.
  for (uint32_t Node = LeafParent[I]; Node != NoNode && Node != 0;
       Node = Tree[Node].Parent) {
    // The first child to finish leaves the addition to the second; acquire
    // and release make the first one's buffer visible to the second. Each
    // node has two arrivals per iteration, so the count is never reset: an
    // even count before the increment means the first.
    if (Arrivals[Node].Value.fetch_add(1, std::memory_order_acq_rel) % 2 == 0)
      return;
    Eigen::Map<Eigen::ArrayXf>(Slots[Tree[Node].Lo].Grad.data(), N) +=
        Eigen::Map<const Eigen::ArrayXf>(Slots[Tree[Node].Mid].Grad.data(), N);
  }
}

double Trainer::step() {
  const size_t B = Slots.size();
  // The gradients are summed along a fixed balanced binary tree over the
  // slots, so the bits do not depend on the number of threads or on which
  // thread ran which task. A node is added by whichever thread finishes the
  // second of its two children, at once: while the gradients are still in
  // that thread's cache, and while the other threads are busy. When the
  // last task is done, only the root's addition is left. (Summing the 25
  // gradients in task order after the barrier, in a second parallel loop, held
  // sinusoid MAML on 2 threads to 1.51x the 1-thread rate; summing in the
  // threads, 1.70x.)
  //
  // Each thread starts on a fixed block of slots, the same every iteration,
  // so a slot's buffers stay in one core's cache (handed out one at a time,
  // slots moved between cores from one iteration to the next: sinusoid MAML
  // on 2 threads, 30,000 iterations 3.72 -> 3.57 s). The caller of
  // parallelFor runs block 0, the larger one, with the parameters it has
  // just updated in its cache. A thread whose block is done takes slots from
  // the others, so that a core running slower does not set the pace (this
  // machine's virtual cores were seen a third apart in speed in one run).
  const size_t Blocks = std::clamp<size_t>(Pool.size(), 1, B);
  // Block K is [ceil(K B / Blocks), ceil((K + 1) B / Blocks)).
  auto BlockBegin = [&](size_t K) { return (K * B + Blocks - 1) / Blocks; };
  //
  // Counters are written only by the threads that use them: a counter the
  // caller reset for another thread cost that thread a cache miss from the
  // caller's core (about 250 ns here) at each of a dozen uses per
  // iteration. A block's thread resets the block's counter as it starts;
  // until then the counter still says "exhausted" from the last iteration,
  // so a thread looking for slots to take leaves the block alone.
  try {
    Pool.parallelFor(Blocks, [&](size_t Block) {
      NextInBlock[Block].Value.store(BlockBegin(Block),
                                     std::memory_order_relaxed);
      // The parameters were just updated on the caller's core.
      if (Block != 0)
        prefetchLines(Params.data(), Params.size(), /*Write=*/false);
      for (size_t K = 0; K < Blocks; ++K) {
        const size_t Victim = (Block + K) % Blocks,
                     End = BlockBegin(Victim + 1);
        for (size_t I; (I = NextInBlock[Victim].Value.fetch_add(1)) < End;) {
          runSlot(I);
          finishSlot(I);
        }
      }
    });
  } catch (...) {
    // A block that stopped early left its counters mid-iteration.
    resetCounters();
    throw;
  }
  // Errors are reported for the lowest failing task, whatever the threads.
  double LossSum = 0;
  for (size_t I = 0; I < B; ++I) {
    checkSlot(I);
    LossSum += Slots[I].Loss;
  }
  // The other threads' copies of the parameters are invalidated before
  // the update writes them, all at once (Adam on 2 threads 1.85 -> 0.87 us).
  const int64_t N = P.numParameters();
  prefetchLines(Params.data(), Params.size(), /*Write=*/true);
  // The root's addition, in one pass with the division: on the caller's
  // thread, which has its own block's sum in cache and reads the other's
  // once (the thread that finished last used to add them, and the caller
  // then read the sum from that thread's cache).
  if (!Tree.empty())
    prefetchLines(Slots[Tree[0].Mid].Grad.data(), N, /*Write=*/false);
  Eigen::Map<Eigen::ArrayXf> Mean(MeanGrad.data(), N);
  using ConstMap = Eigen::Map<const Eigen::ArrayXf>;
  if (Tree.empty())
    Mean = ConstMap(Slots[0].Grad.data(), N) / static_cast<float>(B);
  else
    Mean = (ConstMap(Slots[0].Grad.data(), N) +
            ConstMap(Slots[Tree[0].Mid].Grad.data(), N)) /
           static_cast<float>(B);

  // A finite gradient can still overflow a parameter (a huge step). Catch
  // it here, before anything could checkpoint the bad value.
  Optim->step(Params.data(), MeanGrad.data());
  int64_t Bad = firstNonFinite(Params.data(), Params.size());
  if (Bad >= 0)
    throw Error(fmt::format("non-finite value in parameter {} after the "
                            "update of iteration {}",
                            parameterAt(P, Bad).Name, Iteration + 1),
                ExitNonFinite);
  ++Iteration;
  return LossSum / static_cast<double>(B);
}

void metac::runtime::meanInOrder(ThreadPool &Pool,
                                 const std::vector<const float *> &Rows,
                                 int64_t N, float *Out) {
  // In parallel over ranges of entries. Each entry is still summed over the
  // rows in order, so the result is the same bits for any number of threads
  // (the determinism guarantee).
  constexpr int64_t Chunk = 1024;
  const size_t Chunks = static_cast<size_t>((N + Chunk - 1) / Chunk);
  Pool.parallelFor(Chunks, [&](size_t C) {
    const int64_t Begin = static_cast<int64_t>(C) * Chunk;
    const int64_t Len = std::min(Chunk, N - Begin);
    Eigen::Map<Eigen::ArrayXf> Mean(Out + Begin, Len);
    Mean.setZero();
    for (const float *Row : Rows)
      Mean += Eigen::Map<const Eigen::ArrayXf>(Row + Begin, Len);
    Mean /= static_cast<float>(Rows.size());
  });
}
