//===- Omniglot.cpp - Real Omniglot folders -------------------------------===//

#include "metac/runtime/Omniglot.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"
#include "metac/runtime/Png.h"

#include <algorithm>
#include <cmath>
#include <dirent.h>
#include <sys/stat.h>

using namespace metac::runtime;

/// The sorted entries of Dir that are directories (Dirs) or regular files
/// ending in Suffix; hidden entries are skipped.
static std::vector<std::string> listDir(const std::string &Dir, bool Dirs,
                                        const std::string &Suffix = "") {
  DIR *D = ::opendir(Dir.c_str());
  if (!D)
    throw Error("Omniglot: cannot open folder '" + Dir + "'");
  std::vector<std::string> Names;
  while (dirent *Entry = ::readdir(D)) {
    std::string Name = Entry->d_name;
    if (Name.empty() || Name[0] == '.')
      continue;
    struct stat St;
    if (::stat((Dir + "/" + Name).c_str(), &St) != 0)
      continue;
    if (Dirs ? S_ISDIR(St.st_mode)
             : S_ISREG(St.st_mode) && hasSuffix(Name, Suffix))
      Names.push_back(Name);
  }
  ::closedir(D);
  std::sort(Names.begin(), Names.end());
  return Names;
}

ClassImageSet metac::runtime::loadOmniglot(const std::string &Root, int Size) {
  ClassImageSet Set;
  Set.Height = Set.Width = Size;
  std::vector<uint8_t> Images;
  std::vector<float> Ink, Small(static_cast<size_t>(Size) * Size);
  for (Split S : {Split::Background, Split::Evaluation}) {
    std::string SplitDir = Root + "/images_" + splitName(S);
    struct stat St;
    if (::stat(SplitDir.c_str(), &St) != 0 || !S_ISDIR(St.st_mode))
      throw Error("Omniglot: folder '" + SplitDir +
                  "' not found (expected ROOT/images_background and "
                  "ROOT/images_evaluation)");
    std::vector<std::string> Alphabets = listDir(SplitDir, true);
    if (Alphabets.empty())
      throw Error("Omniglot: folder '" + SplitDir + "' has no alphabets");
    for (const std::string &A : Alphabets) {
      std::string AlphabetDir = SplitDir + "/" + A;
      Set.Alphabets.push_back({A, S});
      int AlphabetIndex = static_cast<int>(Set.Alphabets.size()) - 1;
      std::vector<std::string> Characters = listDir(AlphabetDir, true);
      if (Characters.empty())
        throw Error("Omniglot: alphabet folder '" + AlphabetDir +
                    "' has no character folders");
      for (const std::string &C : Characters) {
        std::string CharacterDir = AlphabetDir + "/" + C;
        std::vector<std::string> Files = listDir(CharacterDir, false, ".png");
        if (Files.empty())
          throw Error("Omniglot: character folder '" + CharacterDir +
                      "' has no PNG files");
        Images.clear();
        for (const std::string &F : Files) {
          GrayImage G = readGrayPng(CharacterDir + "/" + F);
          // Black strokes on white paper: ink = 1 - brightness.
          Ink.resize(G.Pixels.size());
          for (size_t I = 0; I < G.Pixels.size(); ++I)
            Ink[I] = 1.0f - G.Pixels[I] / 255.0f;
          areaResize(Ink.data(), G.Width, G.Height, Small.data(), Size, Size);
          for (float V : Small)
            Images.push_back(static_cast<uint8_t>(
                std::lround(std::clamp(V, 0.0f, 1.0f) * 255.0f)));
        }
        Set.addClass(AlphabetIndex, C, Images.data(),
                     static_cast<int>(Files.size()));
      }
    }
  }
  return Set;
}
