//===- OmniglotTest.cpp - Real Omniglot folders and PNG files -------------===//
//
// The fixture is written by the test itself in Omniglot's layout: 105 x 105
// PNGs, black strokes on white, 1-bit like the real files (plus 8-bit ones).
//
//===----------------------------------------------------------------------===//

#include "DataTestUtil.h"

#include "metac/runtime/Error.h"
#include "metac/runtime/Omniglot.h"
#include "metac/runtime/Png.h"

#include <gtest/gtest.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>

using namespace metac::runtime;
using metac::runtime::test::DataTempDir;

namespace {

/// A 105 x 105 drawing: white paper with a black Size x Size square whose
/// top-left corner is at (X, Y).
GrayImage square(int X, int Y, int Size) {
  GrayImage G;
  G.Width = G.Height = 105;
  G.Pixels.assign(105 * 105, 255);
  for (int R = Y; R < Y + Size; ++R)
    for (int C = X; C < X + Size; ++C)
      G.Pixels[R * 105 + C] = 0;
  return G;
}

/// Writes G as a 1-bit grayscale PNG with libpng's low-level API, which is
/// how the Omniglot files are stored.
void writeOneBitPng(const std::string &Path, const GrayImage &G) {
  FILE *F = std::fopen(Path.c_str(), "wb");
  ASSERT_NE(F, nullptr);
  png_structp Png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop Info = png_create_info_struct(Png);
  std::vector<png_byte> Row((G.Width + 7) / 8);
  if (setjmp(png_jmpbuf(Png))) {
    png_destroy_write_struct(&Png, &Info);
    std::fclose(F);
    FAIL() << "libpng failed";
  }
  png_init_io(Png, F);
  png_set_IHDR(Png, Info, G.Width, G.Height, 1, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(Png, Info);
  for (int Y = 0; Y < G.Height; ++Y) {
    std::fill(Row.begin(), Row.end(), 0);
    for (int X = 0; X < G.Width; ++X)
      if (G.Pixels[Y * G.Width + X] >= 128)
        Row[X / 8] |= 0x80 >> (X % 8);
    png_write_row(Png, Row.data());
  }
  png_write_end(Png, nullptr);
  png_destroy_write_struct(&Png, &Info);
  std::fclose(F);
}

/// ROOT/images_{background,evaluation}/ALPHABET/characterNN/NNNN_DD.png:
/// two background alphabets (3 and 2 characters), one evaluation alphabet
/// (2 characters), 4 drawers each. Character c of alphabet a is a square
/// at a position of its own; drawer d shifts it by d pixels.
void writeFixture(const DataTempDir &Root) {
  struct A {
    const char *Split, *Name;
    int Characters;
  } Alphabets[] = {{"background", "Alpha", 3},
                   {"background", "Beta_(test)", 2},
                   {"evaluation", "Gamma", 2}};
  int Serial = 0;
  for (int AI = 0; AI < 3; ++AI)
    for (int C = 1; C <= Alphabets[AI].Characters; ++C) {
      char Char[32];
      std::snprintf(Char, sizeof Char, "character%02d", C);
      std::string Dir =
          Root.mkdirs(std::string("images_") + Alphabets[AI].Split + "/" +
                      Alphabets[AI].Name + "/" + Char);
      ++Serial;
      for (int D = 1; D <= 4; ++D) {
        char File[32];
        std::snprintf(File, sizeof File, "/%04d_%02d.png", Serial, D);
        GrayImage G = square(10 * C + D, 15 * AI + D, 30);
        if (D == 4)
          writeGrayPng(Dir + File, G); // 8-bit works too
        else
          writeOneBitPng(Dir + File, G);
      }
    }
}

std::string errorOf(const std::function<void()> &F) {
  try {
    F();
  } catch (const Error &E) {
    return E.what();
  }
  return "(no error)";
}

} // namespace

TEST(OmniglotTest, PngRoundTrip) {
  DataTempDir Dir;
  GrayImage G = square(5, 7, 20);
  writeGrayPng(Dir.file("a.png"), G);
  GrayImage Back = readGrayPng(Dir.file("a.png"));
  EXPECT_EQ(Back.Width, 105);
  EXPECT_EQ(Back.Height, 105);
  EXPECT_EQ(Back.Pixels, G.Pixels);
  writeOneBitPng(Dir.file("b.png"), G);
  EXPECT_EQ(readGrayPng(Dir.file("b.png")).Pixels, G.Pixels);
}

TEST(OmniglotTest, LoadsTheStandardLayout) {
  DataTempDir Root;
  writeFixture(Root);
  ClassImageSet Set = loadOmniglot(Root.path());
  EXPECT_EQ(Set.Height, 28);
  EXPECT_EQ(Set.Width, 28);
  ASSERT_EQ(Set.Alphabets.size(), 3u);
  EXPECT_EQ(Set.Alphabets[0].Name, "Alpha");
  EXPECT_EQ(Set.Alphabets[1].Name, "Beta_(test)");
  EXPECT_EQ(Set.Alphabets[2].Name, "Gamma");
  EXPECT_EQ(Set.Alphabets[2].DataSplit, Split::Evaluation);
  ASSERT_EQ(Set.Classes.size(), 7u);
  EXPECT_EQ(Set.numClasses(Split::Background), 5u);
  EXPECT_EQ(Set.numClasses(Split::Evaluation), 2u);
  EXPECT_EQ(Set.Classes[3].Name, "character01");
  EXPECT_EQ(Set.Classes[3].AlphabetIndex, 1);
  EXPECT_EQ(Set.numImages(), 28u);
  for (const CharacterClass &C : Set.Classes)
    EXPECT_EQ(C.NumImages, 4);

  // Ink is 1: a 30 x 30 black square on 105 x 105 white paper covers
  // 900 / 11025 of the image, whatever its position.
  for (int C = 0; C < 7; ++C)
    for (int D = 0; D < 4; ++D) {
      const uint8_t *Img = Set.image(C, D);
      double Sum = 0;
      for (size_t P = 0; P < Set.imageSize(); ++P)
        Sum += Img[P] / 255.0;
      EXPECT_NEAR(Sum / Set.imageSize(), 900.0 / 11025.0, 0.002);
    }
  // The square of alphabet 0, character 1, drawer 1 spans x in [11, 41) and
  // y in [1, 31) of 105: pixel (5, 5) of 28 ([18.75, 22.5) of 105) is ink,
  // pixel (1, 1) is paper.
  EXPECT_EQ(Set.image(0, 0)[5 * 28 + 5], 255);
  EXPECT_EQ(Set.image(0, 0)[1 * 28 + 1], 0);
}

TEST(OmniglotTest, MissingFolderIsNamed) {
  DataTempDir Root;
  writeFixture(Root);
  std::string Eval = Root.file("images_evaluation");
  std::rename(Eval.c_str(), Root.file("elsewhere").c_str());
  EXPECT_EQ(errorOf([&] { loadOmniglot(Root.path()); }),
            "Omniglot: folder '" + Eval +
                "' not found (expected ROOT/images_background and "
                "ROOT/images_evaluation)");
  EXPECT_NE(errorOf([&] {
              loadOmniglot(Root.file("nothing"));
            }).find(Root.file("nothing") + "/images_background"),
            std::string::npos);
}

TEST(OmniglotTest, EmptyCharacterFolderIsNamed) {
  DataTempDir Root;
  writeFixture(Root);
  std::string Dir = Root.mkdirs("images_background/Alpha/character09");
  EXPECT_EQ(errorOf([&] { loadOmniglot(Root.path()); }),
            "Omniglot: character folder '" + Dir + "' has no PNG files");
}

TEST(OmniglotTest, CorruptPngIsNamed) {
  DataTempDir Root;
  writeFixture(Root);
  std::string Bad = Root.file("images_background/Beta_(test)/character02/"
                              "0005_03.png");
  // Not a PNG at all.
  std::ofstream(Bad, std::ios::binary | std::ios::trunc) << "not a png file";
  std::string Message = errorOf([&] { loadOmniglot(Root.path()); });
  EXPECT_EQ(Message.find("cannot read PNG '" + Bad + "'"), 0u) << Message;

  // A real PNG cut short after its header.
  writeOneBitPng(Bad, square(1, 1, 30));
  std::string Bytes;
  {
    std::ifstream In(Bad, std::ios::binary);
    Bytes.assign(std::istreambuf_iterator<char>(In), {});
  }
  std::ofstream(Bad, std::ios::binary | std::ios::trunc)
      << Bytes.substr(0, Bytes.size() / 2);
  Message = errorOf([&] { loadOmniglot(Root.path()); });
  EXPECT_EQ(Message.find("cannot read PNG '" + Bad + "'"), 0u) << Message;
}
