//===- ImageTasks.cpp - Episodes as the tasks of an image program ---------===//
//
// The TaskSource of programs with a `source glyphs|omniglot` record: the
// glyph set (built or read from its cache) or a real Omniglot folder, and an
// EpisodeSampler per (phase, support rows, query rows) the program's kernels
// use. Training draws classes from the background split, evaluation from the
// held-out evaluation split, as Omniglot's protocol does.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/ImageTasks.h"
#include "metac/runtime/Episodes.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Glyphs.h"
#include "metac/runtime/Omniglot.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <tuple>

using namespace metac::runtime;

namespace {

class ImageTaskSource : public TaskSource {
public:
  ImageTaskSource(const Program &P, const TaskSourceOptions &Options);

  void sample(uint64_t TaskKey, Phase Ph, TaskSplit &Support,
              TaskSplit &Query) const override {
    auto It = Samplers.find({Ph, Support.rows(), Query.rows()});
    if (It == Samplers.end())
      throw Error(fmt::format("internal error: no episode sampler for {} "
                              "support and {} query rows",
                              Support.rows(), Query.rows()));
    It->second.sample(TaskKey, Support.tensor(0), Support.tensor(1),
                      Query.tensor(0), Query.tensor(1));
  }

private:
  void addSampler(Phase Ph, int64_t SupportRows, int64_t QueryRows);

  const Program &P;
  ClassImageSet Set;
  std::map<std::tuple<Phase, int64_t, int64_t>, EpisodeSampler> Samplers;
};

} // namespace

ImageTaskSource::ImageTaskSource(const Program &P,
                                 const TaskSourceOptions &Options)
    : P(P) {
  const TaskSourceSpec &Src = P.source();
  std::string Root = Options.OmniglotRoot;
  if (Root.empty() && Src.K == TaskSourceSpec::Omniglot) {
    Root = Src.Root;
    if (Root.empty())
      throw Error(fmt::format("error: program '{}' reads the real Omniglot "
                              "but names no folder: pass --omniglot DIR",
                              P.name()),
                  ExitUsage);
  }
  if (!Root.empty()) {
    Set = loadOmniglot(Root);
    if (Options.Verbose)
      fmt::print(stderr, "omniglot: {} classes in {} alphabets from '{}'\n",
                 Set.Classes.size(), Set.Alphabets.size(), Root);
  } else {
    GlyphLoadInfo Info;
    Set = loadGlyphSet(GlyphOptions(), &Info);
    if (Options.Verbose)
      fmt::print(stderr,
                 "glyphs: {} classes in {} alphabets, {} '{}' in "
                 "{:.1f} s\n",
                 Set.Classes.size(), Set.Alphabets.size(),
                 Info.FromCache ? "read from" : "built into", Info.CachePath,
                 Info.Seconds);
  }
  const Settings &S = P.settings();
  addSampler(Phase::Training, S.Support, S.Query);
  if (Options.Evaluation)
    for (int64_t Shots : S.EvalShots)
      addSampler(Phase::Evaluation, Shots, S.EvalQuery);
}

void ImageTaskSource::addSampler(Phase Ph, int64_t SupportRows,
                                 int64_t QueryRows) {
  const TaskSourceSpec &Src = P.source();
  EpisodeShape Shape;
  Shape.Way = static_cast<int>(Src.Way);
  Shape.Shots = static_cast<int>(SupportRows / Src.Way);
  Shape.QueryPerClass = static_cast<int>(QueryRows / Src.Way);
  Shape.Rotations = Src.Rotations == 4;
  Shape.LabelWidth = static_cast<int>(Src.labelWidth());
  Shape.GlobalLabels = Src.Classes > 0 && Ph == Phase::Training;
  Split Which = Ph == Phase::Training ? Split::Background : Split::Evaluation;
  // EpisodeSampler's own message names the split and what it lacks.
  Samplers.try_emplace({Ph, SupportRows, QueryRows}, Set, Which, Shape);
}

std::unique_ptr<TaskSource>
metac::runtime::createImageTaskSource(const Program &P,
                                      const TaskSourceOptions &Options) {
  return std::make_unique<ImageTaskSource>(P, Options);
}
