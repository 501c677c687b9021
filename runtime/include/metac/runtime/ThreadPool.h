//===- metac/runtime/ThreadPool.h - Parallel loop over tasks ----*- C++ -*-===//
//
// The tasks of a meta-batch (and the evaluation tasks) are independent, and
// generated kernels are pure functions of their buffers, so they run in
// parallel. Determinism is the caller's side of the contract: task I writes
// only into its own slot I, and results are combined afterwards on the
// calling thread in index order. The pool only promises that every index runs
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
  std::mutex Mutex;
  std::condition_variable WorkReady;
  std::condition_variable WorkDone;
  bool Stopping = false;
  uint64_t Generation = 0;
  unsigned Busy = 0;
  /// Copies of Generation and Busy readable without the mutex, so that a
  /// thread can spin briefly before sleeping (see ThreadPool.cpp).
  std::atomic<uint64_t> PublishedGeneration{0};
  std::atomic<unsigned> PublishedBusy{0};

  // The current loop; written only while no worker is busy.
  const std::function<void(size_t)> *Body = nullptr;
  size_t Count = 0;
  size_t Next = 0;
  size_t FailedIndex = 0;
  std::exception_ptr Failure;
};

} // namespace metac::runtime

#endif // METAC_RUNTIME_THREADPOOL_H
