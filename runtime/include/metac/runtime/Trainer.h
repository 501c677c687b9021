//===- metac/runtime/Trainer.h - The meta-training loop ---------*- C++ -*-===//
//
// One iteration: for each slot i of the meta-batch, derive the task key from
// (seed, iteration, i), sample a support and a query set, and run the
// `meta_grad` kernel into slot i. The gradients are summed along a fixed
// binary tree over the slots; then, on the calling thread, every value is
// checked, the losses are averaged in slot order, and the optimiser takes
// one step. Because the cross-task arithmetic follows the tree and the slot
// order, never the threads, the parameters after any number of iterations
// are the same bytes for every thread count.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_TRAINER_H
#define METAC_RUNTIME_TRAINER_H

#include "metac/runtime/Kernels.h"
#include "metac/runtime/Optimizer.h"
#include "metac/runtime/Program.h"
#include "metac/runtime/TaskSource.h"
#include "metac/runtime/ThreadPool.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace metac::runtime {

struct Checkpoint;

/// Allocates on 64-byte boundaries: a buffer then starts on a cache line,
/// and the AVX-512 loops over it (the summation tree's additions) never
/// load across two lines (sinusoid MAML on one thread: the 24 additions of
/// an iteration 3.0 -> 2.4 us).
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}
  T *allocate(size_t N) {
    return static_cast<T *>(
        ::operator new(N * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T *Ptr, size_t) {
    ::operator delete(Ptr, std::align_val_t(64));
  }
  bool operator==(const CacheLineAllocator &) const { return true; }
  bool operator!=(const CacheLineAllocator &) const { return false; }
};

class Trainer {
public:
  /// A trainer whose parameters are initialised from Seed, at iteration 0.
  /// Tasks come from Source (training phase), or from the program's sample
  /// kernels when it is null; it must outlive the trainer.
  Trainer(const Program &P, ThreadPool &Pool, uint64_t Seed,
          const TaskSource *Source = nullptr);

  // Source may point into the trainer itself (OwnSource).
  Trainer(const Trainer &) = delete;
  Trainer &operator=(const Trainer &) = delete;

  /// Continues from a checkpoint (already checked against the program):
  /// parameters, optimiser state, iteration and seed.
  void restore(const Checkpoint &C);
  /// The state to checkpoint.
  Checkpoint snapshot() const;

  /// Runs one iteration and returns the mean meta-loss over the meta-batch.
  /// Throws Error (exit code 3) naming the iteration, the task and the
  /// parameter if a loss or gradient is not finite (the parameters are then
  /// unchanged), or if the update made a parameter non-finite (the trainer
  /// must then not be checkpointed or used again).
  double step();

  /// Completed iterations.
  int64_t iteration() const { return Iteration; }
  uint64_t seed() const { return Seed; }
  const std::vector<float> &parameters() const { return Params; }
  const Optimizer &optimizer() const { return *Optim; }

private:
  /// The buffers of one meta-batch slot.
  struct Slot {
    TaskSplit Support;
    TaskSplit Query;
    std::vector<float, CacheLineAllocator<float>> Grad;
    float Loss = 0;
    /// First non-finite gradient entry, or -1; found on the task's thread.
    int64_t FirstBad = -1;
  };

  void checkSlot(size_t Index) const;
  /// Samples slot I's task of this iteration and runs the meta-gradient.
  void runSlot(size_t I);
  /// Adds slot I's gradient into the summation tree: walks up from the leaf
  /// while this thread is the second to arrive at a node (see step()).
  void finishSlot(size_t I);
  /// Puts the counters below in their state between iterations.
  void resetCounters();
  /// Builds the summation tree's nodes over slots [Lo, Hi); returns the id
  /// of the subtree's root, or NoNode for a leaf.
  uint32_t buildTree(uint32_t Lo, uint32_t Hi, uint32_t Parent);

  const Program &P;
  ThreadPool &Pool;
  std::unique_ptr<TaskSource> OwnSource;
  const TaskSource &Source;
  const KernelRecord &MetaGrad;
  uint64_t Seed;
  int64_t Iteration = 0;
  std::vector<float> Params;
  std::vector<float> MeanGrad;
  std::unique_ptr<Optimizer> Optim;
  std::vector<Slot> Slots;

  /// The fixed balanced binary tree along which the slots' gradients are
  /// summed: internal node N adds slot Mid's buffer into slot Lo's, which
  /// then holds the sum over the node's slots [Lo, Hi).
  struct SumNode {
    uint32_t Lo, Mid, Parent;
  };
  static constexpr uint32_t NoNode = UINT32_MAX;
  std::vector<SumNode> Tree;
  std::vector<uint32_t> LeafParent;
  /// An atomic counter alone on its cache line, so that threads counting
  /// different things do not take the line from each other.
  struct alignas(64) Counter {
    std::atomic<size_t> Value{0};
  };
  /// Per node, how many of its children have finished, over all iterations
  /// (two per iteration).
  std::unique_ptr<Counter[]> Arrivals;
  /// Per thread's block of slots, the next slot not yet taken.
  std::unique_ptr<Counter[]> NextInBlock;
};

/// The checkpoint of a training run (Optim null: an optimiser without state,
/// TRPO), and its inverse; shared by Trainer and RlTrainer.
Checkpoint trainingState(const Program &P, int64_t Iteration, uint64_t Seed,
                         const std::vector<float> &Params,
                         const Optimizer *Optim);
void restoreTrainingState(const Checkpoint &C, std::vector<float> &Params,
                          int64_t &Iteration, uint64_t &Seed, Optimizer *Optim);

/// Out[k] = the mean of Rows[i][k] over i, for k < N, each entry summed in
/// row order whatever the number of threads.
void meanInOrder(ThreadPool &Pool, const std::vector<const float *> &Rows,
                 int64_t N, float *Out);

} // namespace metac::runtime

#endif // METAC_RUNTIME_TRAINER_H
