//===- Plot.cpp - Line charts as SVG files --------------------------------===//
//
// The chart is laid out in fixed pixel coordinates: a plot area with the
// tick labels and axis labels left of and below it, the title above, and the
// legend to its right, as wide as the longest series name needs.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Plot.h"
#include "metac/runtime/Files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

using namespace metac::runtime;

namespace {

constexpr double Width = 720, Height = 420;
constexpr double MarginLeft = 80, MarginRight = 16, MarginTop = 40,
                 MarginBottom = 56;
// Legend geometry: a colour sample of SampleWidth, then the name.
constexpr double LegendGap = 12, SampleWidth = 22, LegendRow = 18;
constexpr double CharWidth = 7; // a rough average at font-size 12
constexpr size_t MaxLegendChars = 26;

// Distinct hues first, so that two or three series never look alike.
const char *const Palette[] = {"#1b5fa8", "#e0691a", "#2e8b3d", "#c62828",
                               "#7b3fb5", "#8d5524", "#d6409f", "#5f6b7a",
                               "#a8a517", "#17a2b8"};

// Coordinates this large would overflow the range arithmetic; a chart of
// them would say nothing anyway.
bool usable(double V) { return std::isfinite(V) && std::fabs(V) < 1e300; }

std::string escape(const std::string &Text) {
  std::string Out;
  for (char C : Text) {
    switch (C) {
    case '&':
      Out += "&amp;";
      break;
    case '<':
      Out += "&lt;";
      break;
    case '>':
      Out += "&gt;";
      break;
    case '"':
      Out += "&quot;";
      break;
    default:
      // XML 1.0 forbids most control characters even when escaped.
      if (static_cast<unsigned char>(C) >= 0x20 || C == '\t' || C == '\n')
        Out += C;
    }
  }
  return Out;
}

// Counts UTF-8 code points, so that the legend width and truncation do not
// treat a multi-byte character as several.
size_t codePoints(const std::string &S) {
  size_t N = 0;
  for (char C : S)
    N += (static_cast<unsigned char>(C) & 0xc0) != 0x80;
  return N;
}

// The first Max code points of S, with "..." when cut.
std::string truncate(const std::string &S, size_t Max) {
  if (codePoints(S) <= Max)
    return S;
  size_t Seen = 0;
  for (size_t I = 0; I < S.size(); ++I)
    if ((static_cast<unsigned char>(S[I]) & 0xc0) != 0x80 && Seen++ == Max - 3)
      return S.substr(0, I) + "...";
  return S;
}

// An axis from Lo to Hi with ticks at K * Step for K in [K0, K0 + Count).
struct Axis {
  double Lo, Hi, Step;
  int64_t K0, Count;

  double tick(int64_t I) const { return static_cast<double>(K0 + I) * Step; }

  std::string label(int64_t I) const {
    // Enough significant digits to tell neighbouring ticks apart, so that
    // e.g. 1000002 and 1000004 are not both printed as 1e+06; and at least
    // the integer digits of moderate numbers, since %g would print 100 with
    // two digits as 1e+02.
    double Big = std::max(std::fabs(Lo), std::fabs(Hi));
    int BigExp = static_cast<int>(std::floor(std::log10(Big)));
    int StepExp = static_cast<int>(std::floor(std::log10(Step)));
    int Digits = std::max(BigExp - StepExp + 1, std::min(BigExp + 1, 7));
    Digits = std::clamp(Digits, 1, 15);
    return fmt::format("{:.{}g}", tick(I), Digits);
  }
};

// Ticks for data in [Min, Max] (Min > Max means there was none): the step
// among 1, 2, 5 x 10^k whose tick count, once the range is widened to whole
// steps, is closest to 5-6.
Axis niceAxis(double Min, double Max) {
  if (Min > Max) {
    Min = 0;
    Max = 1;
  }
  // A flat (or vanishingly thin) range is widened around its value; the
  // 1e-250 floor keeps the tick steps clear of denormals.
  double Big = std::max(std::fabs(Min), std::fabs(Max));
  if (Max - Min <= std::max(1e-12 * Big, 1e-250)) {
    double Pad = Big > 1e-200 ? 0.1 * Big : 1.0;
    Min -= Pad;
    Max += Pad;
  }
  double Span = Max - Min;
  int E0 = static_cast<int>(std::floor(std::log10(Span)));
  Axis Best{};
  int BestScore = -1;
  for (int E = E0 - 2; E <= E0 + 1; ++E)
    for (double M : {1.0, 2.0, 5.0}) {
      double Step = M * std::pow(10.0, E);
      // The slack keeps 0.3 / 0.1 = 2.9999999999999996 from adding a tick.
      auto K0 = static_cast<int64_t>(std::floor(Min / Step + 1e-9));
      auto K1 = static_cast<int64_t>(std::ceil(Max / Step - 1e-9));
      int64_t Count = K1 - K0 + 1;
      int Score = Count < 5 ? 5 - Count : Count > 6 ? Count - 6 : 0;
      // Steps grow, so <= prefers the larger step on a tie.
      if (BestScore < 0 || Score <= BestScore) {
        BestScore = Score;
        Best = {K0 * Step, K1 * Step, Step, K0, Count};
      }
    }
  return Best;
}

} // namespace

void metac::runtime::writeLineChartSvg(const std::string &Path,
                                       const std::string &Title,
                                       const std::string &XLabel,
                                       const std::string &YLabel,
                                       const std::vector<Series> &Lines) {
  double XMin = INFINITY, XMax = -INFINITY, YMin = INFINITY, YMax = -INFINITY;
  for (const Series &L : Lines)
    for (size_t I = 0; I < std::min(L.X.size(), L.Y.size()); ++I)
      if (usable(L.X[I]) && usable(L.Y[I])) {
        XMin = std::min(XMin, L.X[I]);
        XMax = std::max(XMax, L.X[I]);
        YMin = std::min(YMin, L.Y[I]);
        YMax = std::max(YMax, L.Y[I]);
      }
  Axis XA = niceAxis(XMin, XMax), YA = niceAxis(YMin, YMax);

  std::vector<std::string> Names;
  size_t LongestName = 0;
  for (const Series &L : Lines) {
    Names.push_back(truncate(L.Name, MaxLegendChars));
    LongestName = std::max(LongestName, codePoints(Names.back()));
  }
  double LegendWidth =
      Lines.empty() ? 0 : SampleWidth + 24 + CharWidth * LongestName;
  double Left = MarginLeft, Top = MarginTop;
  double Right =
      Width - MarginRight - (Lines.empty() ? 0 : LegendGap) - LegendWidth;
  double Bottom = Height - MarginBottom;
  auto PX = [&](double X) {
    return Left + (X - XA.Lo) / (XA.Hi - XA.Lo) * (Right - Left);
  };
  auto PY = [&](double Y) {
    return Bottom - (Y - YA.Lo) / (YA.Hi - YA.Lo) * (Bottom - Top);
  };

  std::string S;
  auto Out = std::back_inserter(S);
  fmt::format_to(Out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                 "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                 "font-family=\"sans-serif\" font-size=\"12\">\n"
                 "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
                 static_cast<int>(Width), static_cast<int>(Height));
  fmt::format_to(Out,
                 "<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" "
                 "font-size=\"16\" font-weight=\"bold\">{}</text>\n",
                 (Left + Right) / 2, escape(Title));

  // Grid lines and tick labels; the grid is drawn first so the data covers
  // it.
  S += "<g stroke=\"#e2e2e2\" stroke-width=\"1\">\n";
  for (int64_t I = 0; I < XA.Count; ++I)
    fmt::format_to(Out,
                   "<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{0:.2f}\" "
                   "y2=\"{2:.2f}\"/>\n",
                   PX(XA.tick(I)), Top, Bottom);
  for (int64_t I = 0; I < YA.Count; ++I)
    fmt::format_to(Out,
                   "<line x1=\"{1:.2f}\" y1=\"{0:.2f}\" x2=\"{2:.2f}\" "
                   "y2=\"{0:.2f}\"/>\n",
                   PY(YA.tick(I)), Left, Right);
  S += "</g>\n<g text-anchor=\"middle\">\n";
  for (int64_t I = 0; I < XA.Count; ++I)
    fmt::format_to(Out, "<text x=\"{:.2f}\" y=\"{:.2f}\">{}</text>\n",
                   PX(XA.tick(I)), Bottom + 18, escape(XA.label(I)));
  S += "</g>\n<g text-anchor=\"end\">\n";
  for (int64_t I = 0; I < YA.Count; ++I)
    fmt::format_to(Out, "<text x=\"{:.2f}\" y=\"{:.2f}\">{}</text>\n", Left - 6,
                   PY(YA.tick(I)) + 4, escape(YA.label(I)));
  S += "</g>\n";
  fmt::format_to(Out,
                 "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" "
                 "height=\"{:.2f}\" fill=\"none\" stroke=\"#333333\"/>\n",
                 Left, Top, Right - Left, Bottom - Top);
  fmt::format_to(Out,
                 "<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}"
                 "</text>\n",
                 (Left + Right) / 2, Height - 14, escape(XLabel));
  fmt::format_to(Out,
                 "<text transform=\"translate(16,{:.2f}) rotate(-90)\" "
                 "text-anchor=\"middle\">{}</text>\n",
                 (Top + Bottom) / 2, escape(YLabel));

  // The data: one polyline per series, even an empty one, so that series
  // and elements correspond. A lone point gets a dot, since a one-point
  // polyline draws nothing.
  S += "<g fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\">\n";
  for (size_t L = 0; L < Lines.size(); ++L) {
    const Series &Ser = Lines[L];
    const char *Colour = Palette[L % std::size(Palette)];
    std::string Points;
    size_t Count = 0;
    double LastX = 0, LastY = 0;
    for (size_t I = 0; I < std::min(Ser.X.size(), Ser.Y.size()); ++I) {
      if (!usable(Ser.X[I]) || !usable(Ser.Y[I]))
        continue;
      LastX = PX(Ser.X[I]);
      LastY = PY(Ser.Y[I]);
      fmt::format_to(std::back_inserter(Points), "{}{:.2f},{:.2f}",
                     Count++ ? " " : "", LastX, LastY);
    }
    fmt::format_to(Out, "<polyline stroke=\"{}\" points=\"{}\"/>\n", Colour,
                   Points);
    if (Count == 1)
      fmt::format_to(Out,
                     "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" "
                     "fill=\"{}\" stroke=\"none\"/>\n",
                     LastX, LastY, Colour);
  }
  S += "</g>\n";

  if (!Lines.empty()) {
    double LX = Right + LegendGap;
    fmt::format_to(Out,
                   "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" "
                   "height=\"{:.2f}\" fill=\"white\" stroke=\"#cccccc\"/>\n",
                   LX, Top, LegendWidth, LegendRow * Lines.size() + 8);
    for (size_t L = 0; L < Lines.size(); ++L) {
      double Y = Top + 4 + LegendRow * (L + 0.5);
      fmt::format_to(Out,
                     "<line x1=\"{0:.2f}\" y1=\"{2:.2f}\" x2=\"{1:.2f}\" "
                     "y2=\"{2:.2f}\" stroke=\"{3}\" stroke-width=\"2\"/>\n"
                     "<text x=\"{4:.2f}\" y=\"{5:.2f}\">{6}</text>\n",
                     LX + 6, LX + 6 + SampleWidth, Y,
                     Palette[L % std::size(Palette)], LX + SampleWidth + 12,
                     Y + 4, escape(Names[L]));
    }
  }
  S += "</svg>\n";

  writeFileAtomically(Path, std::vector<unsigned char>(S.begin(), S.end()),
                      "plot");
}
