//===- ThreadPool.cpp - Parallel loop over tasks --------------------------===//
//
// Indices are handed out one at a time under the mutex. A meta-batch has tens
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

void ThreadPool::drain() {
  std::unique_lock<std::mutex> Lock(Mutex);
  while (Next < Count) {
    size_t I = Next++;
    Lock.unlock();
    std::exception_ptr Thrown;
    try {
      (*Body)(I);
    } catch (...) {
      Thrown = std::current_exception();
    }
    Lock.lock();
    if (Thrown && (!Failure || I < FailedIndex)) {
      Failure = Thrown;
      FailedIndex = I;
    }
  }
}

void ThreadPool::workerLoop() {
  uint64_t Seen = 0;
  std::unique_lock<std::mutex> Lock(Mutex);
  while (true) {
    WorkReady.wait(Lock, [&] { return Stopping || Generation != Seen; });
    if (Stopping)
      return;
    Seen = Generation;
    ++Busy;
    Lock.unlock();
    drain();
    Lock.lock();
    if (--Busy == 0)
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
    Next = 0;
    Failure = nullptr;
    ++Generation;
  }
  WorkReady.notify_all();
  drain();
  std::exception_ptr Thrown;
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
