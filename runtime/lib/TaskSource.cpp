//===- TaskSource.cpp - Tasks from the program's sample kernels -----------===//

#include "metac/runtime/TaskSource.h"
#include "metac/runtime/Rng.h"

using namespace metac::runtime;

TaskSource::~TaskSource() = default;

void KernelTaskSource::sample(uint64_t TaskKey, Phase, TaskSplit &Support,
                              TaskSplit &Query) const {
  sampleSplit(P, TaskKey, rng::supportDataKey(TaskKey), Support);
  sampleSplit(P, TaskKey, rng::queryDataKey(TaskKey), Query);
}
