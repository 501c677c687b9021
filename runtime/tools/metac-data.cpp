//===- metac-data.cpp - Look at the few-shot image data -------------------===//
//
//   metac-data info [--omniglot ROOT]
//   metac-data contact-sheet OUT.png [--alphabets N] [--from I]
//       [--characters N] [--drawers N] [--scale S] [--omniglot ROOT]
//
// `info` lists alphabets, classes and the split, and where the glyph cache
// lives; `contact-sheet` writes a PNG grid (rows: characters of many
// alphabets, columns: drawers), dark ink on white, so a person can see what
// a model is trained on.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Error.h"
#include "metac/runtime/Glyphs.h"
#include "metac/runtime/Omniglot.h"
#include "metac/runtime/Png.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace metac::runtime;

static const char Usage[] =
    "usage: metac-data info [--omniglot ROOT]\n"
    "       metac-data contact-sheet OUT.png [options]\n"
    "\n"
    "Without --omniglot ROOT, the glyph data set is loaded from its cache\n"
    "(built on first use; see docs/data.md).\n"
    "\n"
    "contact-sheet options:\n"
    "  --alphabets N   alphabets in the sheet, spread evenly (default 25)\n"
    "  --from I        spread them from the I-th alphabet on (default 1)\n"
    "  --characters N  characters per alphabet (default 2)\n"
    "  --drawers N     drawers (columns) per character (default 20)\n"
    "  --scale S       pixels per image pixel, 1 to 8 (default 1)\n";

namespace {
struct Args {
  std::string Command, Out, Omniglot;
  int Alphabets = 25, Characters = 2, Drawers = 20, Scale = 1, From = 0;
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
    throw Error("missing command (info or contact-sheet)", ExitUsage);
  A.Command = Argv[1];
  if (A.Command == "--help" || A.Command == "-h") {
    std::fputs(Usage, stdout);
    std::exit(0);
  }
  if (A.Command != "info" && A.Command != "contact-sheet")
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
      A.Alphabets = positive("--alphabets", Value());
    else if (F == "--from")
      A.From = positive("--from", Value()) - 1;
    else if (F == "--characters")
      A.Characters = positive("--characters", Value());
    else if (F == "--drawers")
      A.Drawers = positive("--drawers", Value());
    else if (F == "--scale")
      A.Scale = std::min(8, positive("--scale", Value()));
    else if (F == "--help" || F == "-h") {
      std::fputs(Usage, stdout);
      std::exit(0);
    } else if (!F.empty() && F[0] != '-' && A.Command == "contact-sheet" &&
               A.Out.empty())
      A.Out = F;
    else
      throw Error("unknown argument '" + F + "' (see --help)", ExitUsage);
  }
  if (A.Command == "contact-sheet" && A.Out.empty())
    throw Error("contact-sheet needs an output file name", ExitUsage);
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
      const uint8_t *Img = Set.image(Rows[R], D);
      int OX = Gap + D * CellW, OY = Gap + static_cast<int>(R) * CellH;
      for (int Y = 0; Y < Set.Height * S; ++Y)
        for (int X = 0; X < Set.Width * S; ++X)
          Out.Pixels[(OY + Y) * Out.Width + OX + X] =
              255 - Img[(Y / S) * Set.Width + X / S];
    }
  writeGrayPng(A.Out, Out);
  std::printf("wrote %s: %zu characters x %d drawers\n", A.Out.c_str(),
              Rows.size(), Columns);
}
} // namespace

int main(int Argc, char **Argv) {
  try {
    Args A = parse(Argc, Argv);
    if (A.Command == "info")
      info(A);
    else
      contactSheet(A);
    return 0;
  } catch (const Error &E) {
    std::fprintf(stderr, "metac-data: error: %s\n", E.what());
    return E.exitCode();
  }
}
