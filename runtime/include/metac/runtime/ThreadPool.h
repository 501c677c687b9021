//===- metac/runtime/ThreadPool.h - Parallel loop over tasks ----*- C++ -*-===//
//
// The tasks of a meta-batch (and the evaluation tasks) are independent, and
// generated kernels are pure functions of their buffers, so they run in
// parallel. Determinism is the caller's side of the contract: task I writes
// only into its own slot I, and results are combined in an order that does
// not depend on the threads. The pool only promises that every index runs
// exactly once before parallelFor returns.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_THREADPOOL_H
#define METAC_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace metac::runtime {

class ThreadPool {
public:
  /// A pool of Threads threads in all: the caller of parallelFor is one of
  /// them, so Threads - 1 workers are started. Threads = 1 runs inline.
  explicit ThreadPool(unsigned Threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned size() const { return static_cast<unsigned>(Workers.size()) + 1; }

  /// Calls Body(I) for every I in [0, N) and returns when all calls are done.
  /// If calls throw, the exception of the lowest failing index is rethrown
  /// (so which error is reported does not depend on scheduling). The caller
  /// always runs index 0 itself, first: a loop over fixed blocks of work
  /// gives the caller's block the data the caller touched last (the
  /// trainer's parameters, just updated).
  void parallelFor(size_t N, const std::function<void(size_t)> &Body);

private:
  void workerLoop();
  /// Runs indices until none are left; shared by workers and the caller.
  void drain();
  /// Runs index I of the current loop, recording its exception if any.
  void run(size_t I);

  std::vector<std::thread> Workers;

  // The current loop. Written by parallelFor only while no worker is inside
  // a loop (Active == 0), and published by the release store of Generation.
  const std::function<void(size_t)> *Body = nullptr;
  size_t Count = 0;

  /// Incremented by parallelFor to start a loop; workers wait for it to
  /// change.
  alignas(64) std::atomic<uint64_t> Generation{0};
  /// The generation workers may still join, or 0 once the caller has
  /// closed the loop (every index claimed).
  std::atomic<uint64_t> OpenGeneration{0};
  /// The next index to claim.
  alignas(64) std::atomic<size_t> Next{0};
  /// Workers inside the current loop: joined and not yet left.
  alignas(64) std::atomic<unsigned> Active{0};

  // Sleeping: a thread spins briefly, then waits on a condition variable;
  // the flags tell the other side whether a notification is needed.
  std::mutex Mutex;
  std::condition_variable WorkReady, WorkDone;
  std::atomic<unsigned> SleepingWorkers{0};
  std::atomic<bool> CallerSleeping{false};
  bool Stopping = false; // Guarded by Mutex.

  // The lowest failing index and its exception; guarded by Mutex.
  size_t FailedIndex = 0;
  std::exception_ptr Failure;
};

} // namespace metac::runtime

#endif // METAC_RUNTIME_THREADPOOL_H
