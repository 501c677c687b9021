//===- ThreadPool.cpp - Parallel loop over tasks --------------------------===//
//
// The caller runs index 0 itself; the others are handed out one at a time
// under the mutex. A meta-batch has tens
// of tasks, each a kernel call of microseconds to milliseconds, so a lock per
// index costs nothing measurable and keeps the pool obviously correct.
// parallelFor waits until every worker is idle again, so no worker can touch
// a loop's state after the loop has returned.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/ThreadPool.h"

using namespace metac::runtime;

ThreadPool::ThreadPool(unsigned Threads) {
  for (unsigned I = 1; I < Threads; ++I)
    Workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Stopping = true;
  }
  WorkReady.notify_all();
  for (std::thread &T : Workers)
    T.join();
}

void ThreadPool::run(size_t I) {
  std::exception_ptr Thrown;
  try {
    (*Body)(I);
  } catch (...) {
    Thrown = std::current_exception();
  }
  if (Thrown) {
    std::lock_guard<std::mutex> Lock(Mutex);
    if (!Failure || I < FailedIndex) {
      Failure = Thrown;
      FailedIndex = I;
    }
  }
}

void ThreadPool::drain() {
  std::unique_lock<std::mutex> Lock(Mutex);
  while (Next < Count) {
    size_t I = Next++;
    Lock.unlock();
    run(I);
    Lock.lock();
  }
}

/// Spins for a short while (about 50 µs) until `Ready` holds. Training calls
/// parallelFor every few hundred microseconds, and a thread that went to
/// sleep on a condition variable takes tens of microseconds to wake: spinning
/// first keeps the second core busy instead of waiting for the scheduler.
template <typename Pred> static void spinBriefly(Pred Ready) {
  for (int I = 0; I < 4096 && !Ready(); ++I) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void ThreadPool::workerLoop() {
  uint64_t Seen = 0;
  std::unique_lock<std::mutex> Lock(Mutex);
  while (true) {
    Lock.unlock();
    spinBriefly([&] {
      return PublishedGeneration.load(std::memory_order_acquire) != Seen;
    });
    Lock.lock();
    WorkReady.wait(Lock, [&] { return Stopping || Generation != Seen; });
    if (Stopping)
      return;
    Seen = Generation;
    PublishedBusy.store(++Busy, std::memory_order_release);
    Lock.unlock();
    drain();
    Lock.lock();
    PublishedBusy.store(--Busy, std::memory_order_release);
    if (Busy == 0)
      WorkDone.notify_all();
  }
}

void ThreadPool::parallelFor(size_t N, const std::function<void(size_t)> &Fn) {
  if (Workers.empty() || N <= 1) {
    for (size_t I = 0; I < N; ++I)
      Fn(I);
    return;
  }
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Body = &Fn;
    Count = N;
    // Index 0 is the caller's (see parallelFor's documentation).
    Next = 1;
    Failure = nullptr;
    ++Generation;
    PublishedGeneration.store(Generation, std::memory_order_release);
  }
  WorkReady.notify_all();
  run(0);
  drain();
  std::exception_ptr Thrown;
  // Workers that joined may still be running their last index.
  spinBriefly(
      [&] { return PublishedBusy.load(std::memory_order_acquire) == 0; });
  {
    std::unique_lock<std::mutex> Lock(Mutex);
    WorkDone.wait(Lock, [&] { return Busy == 0; });
    Body = nullptr;
    Count = 0;
    Next = 0;
    std::swap(Thrown, Failure);
  }
  if (Thrown)
    std::rethrow_exception(Thrown);
}
