//===- metac/runtime/Episodes.h - N-way K-shot episodes ---------*- C++ -*-===//
//
// A few-shot classification task ("episode") as MAML trains on it: Way
// classes drawn without replacement from one split, Shots support and
// QueryPerClass query images of each, labels one-hot.
//
// Tensor layout (row-major, float):
//   SupportX [Way * Shots, H, W, 1]          (NHWC; ink 1, background 0)
//   SupportY [Way * Shots, Way]              (one-hot)
//   QueryX   [Way * QueryPerClass, H, W, 1]
//   QueryY   [Way * QueryPerClass, Way]
// Rows are grouped class by class: rows [j * Shots, (j + 1) * Shots) of the
// support set (and [j * Q, (j + 1) * Q) of the query set) are the j-th
// drawn class, whose label is Labels[j] of a random permutation, so a
// label's position says nothing about the class.
//
// With Rotations, every class also appears rotated by 90, 180 and 270
// degrees as three further classes (expanded class id = class * 4 + quarter
// turns counter-clockwise), as in the MAML paper's Omniglot experiments; the
// rotation applies to all of the class's images.
//
// A class's support and query images are different drawers: a per-task
// permutation of its images, the first Shots for support, the next
// QueryPerClass for query. Everything is a pure function of the task key.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_EPISODES_H
#define METAC_RUNTIME_EPISODES_H

#include "metac/runtime/ImageSet.h"

#include <cstdint>
#include <vector>

namespace metac::runtime {

struct EpisodeShape {
  int Way = 5;
  int Shots = 1;
  int QueryPerClass = 15;
  bool Rotations = true;
  /// Columns of a label row (0: Way). Wider rows are zero past the label.
  int LabelWidth = 0;
  /// Label each row by its class's index among the split's (expanded)
  /// classes instead of the episode's permutation of 0..Way-1: the labels of
  /// supervised pretraining. Needs LabelWidth >= the split's classes.
  bool GlobalLabels = false;

  int labelWidth() const { return LabelWidth ? LabelWidth : Way; }
};

/// What an episode drew, for tests and for a person looking at one.
struct EpisodeInfo {
  /// Expanded class ids, in row-block order: the index into
  /// ClassImageSet::Classes, times 4 plus the quarter turns with rotations.
  std::vector<int> Classes;
  /// Labels[j] is the label of row block j.
  std::vector<int> Labels;
  /// Image indices within each class: Way rows of Shots, then of
  /// QueryPerClass.
  std::vector<std::vector<int>> SupportImages, QueryImages;
};

/// Samples episodes from one split of a set. Throws Error on construction if
/// the split has fewer than Way (expanded) classes or a class of the split
/// has fewer than Shots + QueryPerClass images.
class EpisodeSampler {
public:
  EpisodeSampler(const ClassImageSet &Set, Split S, EpisodeShape Shape);

  /// Fills the four tensors (see the layout above) for task key TaskKey.
  void sample(uint64_t TaskKey, float *SupportX, float *SupportY, float *QueryX,
              float *QueryY, EpisodeInfo *Info = nullptr) const;

  /// The number of (expanded) classes episodes are drawn from.
  int numClasses() const { return static_cast<int>(Pool.size()) * Turns; }
  const EpisodeShape &shape() const { return Shape; }
  /// Floats in one image, H * W.
  size_t imageSize() const { return Set.imageSize(); }

private:
  const ClassImageSet &Set;
  EpisodeShape Shape;
  int Turns;
  /// Indices of the split's classes.
  std::vector<int> Pool;
};

/// One-call form of EpisodeSampler (validates on every call).
void sampleEpisode(const ClassImageSet &Set, Split S, uint64_t TaskKey, int Way,
                   int Shots, int QueryPerClass, bool Rotations,
                   float *SupportX, float *SupportY, float *QueryX,
                   float *QueryY);

} // namespace metac::runtime

#endif // METAC_RUNTIME_EPISODES_H
