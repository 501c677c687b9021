//===- GlyphsTest.cpp - The generated glyph data set ----------------------===//
//
// Most tests build a small subset (a few alphabets, a few characters); only
// CountsOfTheFullSet looks at every alphabet, and it extracts characters
// without rendering the 20 drawers.
//
//===----------------------------------------------------------------------===//

#include "DataTestUtil.h"

#include "metac/runtime/Error.h"
#include "metac/runtime/Glyphs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

using namespace metac::runtime;
using metac::runtime::test::DataTempDir;

namespace {

GlyphOptions small(int Alphabets = 6, int Characters = 4) {
  GlyphOptions O;
  O.MaxAlphabets = Alphabets;
  O.MaxCharacters = Characters;
  return O;
}

std::string readBytes(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(In), {});
}

void writeBytes(const std::string &Path, const std::string &Bytes) {
  std::ofstream(Path, std::ios::binary | std::ios::trunc) << Bytes;
}

bool sameSet(const ClassImageSet &A, const ClassImageSet &B) {
  if (A.Height != B.Height || A.Width != B.Width || A.Pixels != B.Pixels ||
      A.Alphabets.size() != B.Alphabets.size() ||
      A.Classes.size() != B.Classes.size())
    return false;
  for (size_t I = 0; I < A.Alphabets.size(); ++I)
    if (A.Alphabets[I].Name != B.Alphabets[I].Name ||
        A.Alphabets[I].DataSplit != B.Alphabets[I].DataSplit)
      return false;
  for (size_t I = 0; I < A.Classes.size(); ++I) {
    const CharacterClass &X = A.Classes[I], &Y = B.Classes[I];
    if (X.Name != Y.Name || X.AlphabetIndex != Y.AlphabetIndex ||
        X.DataSplit != Y.DataSplit || X.FirstImage != Y.FirstImage ||
        X.NumImages != Y.NumImages)
      return false;
  }
  return true;
}

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
public:
  ScopedEnv(const char *Name, const char *Value) : Name(Name) {
    if (const char *Old = std::getenv(Name))
      Saved = Old, HadValue = true;
    if (Value)
      ::setenv(Name, Value, 1);
    else
      ::unsetenv(Name);
  }
  ~ScopedEnv() {
    if (HadValue)
      ::setenv(Name, Saved.c_str(), 1);
    else
      ::unsetenv(Name);
  }

private:
  const char *Name;
  std::string Saved;
  bool HadValue = false;
};

} // namespace

TEST(GlyphsTest, SmallSetShapeAndSplit) {
  ClassImageSet Set = buildGlyphSet(small());
  EXPECT_EQ(Set.Height, 28);
  EXPECT_EQ(Set.Width, 28);
  ASSERT_EQ(Set.Alphabets.size(), 6u);
  EXPECT_EQ(Set.Classes.size(), 24u);
  EXPECT_EQ(Set.numImages(), 24u * 20);
  // The table alternates background, background, evaluation.
  EXPECT_EQ(Set.numAlphabets(Split::Background), 4u);
  EXPECT_EQ(Set.numAlphabets(Split::Evaluation), 2u);
  std::set<std::pair<int, std::string>> Names;
  for (const CharacterClass &C : Set.Classes) {
    EXPECT_EQ(C.NumImages, 20);
    EXPECT_EQ(C.DataSplit, Set.Alphabets[C.AlphabetIndex].DataSplit);
    EXPECT_TRUE(Names.insert({C.AlphabetIndex, C.Name}).second) << C.Name;
  }
}

TEST(GlyphsTest, ImagesAreCentredInkAndDrawersDiffer) {
  ClassImageSet Set = buildGlyphSet(small(4, 3));
  for (size_t C = 0; C < Set.Classes.size(); ++C) {
    std::set<std::vector<uint8_t>> Distinct;
    for (int D = 0; D < 20; ++D) {
      const uint8_t *Img = Set.image(static_cast<int>(C), D);
      double Ink = 0;
      int Full = 0, X0 = 28, Y0 = 28, X1 = -1, Y1 = -1;
      for (int Y = 0; Y < 28; ++Y)
        for (int X = 0; X < 28; ++X) {
          Ink += Img[Y * 28 + X] / 255.0;
          Full += Img[Y * 28 + X] > 200;
          if (Img[Y * 28 + X] > 25) {
            X0 = std::min(X0, X), X1 = std::max(X1, X);
            Y0 = std::min(Y0, Y), Y1 = std::max(Y1, Y);
          }
        }
      // Not a speck, not a blob: some strokes' worth of ink.
      EXPECT_GT(Ink, 25) << Set.Classes[C].Name << " drawer " << D;
      EXPECT_LT(Ink, 28 * 28 * 0.45) << Set.Classes[C].Name << " drawer " << D;
      EXPECT_GT(Full, 5);
      // Normalised to the bounding box: the ink box is centred (up to the
      // drawer's offset) and its longer side fills most of the image.
      EXPECT_NEAR((X0 + X1) / 2.0, 13.5, 3.0);
      EXPECT_NEAR((Y0 + Y1) / 2.0, 13.5, 3.0);
      EXPECT_GE(std::max(X1 - X0, Y1 - Y0) + 1, 17);
      // The background is empty at the corners.
      EXPECT_EQ(Img[0], 0);
      EXPECT_EQ(Img[27], 0);
      Distinct.insert(std::vector<uint8_t>(Img, Img + 28 * 28));
    }
    EXPECT_EQ(Distinct.size(), 20u);
  }
}

TEST(GlyphsTest, DeterministicAndIndependentOfThreads) {
  GlyphOptions One = small(3, 3), Two = small(3, 3);
  One.Threads = 1;
  Two.Threads = 2;
  ClassImageSet A = buildGlyphSet(One), B = buildGlyphSet(Two),
                C = buildGlyphSet(One);
  EXPECT_TRUE(sameSet(A, B));
  EXPECT_TRUE(sameSet(A, C));
}

TEST(GlyphsTest, ACharacterDoesNotDependOnTheSubset) {
  // Drawer styles and per-image variation are keyed by drawer and character
  // name, so the subset options do not change a character's images.
  ClassImageSet A = buildGlyphSet(small(2, 55)),
                B = buildGlyphSet(small(3, 55));
  ASSERT_GE(B.Classes.size(), A.Classes.size());
  for (size_t C = 0; C < A.Classes.size(); ++C) {
    ASSERT_EQ(A.Classes[C].Name, B.Classes[C].Name);
    EXPECT_TRUE(
        std::equal(A.image(C, 0), A.image(C, 0) + 20 * 28 * 28, B.image(C, 0)));
  }
}

TEST(GlyphsTest, CountsOfTheFullSet) {
  std::vector<GlyphAlphabetInfo> All = listGlyphAlphabets(GlyphOptions());
  int Classes = 0, Alphabets = 0, Background = 0;
  std::map<Split, std::set<std::string>> Splits;
  for (const GlyphAlphabetInfo &A : All) {
    EXPECT_TRUE(A.Installed) << A.Name << ": " << A.Source;
    EXPECT_LE(A.Characters, 55) << A.Name;
    if (A.Characters == 0)
      continue;
    ++Alphabets;
    Classes += A.Characters;
    if (A.DataSplit == Split::Background)
      Background += A.Characters;
    Splits[A.DataSplit].insert(A.Name);
  }
  EXPECT_GE(Classes, 1200);
  EXPECT_GE(Alphabets, 30);
  EXPECT_EQ(GlyphOptions().Drawers, 20);
  // About Omniglot's proportions: 30 background alphabets with 55-65% of
  // the classes.
  EXPECT_EQ(Splits[Split::Background].size(), 30u);
  EXPECT_GT(Background, Classes * 0.55);
  EXPECT_LT(Background, Classes * 0.65);
  RecordProperty("classes", Classes);
  RecordProperty("alphabets", Alphabets);
}

TEST(GlyphsTest, CacheRoundTripAndCorruptCacheRebuilt) {
  DataTempDir Dir;
  GlyphOptions O = small(3, 3);
  O.CacheDir = Dir.file("cache/nested");
  GlyphLoadInfo Info;
  ClassImageSet Built = loadGlyphSet(O, &Info);
  EXPECT_FALSE(Info.FromCache);
  EXPECT_EQ(Info.CacheMiss, "missing");
  EXPECT_EQ(Info.CachePath, glyphCachePath(O));
  EXPECT_EQ(Info.CachePath.rfind(O.CacheDir + "/glyphs-v1.", 0), 0u)
      << Info.CachePath;
  ClassImageSet Loaded = loadGlyphSet(O, &Info);
  EXPECT_TRUE(Info.FromCache) << Info.CacheMiss;
  EXPECT_TRUE(sameSet(Built, Loaded));

  std::string Good = readBytes(Info.CachePath);
  // A flipped pixel byte: caught by the checksum.
  std::string Bad = Good;
  Bad[Bad.size() / 2] ^= 0x40;
  writeBytes(Info.CachePath, Bad);
  Loaded = loadGlyphSet(O, &Info);
  EXPECT_FALSE(Info.FromCache);
  EXPECT_EQ(Info.CacheMiss, "checksum mismatch");
  EXPECT_TRUE(sameSet(Built, Loaded));
  EXPECT_EQ(readBytes(Info.CachePath), Good); // rewritten

  // Truncated, and garbage.
  writeBytes(Info.CachePath, Good.substr(0, Good.size() - 100));
  Loaded = loadGlyphSet(O, &Info);
  EXPECT_FALSE(Info.FromCache);
  EXPECT_EQ(Info.CacheMiss.rfind("truncated", 0), 0u) << Info.CacheMiss;
  EXPECT_TRUE(sameSet(Built, Loaded));
  writeBytes(Info.CachePath, "garbage");
  Loaded = loadGlyphSet(O, &Info);
  EXPECT_EQ(Info.CacheMiss, "not a metac image cache");
  EXPECT_TRUE(sameSet(Built, Loaded));
  EXPECT_EQ(readBytes(Info.CachePath), Good);

  // Other options, other file.
  GlyphOptions P = O;
  P.MaxCharacters = 2;
  EXPECT_NE(glyphCachePath(P), glyphCachePath(O));
  // No temporary file is left behind.
  std::string Dirname = Info.CachePath.substr(0, Info.CachePath.rfind('/'));
  EXPECT_EQ(
      std::system(("test $(ls -A '" + Dirname + "' | wc -l) -eq 1").c_str()),
      0);
}

TEST(GlyphsTest, CacheDirectoryFromTheEnvironment) {
  {
    ScopedEnv A("METAC_CACHE_DIR", "/x/metac-cache");
    EXPECT_EQ(defaultCacheDir(), "/x/metac-cache");
  }
  ScopedEnv A("METAC_CACHE_DIR", nullptr);
  {
    ScopedEnv B("XDG_CACHE_HOME", "/x/xdg");
    EXPECT_EQ(defaultCacheDir(), "/x/xdg/metac");
  }
  ScopedEnv B("XDG_CACHE_HOME", nullptr);
  ScopedEnv C("HOME", "/x/home");
  EXPECT_EQ(defaultCacheDir(), "/x/home/.cache/metac");
  GlyphOptions O = small();
  EXPECT_EQ(glyphCachePath(O).rfind("/x/home/.cache/metac/glyphs-v1.", 0), 0u);
}

TEST(GlyphsTest, MissingFontsAreNamed) {
  GlyphOptions O = small(3, 2);
  O.NotoDir = "/nonexistent/noto";
  try {
    buildGlyphSet(O);
    FAIL();
  } catch (const Error &E) {
    EXPECT_STREQ(E.what(), "glyph data set: font directory '/nonexistent/noto' "
                           "not found (install the Debian package "
                           "fonts-noto-core)");
  }
  O = small(5, 2); // the fifth alphabet is a Hershey font
  O.HersheyDir = "/nonexistent/hershey";
  try {
    listGlyphAlphabets(O);
    FAIL();
  } catch (const Error &E) {
    EXPECT_NE(std::string(E.what()).find("'/nonexistent/hershey'"),
              std::string::npos);
    EXPECT_NE(std::string(E.what()).find("hershey-fonts-data"),
              std::string::npos);
  }
}

TEST(GlyphsTest, AreaResize) {
  // 4 x 4 to 2 x 2 averages blocks; 3 x 3 to 2 x 2 weighs the shared middle
  // row and column by half.
  float Src[16], Dst[4];
  for (int I = 0; I < 16; ++I)
    Src[I] = static_cast<float>(I);
  areaResize(Src, 4, 4, Dst, 2, 2);
  EXPECT_FLOAT_EQ(Dst[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(Dst[3], (10 + 11 + 14 + 15) / 4.0f);
  float Ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  float Small[4];
  areaResize(Ones, 3, 3, Small, 2, 2);
  for (float V : Small)
    EXPECT_NEAR(V, 1.0f, 1e-6);
  float Dot[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};
  areaResize(Dot, 3, 3, Small, 2, 2);
  for (float V : Small)
    EXPECT_NEAR(V, 1.0f / 9, 1e-6);
}
