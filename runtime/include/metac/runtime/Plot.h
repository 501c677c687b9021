//===- metac/runtime/Plot.h - Line charts as SVG files ----------*- C++ -*-===//
//
// Learning curves drawn without a plotting dependency: a self-contained SVG
// 1.1 file any browser shows, written atomically so a viewer refreshing it
// during a run never sees half a file.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_PLOT_H
#define METAC_RUNTIME_PLOT_H

#include <string>
#include <vector>

namespace metac::runtime {

/// One line of a chart: the points (X[i], Y[i]) for i below the shorter
/// length, joined in order.
struct Series {
  std::string Name;
  std::vector<double> X, Y;
};

/// Writes a 720x420 SVG line chart of Lines to Path: axes with "nice" ticks
/// (steps of 1, 2 or 5 times a power of ten), axis labels, the title, one
/// polyline per series in its own colour, and a legend. Points with a
/// non-finite coordinate are skipped; empty series, single points and
/// constant data are drawn on a padded range. Text is XML-escaped. Throws
/// Error if the file cannot be written.
void writeLineChartSvg(const std::string &Path, const std::string &Title,
                       const std::string &XLabel, const std::string &YLabel,
                       const std::vector<Series> &Lines);

} // namespace metac::runtime

#endif // METAC_RUNTIME_PLOT_H
