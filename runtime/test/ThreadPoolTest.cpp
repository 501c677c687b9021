//===- ThreadPoolTest.cpp - The parallel loop -----------------------------===//

#include "metac/runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace metac::runtime;

TEST(ThreadPoolTest, RunsEveryIndexExactlyOnce) {
  ThreadPool Pool(4);
  EXPECT_EQ(Pool.size(), 4u);
  for (int Round = 0; Round < 200; ++Round) {
    size_t N = Round % 37;
    std::vector<std::atomic<int>> Hits(N);
    Pool.parallelFor(N, [&](size_t I) { Hits[I]++; });
    for (size_t I = 0; I < N; ++I)
      ASSERT_EQ(Hits[I].load(), 1) << "round " << Round << " index " << I;
  }
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  ThreadPool Pool(2);
  std::atomic<int> Inside{0}, MaxInside{0};
  Pool.parallelFor(64, [&](size_t) {
    int Now = ++Inside;
    int Seen = MaxInside.load();
    while (Now > Seen && !MaxInside.compare_exchange_weak(Seen, Now))
      ;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --Inside;
  });
  EXPECT_EQ(MaxInside.load(), 2);
}

TEST(ThreadPoolTest, SingleThreadRunsInlineInOrder) {
  ThreadPool Pool(1);
  std::vector<size_t> Order;
  std::thread::id Caller = std::this_thread::get_id();
  Pool.parallelFor(5, [&](size_t I) {
    EXPECT_EQ(std::this_thread::get_id(), Caller);
    Order.push_back(I);
  });
  EXPECT_EQ(Order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(ThreadPoolTest, RethrowsTheLowestFailingIndex) {
  ThreadPool Pool(3);
  for (int Round = 0; Round < 20; ++Round) {
    try {
      Pool.parallelFor(50, [&](size_t I) {
        if (I == 41 || I == 7 || I == 23)
          throw std::runtime_error(std::to_string(I));
      });
      FAIL() << "expected an exception";
    } catch (const std::runtime_error &E) {
      EXPECT_STREQ(E.what(), "7");
    }
  }
  // The pool is still usable afterwards.
  std::atomic<int> Count{0};
  Pool.parallelFor(10, [&](size_t) { ++Count; });
  EXPECT_EQ(Count.load(), 10);
}

TEST(ThreadPoolTest, CallerRunsIndexZero) {
  // The trainer relies on it: block 0 is the caller's, with the data the
  // caller wrote last in its cache.
  ThreadPool Pool(3);
  std::thread::id Caller = std::this_thread::get_id();
  for (int Round = 0; Round < 100; ++Round) {
    std::thread::id RanZero;
    Pool.parallelFor(3, [&](size_t I) {
      if (I == 0)
        RanZero = std::this_thread::get_id();
    });
    ASSERT_EQ(RanZero, Caller) << "round " << Round;
  }
}

TEST(ThreadPoolTest, WakesThreadsThatWentToSleep) {
  // Workers sleep after spinning for about 75 µs without work, and the
  // caller after waiting as long for a worker's last index: both must be
  // woken, and every index still run once.
  ThreadPool Pool(3);
  for (int Round = 0; Round < 20; ++Round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<std::atomic<int>> Hits(6);
    Pool.parallelFor(Hits.size(), [&](size_t I) {
      if (I == static_cast<size_t>(Round % 6))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      Hits[I]++;
    });
    for (size_t I = 0; I < Hits.size(); ++I)
      ASSERT_EQ(Hits[I].load(), 1) << "round " << Round << " index " << I;
  }
}

TEST(ThreadPoolTest, ResultsAreVisibleToTheCaller) {
  // Plain (non-atomic) writes of the workers are seen after the loop, and
  // the caller's writes before it are seen by the workers.
  ThreadPool Pool(2);
  std::vector<int64_t> In(64), Out(64);
  for (int Round = 0; Round < 2000; ++Round) {
    for (size_t I = 0; I < In.size(); ++I)
      In[I] = Round * 100 + static_cast<int64_t>(I);
    Pool.parallelFor(In.size(), [&](size_t I) { Out[I] = In[I] * 2; });
    for (size_t I = 0; I < In.size(); ++I)
      ASSERT_EQ(Out[I], In[I] * 2) << "round " << Round;
  }
}
