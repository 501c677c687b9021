//===- metac-data.cpp - Look at the few-shot image data -------------------===//
//
//   metac-data info [--omniglot ROOT]
//   metac-data contact-sheet OUT.png [--alphabets N] [--from I]
//       [--characters N] [--drawers N] [--scale S] [--omniglot ROOT]
//   metac-data export DIR [--alphabets N] [--characters N] [--drawers N]
//       [--scale S]
//
// `info` lists alphabets, classes and the split, and where the glyph cache
// lives; `contact-sheet` writes a PNG grid (rows: characters of many
// alphabets, columns: drawers), dark ink on white, so a person can see what
// a model is trained on. `export` writes the glyph set in Omniglot's folder
// layout, so that any program that reads Omniglot (the PyTorch benchmark
// peer, `--omniglot DIR` of a compiled program, the tests) can read it.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Error.h"
#include "metac/runtime/Glyphs.h"
#include "metac/runtime/Omniglot.h"
#include "metac/runtime/Png.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

using namespace metac::runtime;

static const char Usage[] =
    "usage: metac-data info [--omniglot ROOT]\n"
    "       metac-data contact-sheet OUT.png [options]\n"
    "       metac-data export DIR [options]\n"
    "\n"
    "Without --omniglot ROOT, the glyph data set is loaded from its cache\n"
    "(built on first use; see docs/data.md).\n"
    "\n"
    "contact-sheet options:\n"
    "  --alphabets N   alphabets in the sheet, spread evenly (default 25)\n"
    "  --from I        spread them from the I-th alphabet on (default 1)\n"
    "  --characters N  characters per alphabet (default 2)\n"
    "  --drawers N     drawers (columns) per character (default 20)\n"
    "  --scale S       pixels per image pixel, 1 to 8 (default 1)\n"
    "\n"
    "export writes DIR/images_background/ALPHABET/characterNN/*.png and\n"
    "DIR/images_evaluation/... (dark ink on white, as Omniglot is).\n"
    "export options (default: everything):\n"
    "  --alphabets N   the first N alphabets of each split\n"
    "  --characters N  the first N characters of each alphabet\n"
    "  --drawers N     the first N drawers of each character\n"
    "  --scale S       pixels per image pixel, 1 to 8 (default 1)\n";

namespace {
struct Args {
  std::string Command, Out, Omniglot;
  int Alphabets = 25, Characters = 2, Drawers = 20, Scale = 1, From = 0;
  /// Which of the counts above were given (export defaults to everything).
  bool AlphabetsGiven = false, CharactersGiven = false, DrawersGiven = false;
};

int positive(const char *Flag, const char *Value) {
  char *End = nullptr;
  long V = std::strtol(Value, &End, 10);
  if (!*Value || *End || V < 1 || V > 10000)
    throw Error(std::string("invalid value '") + Value + "' for " + Flag +
                    " (expected a positive integer)",
                ExitUsage);
  return static_cast<int>(V);
}

Args parse(int Argc, char **Argv) {
  Args A;
  if (Argc < 2)
    throw Error("missing command (info, contact-sheet or export)", ExitUsage);
  A.Command = Argv[1];
  if (A.Command == "--help" || A.Command == "-h") {
    std::fputs(Usage, stdout);
    std::exit(0);
  }
  if (A.Command != "info" && A.Command != "contact-sheet" &&
      A.Command != "export")
    throw Error("unknown command '" + A.Command + "' (see --help)", ExitUsage);
  for (int I = 2; I < Argc; ++I) {
    std::string F = Argv[I];
    auto Value = [&]() -> const char * {
      if (I + 1 >= Argc)
        throw Error("missing value for " + F, ExitUsage);
      return Argv[++I];
    };
    if (F == "--omniglot")
      A.Omniglot = Value();
    else if (F == "--alphabets")
      A.Alphabets = positive("--alphabets", Value()), A.AlphabetsGiven = true;
    else if (F == "--from")
      A.From = positive("--from", Value()) - 1;
    else if (F == "--characters")
      A.Characters = positive("--characters", Value()),
      A.CharactersGiven = true;
    else if (F == "--drawers")
      A.Drawers = positive("--drawers", Value()), A.DrawersGiven = true;
    else if (F == "--scale")
      A.Scale = std::min(8, positive("--scale", Value()));
    else if (F == "--help" || F == "-h") {
      std::fputs(Usage, stdout);
      std::exit(0);
    } else if (!F.empty() && F[0] != '-' && A.Command != "info" &&
               A.Out.empty())
      A.Out = F;
    else
      throw Error("unknown argument '" + F + "' (see --help)", ExitUsage);
  }
  if (A.Command == "contact-sheet" && A.Out.empty())
    throw Error("contact-sheet needs an output file name", ExitUsage);
  if (A.Command == "export" && A.Out.empty())
    throw Error("export needs an output folder", ExitUsage);
  return A;
}

ClassImageSet load(const Args &A, GlyphLoadInfo *Info) {
  if (!A.Omniglot.empty())
    return loadOmniglot(A.Omniglot);
  return loadGlyphSet(GlyphOptions(), Info);
}

void info(const Args &A) {
  GlyphLoadInfo Info;
  ClassImageSet Set = load(A, &Info);
  if (A.Omniglot.empty()) {
    std::printf(
        "glyph data set: cache %s (%s, %.2f s)\n", Info.CachePath.c_str(),
        Info.FromCache ? "loaded" : ("built: " + Info.CacheMiss).c_str(),
        Info.Seconds);
    for (const GlyphAlphabetInfo &G : listGlyphAlphabets(GlyphOptions()))
      if (!G.Installed)
        std::printf("not installed: %s (%s)\n", G.Name.c_str(),
                    G.Source.c_str());
  } else {
    std::printf("Omniglot: %s\n", A.Omniglot.c_str());
  }
  std::vector<int> Classes(Set.Alphabets.size()), Images(Set.Alphabets.size());
  for (const CharacterClass &C : Set.Classes) {
    ++Classes[C.AlphabetIndex];
    Images[C.AlphabetIndex] += C.NumImages;
  }
  std::printf("%-36s %-10s %7s %7s\n", "alphabet", "split", "classes",
              "images");
  for (size_t I = 0; I < Set.Alphabets.size(); ++I)
    std::printf("%-36s %-10s %7d %7d\n", Set.Alphabets[I].Name.c_str(),
                splitName(Set.Alphabets[I].DataSplit), Classes[I], Images[I]);
  for (Split S : {Split::Background, Split::Evaluation})
    std::printf("%s: %zu alphabets, %zu classes\n", splitName(S),
                Set.numAlphabets(S), Set.numClasses(S));
  std::printf("total: %zu alphabets, %zu classes, %zu images of %dx%d\n",
              Set.Alphabets.size(), Set.Classes.size(), Set.numImages(),
              Set.Height, Set.Width);
}

/// Image Index of class Class as on paper (dark ink on white), each pixel
/// repeated Scale x Scale times.
GrayImage paperImage(const ClassImageSet &Set, int Class, int Index,
                     int Scale) {
  GrayImage Img;
  Img.Width = Set.Width * Scale;
  Img.Height = Set.Height * Scale;
  Img.Pixels.resize(static_cast<size_t>(Img.Width) * Img.Height);
  const uint8_t *Ink = Set.image(Class, Index);
  for (int Y = 0; Y < Img.Height; ++Y)
    for (int X = 0; X < Img.Width; ++X)
      Img.Pixels[Y * Img.Width + X] =
          255 - Ink[(Y / Scale) * Set.Width + X / Scale];
  return Img;
}

void contactSheet(const Args &A) {
  ClassImageSet Set = load(A, nullptr);
  // Alphabets spread evenly over the set, characters evenly over each.
  std::vector<std::vector<int>> ByAlphabet(Set.Alphabets.size());
  for (size_t C = 0; C < Set.Classes.size(); ++C)
    ByAlphabet[Set.Classes[C].AlphabetIndex].push_back(static_cast<int>(C));
  size_t First = std::min<size_t>(A.From, Set.Alphabets.size() - 1);
  size_t Available = Set.Alphabets.size() - First;
  size_t NA = std::min<size_t>(A.Alphabets, Available);
  std::vector<int> Rows;
  for (size_t I = 0; I < NA; ++I) {
    const auto &Cs = ByAlphabet[First + I * Available / NA];
    size_t NC = std::min<size_t>(A.Characters, Cs.size());
    for (size_t J = 0; J < NC; ++J)
      Rows.push_back(Cs[(2 * J + 1) * Cs.size() / (2 * NC)]);
  }
  int Columns = A.Drawers;
  for (int C : Rows)
    Columns = std::min(Columns, Set.Classes[C].NumImages);
  const int Gap = 2, S = A.Scale;
  const int CellW = Set.Width * S + Gap, CellH = Set.Height * S + Gap;
  GrayImage Out;
  Out.Width = Columns * CellW + Gap;
  Out.Height = static_cast<int>(Rows.size()) * CellH + Gap;
  // Paper white, with light grey gutters so the 28 x 28 frames are visible.
  Out.Pixels.assign(static_cast<size_t>(Out.Width) * Out.Height, 200);
  for (size_t R = 0; R < Rows.size(); ++R)
    for (int D = 0; D < Columns; ++D) {
      GrayImage Img = paperImage(Set, Rows[R], D, S);
      int OX = Gap + D * CellW, OY = Gap + static_cast<int>(R) * CellH;
      for (int Y = 0; Y < Img.Height; ++Y)
        std::memcpy(&Out.Pixels[(OY + Y) * Out.Width + OX],
                    &Img.Pixels[Y * Img.Width], Img.Width);
    }
  writeGrayPng(A.Out, Out);
  std::printf("wrote %s: %zu characters x %d drawers\n", A.Out.c_str(),
              Rows.size(), Columns);
}
/// A folder name from an alphabet name: letters, digits, '_', '-', '(' and
/// ')' kept, anything else '_'.
std::string folderName(const std::string &Name) {
  std::string Out = Name;
  for (char &C : Out)
    if (!std::isalnum(static_cast<unsigned char>(C)) && C != '_' && C != '-' &&
        C != '(' && C != ')')
      C = '_';
  return Out;
}

void exportOmniglot(const Args &A) {
  namespace fs = std::filesystem;
  ClassImageSet Set = load(A, nullptr);
  std::vector<std::vector<int>> ByAlphabet(Set.Alphabets.size());
  for (size_t C = 0; C < Set.Classes.size(); ++C)
    ByAlphabet[Set.Classes[C].AlphabetIndex].push_back(static_cast<int>(C));
  const int S = A.Scale;
  size_t Alphabets = 0, Classes = 0, Images = 0;
  for (Split Which : {Split::Background, Split::Evaluation}) {
    fs::path SplitDir =
        fs::path(A.Out) / (Which == Split::Background ? "images_background"
                                                      : "images_evaluation");
    int Taken = 0;
    for (size_t AI = 0; AI < Set.Alphabets.size(); ++AI) {
      if (Set.Alphabets[AI].DataSplit != Which ||
          (A.AlphabetsGiven && Taken >= A.Alphabets))
        continue;
      ++Taken, ++Alphabets;
      fs::path AlphabetDir = SplitDir / folderName(Set.Alphabets[AI].Name);
      const std::vector<int> &Cs = ByAlphabet[AI];
      size_t NC = A.CharactersGiven ? std::min<size_t>(A.Characters, Cs.size())
                                    : Cs.size();
      for (size_t J = 0; J < NC; ++J, ++Classes) {
        char Name[32];
        std::snprintf(Name, sizeof Name, "character%02zu", J + 1);
        fs::path CharDir = AlphabetDir / Name;
        std::error_code Ec;
        fs::create_directories(CharDir, Ec);
        if (Ec)
          throw Error("cannot create '" + CharDir.string() +
                      "': " + Ec.message());
        int ND = Set.Classes[Cs[J]].NumImages;
        if (A.DrawersGiven)
          ND = std::min(ND, A.Drawers);
        for (int D = 0; D < ND; ++D, ++Images) {
          GrayImage Img = paperImage(Set, Cs[J], D, S);
          std::snprintf(Name, sizeof Name, "%04zu_%02d.png", Classes + 1,
                        D + 1);
          writeGrayPng((CharDir / Name).string(), Img);
        }
      }
    }
  }
  std::printf("wrote %s: %zu alphabets, %zu characters, %zu images\n",
              A.Out.c_str(), Alphabets, Classes, Images);
}
} // namespace

int main(int Argc, char **Argv) {
  try {
    Args A = parse(Argc, Argv);
    if (A.Command == "info")
      info(A);
    else if (A.Command == "export")
      exportOmniglot(A);
    else
      contactSheet(A);
    return 0;
  } catch (const Error &E) {
    std::fprintf(stderr, "metac-data: error: %s\n", E.what());
    return E.exitCode();
  }
}
