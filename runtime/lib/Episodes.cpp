//===- Episodes.cpp - N-way K-shot episodes -------------------------------===//
//
// Draws use their own counters of the task's streams (see Rng.h), so the
// class choice, the labels and each class's drawer order are independent
// and do not shift when the shape changes.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Episodes.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Rng.h"

#include <algorithm>
#include <numeric>
#include <string>

using namespace metac::runtime;

namespace {
/// Stream names under a task key.
enum : uint64_t { ClassStream = 1, LabelStream = 2, DrawerStream = 3 };

/// Uniform integer in [0, N) from draw Counter of R.
int below(const rng::CounterRng &R, uint64_t Counter, int N) {
  return std::min(N - 1, static_cast<int>(R.uniform(Counter) * N));
}

/// A uniformly random permutation of 0..N-1 (Fisher-Yates).
std::vector<int> permutation(const rng::CounterRng &R, int N) {
  std::vector<int> P(N);
  std::iota(P.begin(), P.end(), 0);
  for (int I = N - 1; I > 0; --I)
    std::swap(P[I], P[below(R, I, I + 1)]);
  return P;
}
} // namespace

EpisodeSampler::EpisodeSampler(const ClassImageSet &Set, Split S,
                               EpisodeShape Shape)
    : Set(Set), Shape(Shape), Turns(Shape.Rotations ? 4 : 1) {
  if (Shape.Way < 1 || Shape.Shots < 1 || Shape.QueryPerClass < 0)
    throw Error("episodes: way and shots must be at least 1 and query at "
                "least 0 (got way " +
                std::to_string(Shape.Way) + ", shots " +
                std::to_string(Shape.Shots) + ", query " +
                std::to_string(Shape.QueryPerClass) + ")");
  if (Shape.Rotations && Set.Height != Set.Width)
    throw Error("episodes: rotations need square images");
  int Need = Shape.Shots + Shape.QueryPerClass;
  for (size_t C = 0; C < Set.Classes.size(); ++C) {
    const CharacterClass &Class = Set.Classes[C];
    if (Class.DataSplit != S)
      continue;
    if (Class.NumImages < Need)
      throw Error("episodes: class '" + Class.Name + "' of alphabet '" +
                  Set.Alphabets[Class.AlphabetIndex].Name + "' has " +
                  std::to_string(Class.NumImages) + " images, fewer than " +
                  std::to_string(Shape.Shots) + " support + " +
                  std::to_string(Shape.QueryPerClass) + " query");
    Pool.push_back(static_cast<int>(C));
  }
  if (Shape.labelWidth() < Shape.Way)
    throw Error("episodes: labels are " + std::to_string(Shape.labelWidth()) +
                " wide, fewer than " + std::to_string(Shape.Way) + "-way");
  if (Shape.GlobalLabels && numClasses() > Shape.labelWidth())
    throw Error("episodes: the " + std::string(splitName(S)) + " split has " +
                std::to_string(numClasses()) + " classes" +
                (Shape.Rotations ? " (with rotations)" : "") +
                ", more than the " + std::to_string(Shape.labelWidth()) +
                " the labels can name (pretrain_classes)");
  if (numClasses() < Shape.Way)
    throw Error("episodes: the " + std::string(splitName(S)) + " split has " +
                std::to_string(numClasses()) + " classes" +
                (Shape.Rotations ? " (with rotations)" : "") + ", fewer than " +
                std::to_string(Shape.Way) + "-way");
}

void EpisodeSampler::sample(uint64_t TaskKey, float *SupportX, float *SupportY,
                            float *QueryX, float *QueryY,
                            EpisodeInfo *Info) const {
  const int Way = Shape.Way, K = Shape.Shots, Q = Shape.QueryPerClass;
  const size_t Width = Shape.labelWidth();
  const int M = numClasses();
  // Floyd's algorithm: Way distinct classes out of M with Way draws,
  // whatever M is. Sorted afterwards so the row order is canonical; the
  // labels carry the randomness of the order.
  rng::CounterRng ClassRng(rng::combine(TaskKey, ClassStream));
  std::vector<int> Chosen;
  for (int J = M - Way; J < M; ++J) {
    int T = below(ClassRng, J, J + 1);
    Chosen.push_back(
        std::find(Chosen.begin(), Chosen.end(), T) == Chosen.end() ? T : J);
  }
  std::sort(Chosen.begin(), Chosen.end());
  std::vector<int> Labels =
      permutation(rng::CounterRng(rng::combine(TaskKey, LabelStream)), Way);

  if (Info) {
    *Info = EpisodeInfo();
    for (int C : Chosen)
      Info->Classes.push_back(Pool[C / Turns] * Turns + C % Turns);
    Info->Labels = Shape.GlobalLabels ? Chosen : Labels;
  }
  const size_t Pixels = Set.imageSize();
  const int N = Set.Width;
  std::vector<uint8_t> Rotated(Pixels);
  std::fill(SupportY, SupportY + static_cast<size_t>(Way) * K * Width, 0.0f);
  std::fill(QueryY, QueryY + static_cast<size_t>(Way) * Q * Width, 0.0f);
  for (int J = 0; J < Way; ++J) {
    int Class = Pool[Chosen[J] / Turns];
    int Quarter = Chosen[J] % Turns;
    const CharacterClass &C = Set.Classes[Class];
    const int Label = Shape.GlobalLabels ? Chosen[J] : Labels[J];
    std::vector<int> Order = permutation(
        rng::CounterRng(rng::combine(rng::combine(TaskKey, DrawerStream),
                                     static_cast<uint64_t>(Chosen[J]))),
        C.NumImages);
    auto Emit = [&](int Image, float *X, float *Y) {
      const uint8_t *Src = Set.image(Class, Image);
      if (Quarter) {
        rotateQuarter(Src, N, Quarter, Rotated.data());
        Src = Rotated.data();
      }
      for (size_t P = 0; P < Pixels; ++P)
        X[P] = Src[P] / 255.0f;
      Y[Label] = 1.0f;
    };
    for (int I = 0; I < K; ++I) {
      size_t Row = static_cast<size_t>(J) * K + I;
      Emit(Order[I], SupportX + Row * Pixels, SupportY + Row * Width);
    }
    for (int I = 0; I < Q; ++I) {
      size_t Row = static_cast<size_t>(J) * Q + I;
      Emit(Order[K + I], QueryX + Row * Pixels, QueryY + Row * Width);
    }
    if (Info) {
      Info->SupportImages.emplace_back(Order.begin(), Order.begin() + K);
      Info->QueryImages.emplace_back(Order.begin() + K, Order.begin() + K + Q);
    }
  }
}

void metac::runtime::sampleEpisode(const ClassImageSet &Set, Split S,
                                   uint64_t TaskKey, int Way, int Shots,
                                   int QueryPerClass, bool Rotations,
                                   float *SupportX, float *SupportY,
                                   float *QueryX, float *QueryY) {
  EpisodeSampler(Set, S, {Way, Shots, QueryPerClass, Rotations})
      .sample(TaskKey, SupportX, SupportY, QueryX, QueryY);
}
