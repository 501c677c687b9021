//===- Progress.cpp - Training progress on stderr -------------------------===//

#include "metac/runtime/Progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

using namespace metac::runtime;

std::string metac::runtime::formatDuration(double Seconds) {
  if (!std::isfinite(Seconds) || Seconds < 0)
    return "?";
  auto S = static_cast<int64_t>(Seconds + 0.5);
  if (S >= 3600)
    return fmt::format("{}:{:02}:{:02}", S / 3600, S / 60 % 60, S % 60);
  return fmt::format("{}:{:02}", S / 60, S % 60);
}

std::string metac::runtime::formatRate(double IterationsPerSecond) {
  if (!std::isfinite(IterationsPerSecond) || IterationsPerSecond <= 0)
    return "? it/s";
  // Reinforcement-learning meta-iterations take tens of seconds; "0.0 it/s"
  // would say nothing, so slow runs report seconds per iteration instead.
  if (IterationsPerSecond < 1)
    return fmt::format("{:.1f} s/it", 1 / IterationsPerSecond);
  return fmt::format("{:.1f} it/s", IterationsPerSecond);
}

int64_t Progress::plainInterval(int64_t Iterations) {
  return std::clamp<int64_t>((Iterations + 9) / 10, 1, 10000);
}

Progress::Progress(int64_t Start, int64_t Total, bool Interactive,
                   std::FILE *Out)
    : Start(Start), Total(Total), Interactive(Interactive), Out(Out),
      Began(Clock::now()), LastDraw(Began) {}

std::string Progress::status(int64_t Iteration) const {
  double Elapsed = std::chrono::duration<double>(Clock::now() - Began).count();
  double Rate = Elapsed > 0 ? (Iteration - Start) / Elapsed : 0;
  double Eta = Rate > 0 ? (Total - Iteration) / Rate : NAN;
  double Loss = Weight > 0 ? Average / Weight : NAN;
  int Width = static_cast<int>(fmt::formatted_size("{}", Total));
  return fmt::format("iteration {:>{}}/{} ({:3.0f}%)  {}  loss {:.4g}"
                     "{}  ETA {}",
                     Iteration, Width, Total,
                     Total > 0 ? 100.0 * Iteration / Total : 100.0,
                     formatRate(Rate), Loss, Extra.empty() ? "" : "  " + Extra,
                     formatDuration(Eta));
}

void Progress::update(int64_t Iteration, double Loss,
                      const std::string &Extra) {
  this->Extra = Extra;
  const double Beta = 0.98;
  Average = Beta * Average + (1 - Beta) * Loss;
  Weight = Beta * Weight + (1 - Beta);
  if (Interactive) {
    Clock::time_point Now = Clock::now();
    if (Iteration != Total && Drawn &&
        Now - LastDraw < std::chrono::milliseconds(100))
      return;
    LastDraw = Now;
    Drawn = true;
    // "\x1b[K" clears what a longer previous line left behind.
    fmt::print(Out, "\r{}\x1b[K", status(Iteration));
    std::fflush(Out);
    return;
  }
  if (Iteration % plainInterval(Total) == 0 || Iteration == Total) {
    fmt::print(Out, "{}\n", status(Iteration));
    std::fflush(Out);
  }
}

void Progress::finish() {
  if (Interactive && Drawn) {
    fmt::print(Out, "\n");
    std::fflush(Out);
    Drawn = false;
  }
}
