//===- metac/runtime/Files.h - Durable files and their encoding --*- C++
//-*-===//
//
// What the runtime writes to disk and must not lose (checkpoints, data
// caches) goes through here: a little-endian byte encoder, so a format does
// not depend on the host, and an atomic write, so a reader sees either the
// old file or the whole new one, never a torn one.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_FILES_H
#define METAC_RUNTIME_FILES_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace metac::runtime {

/// Appends integers, floats and strings to Bytes in little-endian order.
class ByteWriter {
public:
  std::vector<unsigned char> Bytes;

  void u8(uint8_t V) { Bytes.push_back(V); }
  void u32(uint32_t V) {
    for (int I = 0; I < 4; ++I)
      Bytes.push_back(static_cast<unsigned char>(V >> (8 * I)));
  }
  void u64(uint64_t V) {
    for (int I = 0; I < 8; ++I)
      Bytes.push_back(static_cast<unsigned char>(V >> (8 * I)));
  }
  void floats(const std::vector<float> &V) {
    for (float F : V) {
      uint32_t Bits;
      std::memcpy(&Bits, &F, 4);
      u32(Bits);
    }
  }
  /// A u32 length, then the characters.
  void str(const std::string &S) {
    u32(static_cast<uint32_t>(S.size()));
    Bytes.insert(Bytes.end(), S.begin(), S.end());
  }
};

/// 64-bit FNV-1a over Bytes, continuing from Hash: the checksum of
/// checkpoints and caches, and the descriptor hash.
uint64_t fnv1a(const void *Bytes, size_t Size,
               uint64_t Hash = 0xcbf29ce484222325ULL);

/// Writes Bytes to Path atomically: to Tmp (default Path + ".tmp"), flushed
/// and fsync'ed, then renamed over Path, then the directory is fsync'ed.
/// On failure Tmp is removed and an Error says
/// "error: cannot write <What> '<Path>': <step>: <reason>".
void writeFileAtomically(const std::string &Path,
                         const std::vector<unsigned char> &Bytes,
                         const std::string &What, std::string Tmp = "");

/// Whether a file name ends in Suffix (".csv", ".svg", ".png").
inline bool hasSuffix(const std::string &Name, const std::string &Suffix) {
  return Name.size() >= Suffix.size() &&
         Name.compare(Name.size() - Suffix.size(), Suffix.size(), Suffix) == 0;
}

} // namespace metac::runtime

#endif // METAC_RUNTIME_FILES_H
