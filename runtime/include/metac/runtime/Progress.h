//===- metac/runtime/Progress.h - Training progress on stderr ---*- C++ -*-===//
//
// On a terminal, one line redrawn in place (at most ten times a second) with
// the iteration, speed, smoothed loss and ETA. Anywhere else (a log file, CI)
// redrawing would fill the file with carriage returns, so a plain line is
// printed every tenth of the run and at least every 10000 iterations.
// Progress goes to stderr and carries wall-clock values; the metrics log
// never does.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_PROGRESS_H
#define METAC_RUNTIME_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace metac::runtime {

class Progress {
public:
  /// Progress of iterations (Start, Total]. Interactive selects the redrawn
  /// line; Out is where it is printed (stderr in executables).
  Progress(int64_t Start, int64_t Total, bool Interactive,
           std::FILE *Out = stderr);

  /// Iteration Iteration (1-based) has completed with mean loss Loss;
  /// Extra, if not empty, is shown after the loss (e.g. the returns of a
  /// reinforcement-learning run).
  void update(int64_t Iteration, double Loss, const std::string &Extra = "");
  /// Ends the redrawn line, so that later output starts on a fresh line.
  void finish();

  /// The plain-line interval for a run of Iterations iterations.
  static int64_t plainInterval(int64_t Iterations);

private:
  std::string status(int64_t Iteration) const;

  using Clock = std::chrono::steady_clock;
  int64_t Start, Total;
  bool Interactive;
  std::FILE *Out;
  Clock::time_point Began, LastDraw;
  bool Drawn = false;
  // An exponential moving average of the loss, bias-corrected like Adam's
  // moments so that the first values are not pulled towards zero.
  double Average = 0;
  double Weight = 0;
  std::string Extra;
};

/// "1:02:03" or "2:03" for a number of seconds.
std::string formatDuration(double Seconds);

/// "12.3 it/s", or "31.2 s/it" below one iteration per second.
std::string formatRate(double IterationsPerSecond);

} // namespace metac::runtime

#endif // METAC_RUNTIME_PROGRESS_H
