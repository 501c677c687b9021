//===- ThreadPool.cpp - Parallel loop over tasks --------------------------===//
//
// Training calls parallelFor every 50-100 µs (sinusoid MAML on two cores),
// so the loop's own cost is on the critical path: indices are claimed with
// one atomic increment, and the caller learns that the workers are done
// from one atomic counter. (With a mutex per index and a condition variable
// for the end, the caller waited 1.5 µs per iteration after the last task,
// on cache lines passed back and forth between the cores.)
//
// The protocol, all atomics sequentially consistent where two sides meet:
// - parallelFor writes Body and Count, opens the loop (OpenGeneration) and
//   publishes it (Generation).
// - A worker that sees a new generation counts itself in Active, then
//   checks that the loop is still open: only then does it read Body or
//   claim indices. Then it leaves (Active - 1).
// - When every index is claimed, the caller closes the loop
//   (OpenGeneration = 0) and waits for Active == 0. A worker either counted
//   itself before the close, and is waited for, or sees the loop closed and
//   touches nothing: so no worker reads a loop's state after parallelFor
//   returns.
// Waiting threads spin briefly (about 75 µs here) before they sleep.
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
  for (size_t I; (I = Next.fetch_add(1, std::memory_order_relaxed)) < Count;)
    run(I);
}

/// Spins for a short while (4096 pauses, about 75 µs on this machine) until
/// `Ready` holds; returns whether it does. A thread asleep on a condition
/// variable takes tens of microseconds to wake, longer than a sinusoid
/// task.
template <typename Pred> static bool spinBriefly(Pred Ready) {
  for (int I = 0; I < 4096; ++I) {
    if (Ready())
      return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  return Ready();
}

void ThreadPool::workerLoop() {
  uint64_t Seen = 0;
  while (true) {
    auto Published = [&] { return Generation.load() != Seen; };
    if (!spinBriefly(Published)) {
      std::unique_lock<std::mutex> Lock(Mutex);
      SleepingWorkers.fetch_add(1);
      WorkReady.wait(Lock, [&] { return Stopping || Published(); });
      SleepingWorkers.fetch_sub(1);
      if (Stopping)
        return;
    }
    Seen = Generation.load();
    Active.fetch_add(1);
    if (OpenGeneration.load() == Seen)
      drain();
    if (Active.fetch_sub(1) == 1 && CallerSleeping.load()) {
      // Taking the mutex orders this notification after the caller's
      // check of Active, or before its wait.
      std::lock_guard<std::mutex> Lock(Mutex);
      WorkDone.notify_all();
    }
  }
}

void ThreadPool::parallelFor(size_t N, const std::function<void(size_t)> &Fn) {
  if (Workers.empty() || N <= 1) {
    for (size_t I = 0; I < N; ++I)
      Fn(I);
    return;
  }
  Body = &Fn;
  Count = N;
  // Index 0 is the caller's (see parallelFor's documentation).
  Next.store(1, std::memory_order_relaxed);
  const uint64_t G = Generation.load(std::memory_order_relaxed) + 1;
  OpenGeneration.store(G);
  Generation.store(G);
  if (SleepingWorkers.load() > 0) {
    // A worker between its check of Generation and its wait holds the
    // mutex: taking it here makes the notification reach it.
    std::lock_guard<std::mutex> Lock(Mutex);
    WorkReady.notify_all();
  }
  run(0);
  drain();
  OpenGeneration.store(0);
  auto Done = [&] { return Active.load() == 0; };
  if (!spinBriefly(Done)) {
    std::unique_lock<std::mutex> Lock(Mutex);
    CallerSleeping.store(true);
    WorkDone.wait(Lock, Done);
    CallerSleeping.store(false);
  }
  Body = nullptr;
  std::exception_ptr Thrown;
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    std::swap(Thrown, Failure);
  }
  if (Thrown)
    std::rethrow_exception(Thrown);
}
