//===- Glyphs.cpp - An Omniglot-like glyph set from installed fonts -------===//
//
// Two phases. Extraction turns each candidate code point (or Hershey glyph)
// into pen strokes normalised to [-1, 1], drops empty, tiny and duplicate
// characters and subsamples large alphabets; it runs per alphabet. Drawing
// renders every character with every drawer's style; it runs per character.
// Both are pure functions of their inputs, so the worker threads only change
// the speed.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Glyphs.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"
#include "metac/runtime/Rng.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <thread>

using namespace metac::runtime;

/// Bump when the drawing changes, so that old caches are not reused.
static constexpr uint32_t GeneratorVersion = 1;

/// The root key of all drawer styles. Fixed: the data set is part of the
/// build, not of a run's seed.
static constexpr uint64_t DrawerRoot = 0x676c797068730001ULL; // "glyphs"

namespace {

//===----------------------------------------------------------------------===//
// The alphabet table
//===----------------------------------------------------------------------===//

struct CodeRange {
  uint32_t First, Last;
};

/// One alphabet: a Noto font and the ranges of its letters, or a Hershey
/// font and the ASCII positions of its letters.
struct Script {
  const char *Name;
  const char *File;
  Split DataSplit;
  std::vector<CodeRange> Ranges;
  /// Hershey only: the ASCII characters whose glyphs to take (empty: all).
  const char *HersheyChars = nullptr;
};

constexpr Split B = Split::Background, E = Split::Evaluation;
const char *const HersheyLetters =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The order alternates B, B, E so that any prefix (GlyphOptions::
/// MaxAlphabets) has both splits; the split follows Omniglot's where it has
/// the same script (e.g. Armenian, Bengali, N'Ko in background; Ge'ez,
/// Glagolitic, Tibetan in evaluation).
const std::vector<Script> &scripts() {
  static const std::vector<Script> Table = {
      {"Armenian",
       "NotoSansArmenian-Regular.ttf",
       B,
       {{0x531, 0x556}, {0x561, 0x586}}},
      {"Bengali", "NotoSansBengali-Regular.ttf", B, {{0x985, 0x9b9}}},
      {"Ge'ez (Ethiopic)",
       "NotoSansEthiopic-Regular.ttf",
       E,
       {{0x1200, 0x135a}}},
      {"Georgian (Mkhedruli)",
       "NotoSansGeorgian-Regular.ttf",
       B,
       {{0x10d0, 0x10fa}}},
      {"Cyrillic (Hershey)", "cyrillic.jhf", B, {}, HersheyLetters},
      {"Glagolitic", "NotoSansGlagolitic-Regular.ttf", E, {{0x2c00, 0x2c2e}}},
      {"Georgian (Asomtavruli)",
       "NotoSansGeorgian-Regular.ttf",
       B,
       {{0x10a0, 0x10c5}}},
      {"Canadian Aboriginal Syllabics",
       "NotoSansCanadianAboriginal-Regular.ttf",
       B,
       {{0x1401, 0x166c}}},
      {"Tibetan", "NotoSerifTibetan-Regular.ttf", E, {{0xf40, 0xf6c}}},
      {"Balinese", "NotoSansBalinese-Regular.ttf", B, {{0x1b05, 0x1b4b}}},
      {"Burmese (Myanmar)",
       "NotoSansMyanmar-Regular.ttf",
       B,
       {{0x1000, 0x102a}, {0x103f, 0x1055}}},
      {"Gurmukhi", "NotoSansGurmukhi-Regular.ttf", E, {{0xa05, 0xa39}}},
      {"Greek (Hershey)", "greeks.jhf", B, {}, HersheyLetters},
      {"Gujarati", "NotoSansGujarati-Regular.ttf", B, {{0xa85, 0xab9}}},
      {"Kannada", "NotoSansKannada-Regular.ttf", E, {{0xc85, 0xcb9}}},
      {"Grantha", "NotoSansGrantha-Regular.ttf", B, {{0x11305, 0x11339}}},
      {"Hebrew", "NotoSansHebrew-Regular.ttf", B, {{0x5d0, 0x5ea}}},
      {"Malayalam", "NotoSansMalayalam-Regular.ttf", E, {{0xd05, 0xd3a}}},
      {"Japanese (Hershey)", "japanese.jhf", B, {}},
      {"Latin script (Hershey)", "scripts.jhf", B, {}, HersheyLetters},
      {"Manipuri (Meetei Mayek)",
       "NotoSansMeeteiMayek-Regular.ttf",
       E,
       {{0xabc0, 0xabe2}}},
      {"Arabic",
       "NotoNaskhArabic-Regular.ttf",
       B,
       {{0x621, 0x64a}, {0x671, 0x6d3}}},
      {"N'Ko", "NotoSansNKo-Regular.ttf", B, {{0x7ca, 0x7ea}}},
      {"Mongolian", "NotoSansMongolian-Regular.ttf", E, {{0x1820, 0x1878}}},
      {"Syriac", "NotoSansSyriac-Regular.ttf", B, {{0x710, 0x72f}}},
      {"Tagalog", "NotoSansTagalog-Regular.ttf", B, {{0x1700, 0x1711}}},
      {"Oriya", "NotoSansOriya-Regular.ttf", E, {{0xb05, 0xb39}}},
      {"Tifinagh", "NotoSansTifinagh-Regular.ttf", B, {{0x2d30, 0x2d67}}},
      {"Anglo-Saxon Futhorc (Runic)",
       "NotoSansRunic-Regular.ttf",
       B,
       {{0x16a0, 0x16f8}}},
      {"Sylheti (Syloti Nagri)",
       "NotoSansSylotiNagri-Regular.ttf",
       E,
       {{0xa800, 0xa82b}}},
      {"Early Aramaic (Imperial Aramaic)",
       "NotoSansImperialAramaic-Regular.ttf",
       B,
       {{0x10840, 0x10855}}},
      {"Cherokee", "NotoSansCherokee-Regular.ttf", B, {{0x13a0, 0x13f4}}},
      {"Avestan", "NotoSansAvestan-Regular.ttf", E, {{0x10b00, 0x10b35}}},
      {"Vai", "NotoSansVai-Regular.ttf", B, {{0xa500, 0xa60b}}},
      {"Thai", "NotoSansThai-Regular.ttf", B, {{0xe01, 0xe2e}}},
      {"Coptic", "NotoSansCoptic-Regular.ttf", E, {{0x2c80, 0x2ce3}}},
      {"Lao", "NotoSansLao-Regular.ttf", B, {{0xe81, 0xeae}}},
      {"Javanese", "NotoSansJavanese-Regular.ttf", B, {{0xa984, 0xa9b2}}},
      {"Telugu", "NotoSansTelugu-Regular.ttf", E, {{0xc05, 0xc39}}},
      {"Thaana", "NotoSansThaana-Regular.ttf", B, {{0x780, 0x7a5}}},
      {"Devanagari", "NotoSansDevanagari-Regular.ttf", B, {{0x904, 0x939}}},
      {"Tamil", "NotoSansTamil-Regular.ttf", E, {{0xb85, 0xbb9}}},
      {"Blackletter (Hershey)", "gothiceng.jhf", B, {}, HersheyLetters},
      {"Ol Chiki", "NotoSansOlChiki-Regular.ttf", B, {{0x1c5a, 0x1c7d}}},
      {"Sinhala", "NotoSansSinhala-Regular.ttf", E, {{0xd85, 0xdc6}}},
      {"Khmer", "NotoSansKhmer-Regular.ttf", E, {{0x1780, 0x17b3}}},
      {"Bamum", "NotoSansBamum-Regular.ttf", E, {{0xa6a0, 0xa6ef}}},
      {"Gothic", "NotoSansGothic-Regular.ttf", E, {{0x10330, 0x1034a}}},
      {"Fraktur (Hershey)", "gothicger.jhf", E, {}, HersheyLetters},
      {"Ogham", "NotoSansOgham-Regular.ttf", E, {{0x1681, 0x169a}}},
  };
  return Table;
}

bool isHershey(const Script &S) {
  return std::strstr(S.File, ".jhf") != nullptr;
}

std::string scriptPath(const Script &S, const GlyphOptions &O) {
  return (isHershey(S) ? O.HersheyDir : O.NotoDir) + "/" + S.File;
}

size_t numScripts(const GlyphOptions &O) {
  size_t N = scripts().size();
  return O.MaxAlphabets > 0 ? std::min<size_t>(N, O.MaxAlphabets) : N;
}

bool isDirectory(const std::string &Path) {
  struct stat St;
  return ::stat(Path.c_str(), &St) == 0 && S_ISDIR(St.st_mode);
}

void checkFontDirectories(const GlyphOptions &O) {
  bool NeedNoto = false, NeedHershey = false;
  for (size_t I = 0; I < numScripts(O); ++I)
    (isHershey(scripts()[I]) ? NeedHershey : NeedNoto) = true;
  if (NeedNoto && !isDirectory(O.NotoDir))
    throw Error("glyph data set: font directory '" + O.NotoDir +
                "' not found (install the Debian package fonts-noto-core)");
  if (NeedHershey && !isDirectory(O.HersheyDir))
    throw Error("glyph data set: font directory '" + O.HersheyDir +
                "' not found (install the Debian package hershey-fonts-data)");
}

//===----------------------------------------------------------------------===//
// Characters as strokes
//===----------------------------------------------------------------------===//

struct Point {
  double X, Y;
};
struct Segment {
  Point A, B;
};

/// A character: its strokes as line segments, x right and y down, scaled so
/// that the bounding box is centred on 0 with its longer side [-1, 1].
struct Character {
  std::string Name;
  std::vector<Segment> Strokes;
};

/// Centres and scales Strokes to the [-1, 1] box. False if they are empty or
/// a single point.
bool normalise(std::vector<Segment> &Strokes) {
  if (Strokes.empty())
    return false;
  double X0 = 1e30, Y0 = 1e30, X1 = -1e30, Y1 = -1e30;
  for (const Segment &S : Strokes)
    for (const Point &P : {S.A, S.B}) {
      X0 = std::min(X0, P.X), X1 = std::max(X1, P.X);
      Y0 = std::min(Y0, P.Y), Y1 = std::max(Y1, P.Y);
    }
  double Half = std::max(X1 - X0, Y1 - Y0) / 2;
  if (Half <= 1e-9)
    return false;
  double CX = (X0 + X1) / 2, CY = (Y0 + Y1) / 2;
  for (Segment &S : Strokes)
    for (Point *P : {&S.A, &S.B})
      *P = {(P->X - CX) / Half, (P->Y - CY) / Half};
  return true;
}

/// Zhang & Suen (1984) thinning of a binary image (1 = ink) to a skeleton
/// one pixel wide, in place. The image must have a zero border.
void thin(std::vector<uint8_t> &Img, int W, int H) {
  std::vector<int> Remove;
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (int Step = 0; Step < 2; ++Step) {
      Remove.clear();
      for (int Y = 1; Y + 1 < H; ++Y)
        for (int X = 1; X + 1 < W; ++X) {
          if (!Img[Y * W + X])
            continue;
          // P2..P9, clockwise from north.
          int P[8] = {Img[(Y - 1) * W + X], Img[(Y - 1) * W + X + 1],
                      Img[Y * W + X + 1],   Img[(Y + 1) * W + X + 1],
                      Img[(Y + 1) * W + X], Img[(Y + 1) * W + X - 1],
                      Img[Y * W + X - 1],   Img[(Y - 1) * W + X - 1]};
          int Neighbours = 0, Transitions = 0;
          for (int K = 0; K < 8; ++K) {
            Neighbours += P[K];
            Transitions += !P[K] && P[(K + 1) % 8];
          }
          if (Neighbours < 2 || Neighbours > 6 || Transitions != 1)
            continue;
          bool Ok = Step == 0
                        ? !(P[0] && P[2] && P[4]) && !(P[2] && P[4] && P[6])
                        : !(P[0] && P[2] && P[6]) && !(P[0] && P[4] && P[6]);
          if (Ok)
            Remove.push_back(Y * W + X);
        }
      for (int I : Remove)
        Img[I] = 0;
      Changed |= !Remove.empty();
    }
  }
}

/// Joins 8-connected skeleton pixels into unit segments. A pixel with a
/// diagonal neighbour that is also reachable through an orthogonal one does
/// not get the diagonal, which would only thicken corners.
std::vector<Segment> skeletonSegments(const std::vector<uint8_t> &Img, int W,
                                      int H) {
  std::vector<Segment> Out;
  auto At = [&](int X, int Y) {
    return X >= 0 && Y >= 0 && X < W && Y < H && Img[Y * W + X];
  };
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X) {
      if (!At(X, Y))
        continue;
      Point P = {X + 0.5, Y + 0.5};
      bool Linked = false;
      auto Link = [&](int DX, int DY) {
        Out.push_back({P, {X + DX + 0.5, Y + DY + 0.5}});
        Linked = true;
      };
      if (At(X + 1, Y))
        Link(1, 0);
      if (At(X, Y + 1))
        Link(0, 1);
      if (At(X + 1, Y + 1) && !At(X + 1, Y) && !At(X, Y + 1))
        Link(1, 1);
      if (At(X - 1, Y + 1) && !At(X - 1, Y) && !At(X, Y + 1))
        Link(-1, 1);
      // An isolated pixel is a dot; keep it as a point-like stroke.
      if (!Linked && !At(X - 1, Y) && !At(X, Y - 1) && !At(X - 1, Y - 1) &&
          !At(X + 1, Y - 1))
        Out.push_back({P, P});
    }
  return Out;
}

/// Loads a Noto font with FreeType; one per alphabet and thread.
class FontFace {
public:
  FontFace(const std::string &Path) {
    if (FT_Init_FreeType(&Library))
      throw Error("glyph data set: cannot initialise FreeType");
    if (FT_New_Face(Library, Path.c_str(), 0, &Face)) {
      FT_Done_FreeType(Library);
      throw Error("glyph data set: cannot load font '" + Path +
                  "' (reinstall the Debian package fonts-noto-core)");
    }
  }
  ~FontFace() {
    FT_Done_Face(Face);
    FT_Done_FreeType(Library);
  }
  FontFace(const FontFace &) = delete;
  FontFace &operator=(const FontFace &) = delete;

  /// The strokes of code point C, or nothing if the font has no glyph for
  /// it, it is a combining mark (no advance), or it is tiny (a dot or a
  /// sign smaller than a third of the em).
  bool strokes(uint32_t C, std::vector<Segment> &Out) {
    FT_UInt Index = FT_Get_Char_Index(Face, C);
    if (!Index || FT_Load_Glyph(Face, Index, FT_LOAD_NO_SCALE))
      return false;
    const FT_Glyph_Metrics &M = Face->glyph->metrics;
    double Em = Face->units_per_EM;
    double Extent = std::max(M.width, M.height);
    if (Face->glyph->advance.x == 0 || Extent < Em / 3)
      return false;
    // Render so that the longer side is about 60 pixels: thick enough
    // strokes (4-6 px) for a clean skeleton, cheap to thin.
    int Pixels = static_cast<int>(std::lround(60.0 * Em / Extent));
    if (FT_Set_Pixel_Sizes(Face, 0, std::clamp(Pixels, 8, 400)) ||
        FT_Load_Glyph(Face, Index, FT_LOAD_RENDER | FT_LOAD_NO_HINTING))
      return false;
    const FT_Bitmap &Bm = Face->glyph->bitmap;
    if (Bm.pixel_mode != FT_PIXEL_MODE_GRAY || Bm.rows == 0 || Bm.width == 0)
      return false;
    int W = Bm.width + 4, H = Bm.rows + 4;
    std::vector<uint8_t> Img(static_cast<size_t>(W) * H, 0);
    for (unsigned Y = 0; Y < Bm.rows; ++Y)
      for (unsigned X = 0; X < Bm.width; ++X)
        Img[(Y + 2) * W + X + 2] = Bm.buffer[Y * Bm.pitch + X] >= 128;
    thin(Img, W, H);
    Out = skeletonSegments(Img, W, H);
    return Out.size() >= 6 && normalise(Out);
  }

private:
  FT_Library Library = nullptr;
  FT_Face Face = nullptr;
};

/// Parses a Hershey .jhf file: one glyph per record, "NNNNNCCCLR" then
/// coordinate pairs, each coordinate a character offset from 'R'; " R" lifts
/// the pen. A record longer than a line continues on the next lines.
std::vector<std::vector<Segment>> readHershey(const std::string &Path) {
  std::ifstream In(Path);
  if (!In)
    throw Error("glyph data set: cannot read Hershey font '" + Path +
                "' (install the Debian package hershey-fonts-data)");
  std::vector<std::vector<Segment>> Glyphs;
  std::string Line, Record;
  while (std::getline(In, Line)) {
    if (!Line.empty() && Line.back() == '\r')
      Line.pop_back();
    Record += Line;
    if (Record.size() < 8)
      continue;
    int Count = std::atoi(Record.substr(5, 3).c_str());
    if (Record.size() < 8 + 2 * static_cast<size_t>(Count))
      continue; // continued on the next line
    std::vector<Segment> Strokes;
    bool PenDown = false;
    Point Last{};
    // The first pair is the left and right margin.
    for (int I = 1; I < Count; ++I) {
      char CX = Record[8 + 2 * I], CY = Record[9 + 2 * I];
      if (CX == ' ' && CY == 'R') {
        PenDown = false;
        continue;
      }
      Point P = {static_cast<double>(CX - 'R'), static_cast<double>(CY - 'R')};
      if (PenDown)
        Strokes.push_back({Last, P});
      Last = P;
      PenDown = true;
    }
    Glyphs.push_back(std::move(Strokes));
    Record.clear();
  }
  return Glyphs;
}

//===----------------------------------------------------------------------===//
// Drawing
//===----------------------------------------------------------------------===//

/// A plane wave A * sin(FX * x + FY * y + Phase).
struct Wave {
  double FX = 0, FY = 0, Phase = 0, Amplitude = 0;
  double at(Point P) const {
    return Amplitude * std::sin(FX * P.X + FY * P.Y + Phase);
  }
};

/// A random wave with spatial frequency in [FLo, FHi] radians per unit (the
/// character spans 2 units), from draws Counter... of R.
Wave randomWave(const rng::CounterRng &R, uint64_t Counter, double FLo,
                double FHi, double Amplitude) {
  double Angle = 2 * M_PI * R.uniform(Counter);
  double F = FLo + (FHi - FLo) * R.uniform(Counter + 1);
  return {F * std::cos(Angle), F * std::sin(Angle),
          2 * M_PI * R.uniform(Counter + 2), Amplitude};
}

/// How one drawer writes: the same for every character.
struct Style {
  double Rotation = 0;             // radians
  double Shear = 0;                // x += Shear * y
  double Aspect = 1;               // width / height scale
  double Size = 0.85;              // longer side of the ink box / image side
  double OffsetX = 0, OffsetY = 0; // in image sides
  double Pen = 1.8;                // pen width in output pixels
  Wave Pressure; // relative pen width variation along the strokes
  Wave WarpX[3], WarpY[3];
};

/// Drawer D's style. Normal draws are clamped to 2.5 standard deviations so
/// that no drawer is a freak.
Style drawerStyle(int D) {
  rng::CounterRng R(rng::combine(DrawerRoot, static_cast<uint64_t>(D)));
  auto Normal = [&](uint64_t K) { return std::clamp(R.normal(K), -2.5, 2.5); };
  Style S;
  S.Rotation = Normal(0) * 5.0 * M_PI / 180;
  S.Shear = Normal(1) * 0.12;
  S.Aspect = std::exp(Normal(2) * 0.10);
  S.Size = 0.74 + 0.16 * R.uniform(100);
  S.OffsetX = Normal(3) * 0.025;
  S.OffsetY = Normal(4) * 0.025;
  S.Pen = 1.0 + 1.2 * R.uniform(101);
  S.Pressure = randomWave(R, 110, 1.0, 3.0, 0.10 + 0.20 * R.uniform(102));
  double Warp = 0.04 + 0.07 * R.uniform(103);
  for (int K = 0; K < 3; ++K) {
    S.WarpX[K] = randomWave(R, 120 + 10 * K, 1.0, 3.2,
                            Warp * R.uniform(121 + 10 * K + 5));
    S.WarpY[K] = randomWave(R, 160 + 10 * K, 1.0, 3.2,
                            Warp * R.uniform(161 + 10 * K + 5));
  }
  return S;
}

/// Draws Strokes (normalised) into Out (Size x Size, ink 1) with drawer
/// style S and the per-image variation of key ImageKey (0: none, for the
/// duplicate test).
void draw(const std::vector<Segment> &Strokes, const Style &S,
          uint64_t ImageKey, int Size, float *Out) {
  rng::CounterRng R(ImageKey);
  bool Vary = ImageKey != 0;
  auto Jitter = [&](uint64_t K, double Sd) {
    return Vary ? std::clamp(R.normal(K), -2.5, 2.5) * Sd : 0.0;
  };
  double Rotation = S.Rotation + Jitter(0, 3.0 * M_PI / 180);
  double Shear = S.Shear + Jitter(1, 0.04);
  double Aspect = S.Aspect * std::exp(Jitter(2, 0.04));
  double SizeF = S.Size * std::exp(Jitter(3, 0.04));
  double OffX = S.OffsetX + Jitter(4, 0.015),
         OffY = S.OffsetY + Jitter(5, 0.015);
  double Pen = S.Pen * std::exp(Jitter(6, 0.08));
  Wave Own[2];
  if (Vary) {
    Own[0] = randomWave(R, 20, 1.5, 4.0, 0.025);
    Own[1] = randomWave(R, 30, 1.5, 4.0, 0.025);
  }

  // Subdivide so that the warp bends long strokes instead of moving only
  // their ends, then warp, shear, stretch and rotate.
  double C = std::cos(Rotation), Sn = std::sin(Rotation);
  auto Transform = [&](Point P) {
    double DX = 0, DY = 0;
    for (int K = 0; K < 3; ++K) {
      DX += S.WarpX[K].at(P);
      DY += S.WarpY[K].at(P);
    }
    DX += Own[0].at(P);
    DY += Own[1].at(P);
    double X = P.X + DX, Y = P.Y + DY;
    X = (X + Shear * Y) * std::sqrt(Aspect);
    Y = Y / std::sqrt(Aspect);
    return Point{C * X - Sn * Y, Sn * X + C * Y};
  };
  struct Piece {
    Point A, B;
    double Width; // relative
  };
  std::vector<Piece> Pieces;
  Pieces.reserve(Strokes.size() * 2);
  for (const Segment &Seg : Strokes) {
    double Len = std::hypot(Seg.B.X - Seg.A.X, Seg.B.Y - Seg.A.Y);
    int N = std::max(1, static_cast<int>(std::ceil(Len / 0.08)));
    Point Prev = Transform(Seg.A);
    for (int I = 1; I <= N; ++I) {
      double T = static_cast<double>(I) / N;
      Point Src = {Seg.A.X + T * (Seg.B.X - Seg.A.X),
                   Seg.A.Y + T * (Seg.B.Y - Seg.A.Y)};
      Point Next = Transform(Src);
      Pieces.push_back({Prev, Next, 1.0 + S.Pressure.at(Src)});
      Prev = Next;
    }
  }

  // Fit the ink box into the image: the longer side gets SizeF of it, pen
  // included, centred plus the drawer's offset.
  const int Scale = 2; // supersampling
  const int N = Size * Scale;
  double X0 = 1e30, Y0 = 1e30, X1 = -1e30, Y1 = -1e30;
  for (const Piece &P : Pieces)
    for (const Point &Q : {P.A, P.B}) {
      X0 = std::min(X0, Q.X), X1 = std::max(X1, Q.X);
      Y0 = std::min(Y0, Q.Y), Y1 = std::max(Y1, Q.Y);
    }
  double Radius = Pen * Scale / 2; // in supersampled pixels
  double Half = std::max({X1 - X0, Y1 - Y0, 1e-6}) / 2;
  double K = std::max(1.0, SizeF * N / 2 - Radius) / Half;
  double CX = N / 2.0 + OffX * N, CY = N / 2.0 + OffY * N;
  double MX = (X0 + X1) / 2, MY = (Y0 + Y1) / 2;

  std::vector<float> Big(static_cast<size_t>(N) * N, 0.0f);
  for (const Piece &P : Pieces) {
    double AX = CX + K * (P.A.X - MX), AY = CY + K * (P.A.Y - MY);
    double BX = CX + K * (P.B.X - MX), BY = CY + K * (P.B.Y - MY);
    double R = std::max(0.6, Radius * P.Width);
    int XLo =
        std::max(0, static_cast<int>(std::floor(std::min(AX, BX) - R - 1)));
    int XHi =
        std::min(N - 1, static_cast<int>(std::ceil(std::max(AX, BX) + R + 1)));
    int YLo =
        std::max(0, static_cast<int>(std::floor(std::min(AY, BY) - R - 1)));
    int YHi =
        std::min(N - 1, static_cast<int>(std::ceil(std::max(AY, BY) + R + 1)));
    double VX = BX - AX, VY = BY - AY, LL = VX * VX + VY * VY;
    double Reach2 = (R + 0.5) * (R + 0.5);
    for (int Y = YLo; Y <= YHi; ++Y)
      for (int X = XLo; X <= XHi; ++X) {
        double PX = X + 0.5 - AX, PY = Y + 0.5 - AY;
        double T = LL > 0 ? std::clamp((PX * VX + PY * VY) / LL, 0.0, 1.0) : 0;
        double DX = PX - T * VX, DY = PY - T * VY;
        double D2 = DX * DX + DY * DY;
        if (D2 >= Reach2)
          continue;
        // Coverage of a pixel by the edge of the pen, linear over one pixel.
        float Ink = static_cast<float>(std::min(1.0, R + 0.5 - std::sqrt(D2)));
        float &Dst = Big[Y * N + X];
        Dst = std::max(Dst, Ink);
      }
  }
  areaResize(Big.data(), N, N, Out, Size, Size);
}

/// Replaces pen strokes by the skeleton of their drawing. The complex and
/// gothic Hershey fonts fill thick parts with several parallel strokes; drawn
/// with a wide pen these merge, and the skeleton is the one line a person
/// would write.
bool centreline(std::vector<Segment> &Strokes) {
  const int N = 64;
  Style Plain;
  Plain.Size = 0.9;
  Plain.Pen = 3.0; // output pixels: merges strokes up to ~1.5 units apart
  std::vector<float> Img(static_cast<size_t>(N) * N);
  draw(Strokes, Plain, 0, N, Img.data());
  std::vector<uint8_t> Bits(Img.size());
  for (size_t I = 0; I < Img.size(); ++I)
    Bits[I] = Img[I] >= 0.5f;
  thin(Bits, N, N);
  Strokes = skeletonSegments(Bits, N, N);
  return Strokes.size() >= 6 && normalise(Strokes);
}

/// Dissimilarity of two images: the ink they do not share over the ink they
/// have (0 = identical).
double difference(const std::vector<float> &A, const std::vector<float> &B) {
  double Diff = 0, Total = 0;
  for (size_t I = 0; I < A.size(); ++I) {
    Diff += std::abs(A[I] - B[I]);
    Total += A[I] + B[I];
  }
  return Total > 0 ? Diff / Total : 0;
}

/// The characters of one alphabet: every candidate that has strokes, minus
/// near-duplicates (same drawing after bounding-box normalisation, e.g.
/// Latin-looking letters that occur twice), evenly subsampled to Cap.
std::vector<Character> extractAlphabet(const Script &S, const GlyphOptions &O,
                                       int *Dropped) {
  std::vector<Character> Candidates;
  std::string Path = scriptPath(S, O);
  if (isHershey(S)) {
    auto Glyphs = readHershey(Path);
    for (size_t I = 0; I < Glyphs.size(); ++I) {
      // Record I of a 96-glyph font is ASCII character 32 + I.
      if (S.HersheyChars &&
          (I + 32 > 126 ||
           !std::strchr(S.HersheyChars, static_cast<int>(I + 32))))
        continue;
      std::vector<Segment> Strokes = Glyphs[I];
      // Skip punctuation-sized glyphs (Hershey letters are ~20 units high).
      double X0 = 1e30, Y0 = 1e30, X1 = -1e30, Y1 = -1e30;
      for (const Segment &Seg : Strokes)
        for (const Point &P : {Seg.A, Seg.B}) {
          X0 = std::min(X0, P.X), X1 = std::max(X1, P.X);
          Y0 = std::min(Y0, P.Y), Y1 = std::max(Y1, P.Y);
        }
      if (Strokes.empty() || std::max(X1 - X0, Y1 - Y0) < 8 ||
          !normalise(Strokes) || !centreline(Strokes)) {
        ++*Dropped;
        continue;
      }
      Candidates.push_back(
          {std::string(S.File) + "#" + std::to_string(I), std::move(Strokes)});
    }
  } else {
    FontFace Face(Path);
    for (const CodeRange &Range : S.Ranges)
      for (uint32_t C = Range.First; C <= Range.Last; ++C) {
        std::vector<Segment> Strokes;
        if (!Face.strokes(C, Strokes)) {
          ++*Dropped;
          continue;
        }
        char Name[16];
        std::snprintf(Name, sizeof Name, "U+%04X", C);
        Candidates.push_back({Name, std::move(Strokes)});
      }
  }

  // A bare line (a dash, a vertical bar) is no character a drawer could make
  // distinct; with rotations it would even be two classes of one shape.
  auto IsLine = [](const Character &Ch) {
    double X0 = 1e30, Y0 = 1e30, X1 = -1e30, Y1 = -1e30;
    for (const Segment &Seg : Ch.Strokes)
      for (const Point &P : {Seg.A, Seg.B}) {
        X0 = std::min(X0, P.X), X1 = std::max(X1, P.X);
        Y0 = std::min(Y0, P.Y), Y1 = std::max(Y1, P.Y);
      }
    return std::min(X1 - X0, Y1 - Y0) < 0.2; // the longer side is 2
  };
  size_t Before = Candidates.size();
  Candidates.erase(std::remove_if(Candidates.begin(), Candidates.end(), IsLine),
                   Candidates.end());
  *Dropped += static_cast<int>(Before - Candidates.size());

  // Compare plain renderings (no drawer style).
  Style Plain;
  Plain.Size = 0.9;
  Plain.Pen = 1.6;
  std::vector<std::vector<float>> Kept;
  std::vector<Character> Unique;
  for (Character &Ch : Candidates) {
    std::vector<float> Img(static_cast<size_t>(O.Size) * O.Size);
    draw(Ch.Strokes, Plain, 0, O.Size, Img.data());
    bool Duplicate = false;
    for (const auto &K : Kept)
      if (difference(Img, K) < 0.12) {
        Duplicate = true;
        break;
      }
    if (Duplicate) {
      ++*Dropped;
      continue;
    }
    Kept.push_back(std::move(Img));
    Unique.push_back(std::move(Ch));
  }
  if (static_cast<int>(Unique.size()) <= O.MaxCharacters)
    return Unique;
  std::vector<Character> Chosen;
  for (int I = 0; I < O.MaxCharacters; ++I)
    Chosen.push_back(std::move(Unique[I * Unique.size() / O.MaxCharacters]));
  return Chosen;
}

/// Runs Body(I) for I in [0, N) on Threads workers. Exceptions are rethrown
/// (the first, by index) on the calling thread.
void parallelFor(size_t N, int Threads,
                 const std::function<void(size_t)> &Body) {
  if (Threads <= 0)
    Threads = std::max(1u, std::thread::hardware_concurrency());
  Threads = static_cast<int>(std::min<size_t>(Threads, N));
  std::vector<std::exception_ptr> Errors(N);
  std::atomic<size_t> Next{0};
  auto Work = [&] {
    for (size_t I; (I = Next++) < N;) {
      try {
        Body(I);
      } catch (...) {
        Errors[I] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> Pool;
  for (int T = 1; T < Threads; ++T)
    Pool.emplace_back(Work);
  Work();
  for (auto &T : Pool)
    T.join();
  for (auto &E : Errors)
    if (E)
      std::rethrow_exception(E);
}

struct Extracted {
  std::vector<GlyphAlphabetInfo> Infos;
  std::vector<std::vector<Character>> Characters;
};

Extracted extractAll(const GlyphOptions &O) {
  if (O.MaxCharacters <= 0 || O.Drawers <= 0 || O.Size < 8)
    throw Error("glyph data set: bad options (characters, drawers and size "
                "must be positive)");
  checkFontDirectories(O);
  size_t N = numScripts(O);
  Extracted X;
  X.Infos.resize(N);
  X.Characters.resize(N);
  parallelFor(N, O.Threads, [&](size_t I) {
    const Script &S = scripts()[I];
    GlyphAlphabetInfo &Info = X.Infos[I];
    Info.Name = S.Name;
    Info.DataSplit = S.DataSplit;
    Info.Source = scriptPath(S, O);
    struct stat St;
    if (::stat(Info.Source.c_str(), &St) != 0) {
      Info.Installed = false;
      return;
    }
    X.Characters[I] = extractAlphabet(S, O, &Info.Dropped);
    Info.Characters = static_cast<int>(X.Characters[I].size());
  });
  return X;
}

} // namespace

std::vector<GlyphAlphabetInfo>
metac::runtime::listGlyphAlphabets(const GlyphOptions &O) {
  return extractAll(O).Infos;
}

ClassImageSet metac::runtime::buildGlyphSet(const GlyphOptions &O) {
  Extracted X = extractAll(O);
  ClassImageSet Set;
  Set.Height = Set.Width = O.Size;
  struct Job {
    int Alphabet;
    const Character *Ch;
  };
  std::vector<Job> Jobs;
  for (size_t I = 0; I < X.Infos.size(); ++I) {
    if (X.Characters[I].empty())
      continue;
    Set.Alphabets.push_back({X.Infos[I].Name, X.Infos[I].DataSplit});
    for (const Character &Ch : X.Characters[I])
      Jobs.push_back({static_cast<int>(Set.Alphabets.size()) - 1, &Ch});
  }
  if (Jobs.empty())
    throw Error("glyph data set: no font of the alphabet table is installed "
                "in '" +
                O.NotoDir + "' or '" + O.HersheyDir +
                "' (install the Debian packages fonts-noto-core and "
                "hershey-fonts-data)");

  std::vector<Style> Styles;
  for (int D = 0; D < O.Drawers; ++D)
    Styles.push_back(drawerStyle(D));
  size_t ImageSize = Set.imageSize();
  Set.Pixels.resize(Jobs.size() * O.Drawers * ImageSize);
  parallelFor(Jobs.size(), O.Threads, [&](size_t J) {
    std::vector<float> Img(ImageSize);
    // The image key depends on the character's name, not its position, so
    // that a character looks the same whatever MaxAlphabets is.
    uint64_t CharKey = rng::combine(
        rng::combine(DrawerRoot,
                     fnv1a(Set.Alphabets[Jobs[J].Alphabet].Name.data(),
                           Set.Alphabets[Jobs[J].Alphabet].Name.size())),
        fnv1a(Jobs[J].Ch->Name.data(), Jobs[J].Ch->Name.size()));
    for (int D = 0; D < O.Drawers; ++D) {
      draw(Jobs[J].Ch->Strokes, Styles[D], rng::combine(CharKey, D) | 1, O.Size,
           Img.data());
      uint8_t *Dst = Set.Pixels.data() + (J * O.Drawers + D) * ImageSize;
      for (size_t P = 0; P < ImageSize; ++P)
        Dst[P] = static_cast<uint8_t>(
            std::lround(std::clamp(Img[P], 0.0f, 1.0f) * 255.0f));
    }
  });
  for (size_t J = 0; J < Jobs.size(); ++J) {
    CharacterClass C;
    C.AlphabetIndex = Jobs[J].Alphabet;
    C.Name = Jobs[J].Ch->Name;
    C.DataSplit = Set.Alphabets[C.AlphabetIndex].DataSplit;
    C.FirstImage = J * O.Drawers;
    C.NumImages = O.Drawers;
    Set.Classes.push_back(std::move(C));
  }
  return Set;
}

/// A hash of everything the set depends on: options, generator version and
/// the identity (size, modification time) of every font file used.
static uint64_t glyphKey(const GlyphOptions &O) {
  uint64_t H = fnv1a(&GeneratorVersion, sizeof GeneratorVersion);
  for (int V : {O.MaxAlphabets, O.MaxCharacters, O.Drawers, O.Size})
    H = rng::combine(H, static_cast<uint64_t>(static_cast<int64_t>(V)));
  for (size_t I = 0; I < numScripts(O); ++I) {
    std::string Path = scriptPath(scripts()[I], O);
    H = fnv1a(Path.data(), Path.size(), H);
    struct stat St;
    if (::stat(Path.c_str(), &St) == 0) {
      H = rng::combine(H, static_cast<uint64_t>(St.st_size));
      H = rng::combine(H, static_cast<uint64_t>(St.st_mtime));
    }
  }
  return H;
}

std::string metac::runtime::glyphCachePath(const GlyphOptions &O) {
  char Name[64];
  std::snprintf(Name, sizeof Name, "glyphs-v%u.%u-%016llx.bin",
                ImageSetFormatVersion, GeneratorVersion,
                static_cast<unsigned long long>(glyphKey(O)));
  return (O.CacheDir.empty() ? defaultCacheDir() : O.CacheDir) + "/" + Name;
}

ClassImageSet metac::runtime::loadGlyphSet(const GlyphOptions &O,
                                           GlyphLoadInfo *Info) {
  auto Start = std::chrono::steady_clock::now();
  GlyphLoadInfo Local;
  GlyphLoadInfo &I = Info ? *Info : Local;
  I = GlyphLoadInfo();
  I.CachePath = glyphCachePath(O);
  ClassImageSet Set;
  uint64_t Key = glyphKey(O);
  if (loadImageSet(I.CachePath, Key, Set, &I.CacheMiss)) {
    I.FromCache = true;
  } else {
    Set = buildGlyphSet(O);
    saveImageSet(Set, Key, I.CachePath);
  }
  I.Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  return Set;
}
