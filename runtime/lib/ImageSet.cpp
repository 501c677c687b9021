//===- ImageSet.cpp - Labelled image classes and their cache file ---------===//
//
// The cache is written field by field in little-endian order, not as a memory
// dump, so the format does not depend on the host. A torn or bit-flipped
// file is caught by the size and checksum checks and simply rebuilt: a cache
// is never worth an error.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/ImageSet.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

using namespace metac::runtime;

static const char Magic[8] = {'M', 'E', 'T', 'A', 'C', 'I', 'M', 'G'};

const char *metac::runtime::splitName(Split S) {
  return S == Split::Background ? "background" : "evaluation";
}

size_t ClassImageSet::numClasses(Split S) const {
  return std::count_if(
      Classes.begin(), Classes.end(),
      [&](const CharacterClass &C) { return C.DataSplit == S; });
}

size_t ClassImageSet::numAlphabets(Split S) const {
  return std::count_if(Alphabets.begin(), Alphabets.end(),
                       [&](const Alphabet &A) { return A.DataSplit == S; });
}

int ClassImageSet::addClass(int AlphabetIndex, std::string Name,
                            const uint8_t *Data, int NumImages) {
  CharacterClass C;
  C.AlphabetIndex = AlphabetIndex;
  C.Name = std::move(Name);
  C.DataSplit = Alphabets[AlphabetIndex].DataSplit;
  C.FirstImage = numImages();
  C.NumImages = NumImages;
  Pixels.insert(Pixels.end(), Data, Data + NumImages * imageSize());
  Classes.push_back(std::move(C));
  return static_cast<int>(Classes.size()) - 1;
}

void metac::runtime::areaResize(const float *Src, int W, int H, float *Dst,
                                int DW, int DH) {
  // Separable: each output column (row) averages the source interval
  // [i * W / DW, (i + 1) * W / DW), weighting partly covered pixels.
  auto Weights = [](int N, int DN) {
    std::vector<std::vector<std::pair<int, float>>> Taps(DN);
    double Scale = static_cast<double>(N) / DN;
    for (int I = 0; I < DN; ++I) {
      double Lo = I * Scale, Hi = (I + 1) * Scale;
      for (int S = static_cast<int>(std::floor(Lo)); S < Hi && S < N; ++S) {
        double Overlap = std::min<double>(S + 1, Hi) - std::max<double>(S, Lo);
        if (Overlap > 1e-9)
          Taps[I].push_back({S, static_cast<float>(Overlap / Scale)});
      }
    }
    return Taps;
  };
  auto XTaps = Weights(W, DW), YTaps = Weights(H, DH);
  std::vector<float> Rows(static_cast<size_t>(H) * DW);
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < DW; ++X) {
      float Sum = 0;
      for (auto [S, Wt] : XTaps[X])
        Sum += Wt * Src[Y * W + S];
      Rows[Y * DW + X] = Sum;
    }
  for (int Y = 0; Y < DH; ++Y)
    for (int X = 0; X < DW; ++X) {
      float Sum = 0;
      for (auto [S, Wt] : YTaps[Y])
        Sum += Wt * Rows[S * DW + X];
      Dst[Y * DW + X] = Sum;
    }
}

std::string metac::runtime::defaultCacheDir() {
  if (const char *D = std::getenv("METAC_CACHE_DIR"); D && *D)
    return D;
  if (const char *D = std::getenv("XDG_CACHE_HOME"); D && *D)
    return std::string(D) + "/metac";
  if (const char *D = std::getenv("HOME"); D && *D)
    return std::string(D) + "/.cache/metac";
  return ".cache/metac";
}

namespace {

/// Reads with bounds checks; any overrun sets Bad and yields zeros.
class Reader {
public:
  Reader(const std::vector<unsigned char> &B, size_t End) : B(B), End(End) {}
  bool Bad = false;
  size_t Pos = 0;
  uint64_t uint(int Bytes) {
    if (Pos + Bytes > End) {
      Bad = true;
      return 0;
    }
    uint64_t V = 0;
    for (int I = 0; I < Bytes; ++I)
      V |= static_cast<uint64_t>(B[Pos + I]) << (8 * I);
    Pos += Bytes;
    return V;
  }
  std::string str() {
    uint64_t N = uint(4);
    if (Bad || Pos + N > End) {
      Bad = true;
      return {};
    }
    std::string S(B.begin() + Pos, B.begin() + Pos + N);
    Pos += N;
    return S;
  }

private:
  const std::vector<unsigned char> &B;
  size_t End;
};

} // namespace

/// Creates Dir and its parents (like mkdir -p).
static void makeDirs(const std::string &Dir) {
  for (size_t I = 1; I <= Dir.size(); ++I)
    if (I == Dir.size() || Dir[I] == '/') {
      std::string Prefix = Dir.substr(0, I);
      if (::mkdir(Prefix.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error("cannot create cache directory '" + Prefix +
                    "': " + std::strerror(errno));
    }
}

void metac::runtime::saveImageSet(const ClassImageSet &Set, uint64_t Key,
                                  const std::string &Path) {
  ByteWriter W;
  W.Bytes.insert(W.Bytes.end(), Magic, Magic + 8);
  W.u32(ImageSetFormatVersion);
  W.u64(Key);
  W.u32(Set.Height);
  W.u32(Set.Width);
  W.u32(static_cast<uint32_t>(Set.Alphabets.size()));
  W.u32(static_cast<uint32_t>(Set.Classes.size()));
  W.u64(Set.numImages());
  for (const Alphabet &A : Set.Alphabets) {
    W.u8(static_cast<uint8_t>(A.DataSplit));
    W.str(A.Name);
  }
  for (const CharacterClass &C : Set.Classes) {
    W.u32(C.AlphabetIndex);
    W.u8(static_cast<uint8_t>(C.DataSplit));
    W.str(C.Name);
    W.u64(C.FirstImage);
    W.u32(C.NumImages);
  }
  W.Bytes.insert(W.Bytes.end(), Set.Pixels.begin(), Set.Pixels.end());
  W.u64(fnv1a(W.Bytes.data(), W.Bytes.size()));

  size_t Slash = Path.rfind('/');
  if (Slash != std::string::npos && Slash > 0)
    makeDirs(Path.substr(0, Slash));
  // The temporary name is per process, so two processes filling the same
  // cache at once never write into one file; the last rename wins, and both
  // wrote the same bytes.
  writeFileAtomically(Path, W.Bytes, "data cache",
                      Path + ".tmp." + std::to_string(::getpid()));
}

bool metac::runtime::loadImageSet(const std::string &Path, uint64_t Key,
                                  ClassImageSet &Set, std::string *Why) {
  auto Fail = [&](const std::string &Reason) {
    if (Why)
      *Why = Reason;
    return false;
  };
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return Fail("missing");
  std::vector<unsigned char> B((std::istreambuf_iterator<char>(In)),
                               std::istreambuf_iterator<char>());
  if (B.size() < 8 + 4 + 8 + 8 || std::memcmp(B.data(), Magic, 8) != 0)
    return Fail("not a metac image cache");
  size_t Body = B.size() - 8;
  Reader R(B, Body);
  R.Pos = 8;
  if (R.uint(4) != ImageSetFormatVersion)
    return Fail("other format version");
  if (R.uint(8) != Key)
    return Fail("built with other options or sources");
  ClassImageSet S;
  S.Height = static_cast<int>(R.uint(4));
  S.Width = static_cast<int>(R.uint(4));
  uint64_t NumAlphabets = R.uint(4), NumClasses = R.uint(4),
           NumImages = R.uint(8);
  if (R.Bad || S.Height <= 0 || S.Width <= 0 || S.Height > 4096 ||
      S.Width > 4096 || NumImages > B.size())
    return Fail("bad header");
  for (uint64_t I = 0; I < NumAlphabets && !R.Bad; ++I) {
    Alphabet A;
    A.DataSplit = static_cast<Split>(R.uint(1) & 1);
    A.Name = R.str();
    S.Alphabets.push_back(std::move(A));
  }
  for (uint64_t I = 0; I < NumClasses && !R.Bad; ++I) {
    CharacterClass C;
    C.AlphabetIndex = static_cast<int>(R.uint(4));
    C.DataSplit = static_cast<Split>(R.uint(1) & 1);
    C.Name = R.str();
    C.FirstImage = R.uint(8);
    C.NumImages = static_cast<int>(R.uint(4));
    if (C.AlphabetIndex >= static_cast<int>(NumAlphabets) ||
        C.FirstImage + C.NumImages > NumImages)
      return Fail("bad class table");
    S.Classes.push_back(std::move(C));
  }
  size_t PixelBytes = NumImages * S.imageSize();
  if (R.Bad || R.Pos + PixelBytes != Body)
    return Fail("truncated or wrong size (" + std::to_string(B.size()) +
                " bytes)");
  uint64_t Stored = 0;
  for (int I = 0; I < 8; ++I)
    Stored |= static_cast<uint64_t>(B[Body + I]) << (8 * I);
  if (Stored != fnv1a(B.data(), Body))
    return Fail("checksum mismatch");
  S.Pixels.assign(B.begin() + R.Pos, B.begin() + Body);
  Set = std::move(S);
  return true;
}
