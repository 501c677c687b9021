//===- ProgressTest.cpp - Progress line formatting ------------------------===//

#include "metac/runtime/Progress.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace metac::runtime;

TEST(ProgressTest, RateSwitchesToSecondsPerIterationWhenSlow) {
  EXPECT_EQ(formatRate(1640.0), "1640.0 it/s");
  EXPECT_EQ(formatRate(1.0), "1.0 it/s");
  // A 31-second reinforcement-learning meta-iteration.
  EXPECT_EQ(formatRate(1 / 31.25), "31.2 s/it");
  EXPECT_EQ(formatRate(0.0), "? it/s");
  EXPECT_EQ(formatRate(NAN), "? it/s");
}

TEST(ProgressTest, Durations) {
  EXPECT_EQ(formatDuration(0.4), "0:00");
  EXPECT_EQ(formatDuration(125), "2:05");
  EXPECT_EQ(formatDuration(9 * 3600 + 10 * 60 + 18), "9:10:18");
  EXPECT_EQ(formatDuration(NAN), "?");
}
