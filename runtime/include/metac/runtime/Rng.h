//===- metac/runtime/Rng.h - Deterministic keys and randomness --*- C++ -*-===//
//
// metac has no random number generator *state*. Every random quantity is a
// pure function of the seed and of where it is used: the task of iteration t,
// slot i is trainTaskKey(seed, t, i); the examples of its support set are
// picked by supportDataKey(task). Three consequences follow, and the runtime
// relies on all of them:
//  - tasks can be sampled in any order, on any thread, with the same result;
//  - a resumed run needs only the iteration count to continue exactly;
//  - evaluation tasks do not depend on how long training ran.
// Keys are chained through the splitmix64 finaliser, a bijection on 64 bits
// with good avalanche, so keys that differ in one component are unrelated.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_RNG_H
#define METAC_RUNTIME_RNG_H

#include <cstdint>

namespace metac::runtime::rng {

/// The splitmix64 output function (Steele, Lea & Flood 2014): adds the golden
/// gamma and mixes. A bijection on uint64_t.
inline uint64_t mix(uint64_t X) {
  uint64_t Z = X + 0x9e3779b97f4a7c15ULL;
  Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebULL;
  return Z ^ (Z >> 31);
}

/// Extends key H with one more component V. For a fixed H this is a
/// bijection in V, so distinct components always give distinct keys. H is
/// mixed before V enters (rather than mixing both sides alike), so that no
/// choice of small components can cancel: with mix(H ^ mix(V)), seed 1 and
/// domain 1 would give the key mix(0) and chains would collide.
inline uint64_t combine(uint64_t H, uint64_t V) { return mix(mix(H) ^ V); }

/// Separates the uses of one seed, so that e.g. training task (t, i) and the
/// initial value of parameter t, element i are unrelated.
enum class Domain : uint64_t {
  Train = 1,
  Eval = 2,
  Init = 3,
  Support = 4,
  Query = 5,
};

/// The root key of one use of a seed.
inline uint64_t key(uint64_t Seed, Domain D) {
  return combine(Seed, static_cast<uint64_t>(D));
}

/// The task of meta-batch slot Task at (0-based) training iteration
/// Iteration.
inline uint64_t trainTaskKey(uint64_t Seed, uint64_t Iteration, uint64_t Task) {
  return combine(combine(key(Seed, Domain::Train), Iteration), Task);
}

/// Evaluation task number Task of the Shots-shot evaluation.
inline uint64_t evalTaskKey(uint64_t Seed, uint64_t Task, uint64_t Shots) {
  return combine(combine(key(Seed, Domain::Eval), Task), Shots);
}

/// The data keys of a task's support and query sets.
inline uint64_t supportDataKey(uint64_t TaskKey) {
  return combine(TaskKey, static_cast<uint64_t>(Domain::Support));
}
inline uint64_t queryDataKey(uint64_t TaskKey) {
  return combine(TaskKey, static_cast<uint64_t>(Domain::Query));
}

/// A double in [0, 1) from the top 53 bits of Bits.
inline double uniform01(uint64_t Bits) {
  return static_cast<double>(Bits >> 11) * 0x1.0p-53;
}

/// A counter-based generator: draw(k) is the k-th number of the stream named
/// by Key, computed directly rather than by stepping through k-1 others.
class CounterRng {
public:
  explicit CounterRng(uint64_t Key) : Key(Key) {}

  uint64_t bits(uint64_t Counter) const { return combine(Key, Counter); }
  /// Uniform in [0, 1).
  double uniform(uint64_t Counter) const { return uniform01(bits(Counter)); }
  /// Standard normal from draws 2k and 2k+1 (Box–Muller, cosine branch).
  double normal(uint64_t K) const;

private:
  uint64_t Key;
};

} // namespace metac::runtime::rng

#endif // METAC_RUNTIME_RNG_H
