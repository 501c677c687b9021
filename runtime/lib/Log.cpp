//===- Log.cpp - Metrics log (JSONL or CSV) -------------------------------===//
//
// Every line is flushed when written: a killed run keeps its log up to the
// last line, and `--resume` trims that log back to the checkpoint.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Log.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace metac::runtime;

std::string metac::runtime::formatNumber(double V) {
  if (!std::isfinite(V))
    return "null";
  return fmt::format("{}", V);
}

MetricsLog::Format MetricsLog::formatFor(const std::string &Path) {
  if (hasSuffix(Path, ".jsonl"))
    return Jsonl;
  if (hasSuffix(Path, ".csv"))
    return Csv;
  throw Error(
      fmt::format("error: --log file '{}' must end in .jsonl or .csv", Path),
      ExitUsage);
}

/// The iteration of a training row of the log, or -1 for any other line.
static int64_t rowIteration(const std::string &Line, MetricsLog::Format F) {
  std::string_view Text = Line;
  std::string_view Prefix = F == MetricsLog::Jsonl ? "{\"iter\":" : "";
  if (Text.substr(0, Prefix.size()) != Prefix)
    return -1;
  Text.remove_prefix(Prefix.size());
  int64_t Iter = -1;
  auto [End, Ec] =
      std::from_chars(Text.data(), Text.data() + Text.size(), Iter);
  // Both formats follow the iteration with a comma.
  if (Ec != std::errc() || End == Text.data() + Text.size() || *End != ',')
    return -1;
  return Iter;
}

/// The named numbers of a training row: CSV values under the header's
/// Columns, or a JSONL object's "name":number pairs (the log writes flat
/// objects of numbers and nulls only).
static std::vector<std::pair<std::string, double>>
rowValues(const std::string &Line, MetricsLog::Format F,
          const std::vector<std::string> &Columns) {
  std::vector<std::pair<std::string, double>> Values;
  std::vector<std::string> Cells;
  std::stringstream In(F == MetricsLog::Jsonl ? Line.substr(1, Line.size() - 2)
                                              : Line);
  for (std::string Cell; std::getline(In, Cell, ',');)
    Cells.push_back(Cell);
  for (size_t I = 0; I < Cells.size(); ++I) {
    std::string Name, Text = Cells[I];
    if (F == MetricsLog::Jsonl) {
      size_t Colon = Text.find(':');
      if (Colon == std::string::npos || Text.size() < 2 || Text[0] != '"')
        continue;
      Name = Text.substr(1, Colon - 2);
      Text = Text.substr(Colon + 1);
    } else if (I < Columns.size()) {
      Name = Columns[I];
    }
    double V = 0;
    auto [End, Ec] = std::from_chars(Text.data(), Text.data() + Text.size(), V);
    if (!Name.empty() && Ec == std::errc() && End == Text.data() + Text.size())
      Values.emplace_back(Name, V);
  }
  return Values;
}

MetricsLog::MetricsLog(const std::string &Path, int64_t ResumeIteration)
    : Path(Path), Fmt(formatFor(Path)) {
  // On resume, keep the training rows the checkpoint covers. Rows past it
  // were logged by the interrupted run and will be logged again.
  std::string KeptText;
  std::vector<std::string> Columns;
  if (ResumeIteration > 0) {
    std::ifstream In(Path);
    std::string Line;
    bool First = true;
    while (In && std::getline(In, Line)) {
      // The CSV header: "iter,loss" and any extra columns (an environment's
      // returns, metrics).
      bool IsHeader = First && Fmt == Csv &&
                      (Line == "iter,loss" || Line.rfind("iter,loss,", 0) == 0);
      First = false;
      if (IsHeader) {
        KeptText += Line + "\n";
        HasRows = true;
        std::stringstream Names(Line);
        for (std::string Name; std::getline(Names, Name, ',');)
          Columns.push_back(Name);
        continue;
      }
      int64_t Iter = rowIteration(Line, Fmt);
      if (Iter < 0 || Iter > ResumeIteration)
        break;
      KeptText += Line + "\n";
      HasRows = true;
      Kept.push_back({Iter, rowValues(Line, Fmt, Columns)});
    }
  }
  File = std::fopen(Path.c_str(), "w");
  if (!File)
    throw Error(fmt::format("error: cannot open log file '{}': {}", Path,
                            std::strerror(errno)));
  write(KeptText);
}

MetricsLog::~MetricsLog() {
  if (File)
    std::fclose(File);
}

void MetricsLog::write(const std::string &Text) {
  if (Text.empty())
    return;
  if (std::fwrite(Text.data(), 1, Text.size(), File) != Text.size() ||
      std::fflush(File) != 0)
    throw Error(fmt::format("error: cannot write log file '{}': {}", Path,
                            std::strerror(errno)));
}

void MetricsLog::logIteration(
    int64_t Iteration, double Loss,
    const std::vector<std::pair<std::string, double>> &Extra) {
  if (Fmt == Jsonl) {
    std::string Fields;
    for (const auto &[Name, Value] : Extra)
      Fields += fmt::format(",\"{}\":{}", Name, formatNumber(Value));
    write(fmt::format("{{\"iter\":{},\"loss\":{}{}}}\n", Iteration,
                      formatNumber(Loss), Fields));
    return;
  }
  std::string Text;
  if (!HasRows) {
    Text = "iter,loss";
    for (const auto &Column : Extra)
      Text += "," + Column.first;
    Text += "\n";
  }
  HasRows = true;
  Text += fmt::format("{},{}", Iteration, formatNumber(Loss));
  for (const auto &Column : Extra)
    Text += "," + formatNumber(Column.second);
  write(Text + "\n");
}

void MetricsLog::logEvaluation(const std::vector<EvalRow> &Rows,
                               const std::vector<std::string> &Metrics) {
  std::string Text;
  if (Fmt == Csv) {
    // A blank line ends the training section (if any), then a new header.
    if (HasRows)
      Text += "\n";
    Text += "shots,steps,mean,ci95";
    for (const std::string &M : Metrics)
      Text += fmt::format(",{0}_mean,{0}_ci95", M);
    Text += "\n";
  }
  for (const EvalRow &R : Rows) {
    if (Fmt == Jsonl) {
      Text += fmt::format("{{\"eval\":{{\"shots\":{},\"steps\":{},\"mean\":{},"
                          "\"ci95\":{}",
                          R.Shots, R.Steps, formatNumber(R.Loss.Mean),
                          formatNumber(R.Loss.Ci95));
      for (size_t I = 0; I < R.Metrics.size() && I < Metrics.size(); ++I)
        Text += fmt::format(",\"{}\":{{\"mean\":{},\"ci95\":{}}}", Metrics[I],
                            formatNumber(R.Metrics[I].Mean),
                            formatNumber(R.Metrics[I].Ci95));
      Text += "}}\n";
    } else {
      Text += fmt::format("{},{},{},{}", R.Shots, R.Steps,
                          formatNumber(R.Loss.Mean), formatNumber(R.Loss.Ci95));
      for (size_t I = 0; I < R.Metrics.size() && I < Metrics.size(); ++I)
        Text += fmt::format(",{},{}", formatNumber(R.Metrics[I].Mean),
                            formatNumber(R.Metrics[I].Ci95));
      Text += "\n";
    }
  }
  HasRows = true;
  write(Text);
}
