// Round trip of one cache line between two threads, in nanoseconds: the
// cost of every hand-off between cores in a parallel training step. On this
// virtual machine it varies with where the host places the two virtual
// cores (about 250 ns when they share a core complex, 450-600 ns when not),
// and so does 2-thread scaling; bench/run prints it beside the speedup.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

static void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int main() {
  constexpr int Trips = 100000;
  alignas(64) static std::atomic<int> Ball{0};
  std::thread Other([] {
    for (int I = 0; I < Trips; ++I) {
      while (Ball.load(std::memory_order_acquire) != 2 * I + 1)
        relax();
      Ball.store(2 * I + 2, std::memory_order_release);
    }
  });
  auto Start = std::chrono::steady_clock::now();
  for (int I = 0; I < Trips; ++I) {
    Ball.store(2 * I + 1, std::memory_order_release);
    while (Ball.load(std::memory_order_acquire) != 2 * I + 2)
      relax();
  }
  auto End = std::chrono::steady_clock::now();
  Other.join();
  std::printf("%.0f\n",
              std::chrono::duration<double, std::nano>(End - Start).count() /
                  Trips);
}
