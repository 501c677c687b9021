//===- metac/runtime/ImageSet.h - Labelled image classes --------*- C++ -*-===//
//
// The one in-memory form of a few-shot classification data set, whatever its
// source (the generated glyph set of Glyphs.h or real Omniglot folders of
// Omniglot.h): alphabets, character classes that belong to an alphabet and to
// a split, and the images of each class stored contiguously.
//
// Pixels are bytes (ink 255, background 0) rather than floats: a glyph set of
// 1,600 classes x 20 drawers is 25 MB instead of 100 MB, and the 1/255
// quantisation is far below what the images carry (Omniglot itself is 1-bit).
// Episodes (Episodes.h) hand the model floats in [0, 1].
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_IMAGESET_H
#define METAC_RUNTIME_IMAGESET_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace metac::runtime {

/// Omniglot's two halves: meta-training draws from Background, evaluation
/// from Evaluation. Splits are by alphabet, so no class is in both.
enum class Split : uint8_t { Background = 0, Evaluation = 1 };

const char *splitName(Split S);

struct Alphabet {
  std::string Name;
  Split DataSplit = Split::Background;
};

struct CharacterClass {
  /// Index into ClassImageSet::Alphabets.
  int AlphabetIndex = 0;
  /// "character07" for Omniglot; "U+0531" or "hershey:65" for glyphs.
  std::string Name;
  Split DataSplit = Split::Background;
  /// Index of the first image in ClassImageSet::Pixels (in images).
  size_t FirstImage = 0;
  int NumImages = 0;
};

struct ClassImageSet {
  int Height = 28;
  int Width = 28;
  std::vector<Alphabet> Alphabets;
  std::vector<CharacterClass> Classes;
  /// All images, row-major Height x Width bytes each, class after class.
  std::vector<uint8_t> Pixels;

  size_t imageSize() const { return static_cast<size_t>(Height) * Width; }
  size_t numImages() const { return Pixels.size() / imageSize(); }
  /// Image Index (0-based, < NumImages) of class Class.
  const uint8_t *image(int Class, int Index) const {
    return Pixels.data() + (Classes[Class].FirstImage + Index) * imageSize();
  }
  /// Number of classes (or alphabets) in a split.
  size_t numClasses(Split S) const;
  size_t numAlphabets(Split S) const;
  /// Appends a class whose images are the NumImages * imageSize() bytes at
  /// Data; returns its index.
  int addClass(int AlphabetIndex, std::string Name, const uint8_t *Data,
               int NumImages);
};

/// Area (box-filter) resampling of a W x H float image to DW x DH: each
/// output pixel is the mean of the source area it covers, with fractional
/// weights at the edges. Used to downsample glyphs and 105 x 105 Omniglot
/// scans to 28 x 28 without aliasing.
void areaResize(const float *Src, int W, int H, float *Dst, int DW, int DH);

/// Rotates a square N x N image by Quarter * 90 degrees counter-clockwise
/// (Quarter in 0..3) into Dst (which must not alias Src).
template <typename T>
void rotateQuarter(const T *Src, int N, int Quarter, T *Dst) {
  for (int Y = 0; Y < N; ++Y)
    for (int X = 0; X < N; ++X) {
      // Dst(Y, X) takes the source pixel that lands there.
      int SY = Y, SX = X;
      switch (Quarter & 3) {
      case 0:
        break;
      case 1:
        SY = X;
        SX = N - 1 - Y;
        break;
      case 2:
        SY = N - 1 - Y;
        SX = N - 1 - X;
        break;
      case 3:
        SY = N - 1 - X;
        SX = Y;
        break;
      }
      Dst[Y * N + X] = Src[SY * N + SX];
    }
}

/// The binary cache format of a ClassImageSet (little-endian):
///
///   "METACIMG" | u32 format version | u64 key | u32 height | u32 width |
///   u32 alphabets | u32 classes | u64 images |
///   alphabets: u8 split, u32 name length, name |
///   classes: u32 alphabet, u8 split, u32 name length, name, u64 first,
///            u32 count |
///   u8 pixels[images * height * width] | u64 FNV-1a of all preceding bytes
///
/// Key identifies what was built (options and sources); a file whose key,
/// version, size or checksum does not match is treated as absent.
constexpr uint32_t ImageSetFormatVersion = 1;

/// Writes atomically: Path.tmp.PID, then rename. Throws Error on failure.
void saveImageSet(const ClassImageSet &Set, uint64_t Key,
                  const std::string &Path);
/// Reads a cache file. Returns false (and sets Why) if the file is missing,
/// truncated, corrupt or has another key or version; throws nothing.
bool loadImageSet(const std::string &Path, uint64_t Key, ClassImageSet &Set,
                  std::string *Why = nullptr);

/// Where data caches live: $METAC_CACHE_DIR, else $XDG_CACHE_HOME/metac,
/// else $HOME/.cache/metac.
std::string defaultCacheDir();

} // namespace metac::runtime

#endif // METAC_RUNTIME_IMAGESET_H
