//===- Checkpoint.cpp - Training state on disk ----------------------------===//
//
// Integers and floats are written byte by byte in little-endian order rather
// than by dumping memory, so the format does not depend on the host. The
// trailing checksum covers every preceding byte; it catches a torn or
// bit-flipped file that the size checks alone would accept.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace metac::runtime;

static const char Magic[8] = {'M', 'E', 'T', 'A', 'C', 'K', 'P', 'T'};
/// Bytes before the parameter data.
static constexpr size_t HeaderSize = 8 + 4 + 4 + 6 * 8;

namespace {

class Reader {
public:
  explicit Reader(const std::vector<unsigned char> &Bytes) : Bytes(Bytes) {}
  uint32_t u32() {
    uint32_t V = 0;
    for (int I = 0; I < 4; ++I)
      V |= static_cast<uint32_t>(Bytes[Pos++]) << (8 * I);
    return V;
  }
  uint64_t u64() {
    uint64_t V = 0;
    for (int I = 0; I < 8; ++I)
      V |= static_cast<uint64_t>(Bytes[Pos++]) << (8 * I);
    return V;
  }
  std::vector<float> floats(uint64_t N) {
    std::vector<float> V(N);
    for (float &F : V) {
      uint32_t Bits = u32();
      std::memcpy(&F, &Bits, 4);
    }
    return V;
  }

private:
  const std::vector<unsigned char> &Bytes;
  size_t Pos = 8;
};

} // namespace

std::vector<unsigned char>
metac::runtime::encodeCheckpoint(const Checkpoint &C) {
  ByteWriter W;
  W.Bytes.assign(Magic, Magic + 8);
  W.u32(Checkpoint::Version);
  W.u32(C.OptimizerKind);
  W.u64(C.ProgramHash);
  W.u64(C.Iteration);
  W.u64(C.Seed);
  W.u64(C.OptimizerSteps);
  W.u64(C.Params.size());
  W.u64(C.OptimizerState.size());
  W.floats(C.Params);
  W.floats(C.OptimizerState);
  W.u64(fnv1a(W.Bytes.data(), W.Bytes.size()));
  return std::move(W.Bytes);
}

Checkpoint
metac::runtime::decodeCheckpoint(const std::vector<unsigned char> &Bytes,
                                 const std::string &Path) {
  auto Fail = [&](const std::string &What) {
    throw Error(
        fmt::format("error: cannot load checkpoint '{}': {}", Path, What));
  };
  if (Bytes.size() < 8 || std::memcmp(Bytes.data(), Magic, 8) != 0)
    Fail("bad magic (not a metac checkpoint)");
  if (Bytes.size() < HeaderSize + 8)
    Fail(fmt::format("truncated ({} bytes, the header alone is {})",
                     Bytes.size(), HeaderSize + 8));
  Reader R(Bytes);
  Checkpoint C;
  uint32_t Version = R.u32();
  if (Version != Checkpoint::Version)
    Fail(fmt::format("unsupported version {} (this runtime reads version {})",
                     Version, Checkpoint::Version));
  C.OptimizerKind = R.u32();
  C.ProgramHash = R.u64();
  C.Iteration = R.u64();
  C.Seed = R.u64();
  C.OptimizerSteps = R.u64();
  uint64_t NumParams = R.u64();
  uint64_t NumState = R.u64();
  // Check the sizes before multiplying, so a corrupt count cannot overflow.
  const uint64_t MaxFloats = uint64_t(1) << 40;
  if (NumParams > MaxFloats || NumState > MaxFloats)
    Fail("corrupt header (absurd sizes)");
  uint64_t Expected = HeaderSize + 4 * (NumParams + NumState) + 8;
  if (Bytes.size() < Expected)
    Fail(fmt::format("truncated ({} bytes, expected {})", Bytes.size(),
                     Expected));
  if (Bytes.size() > Expected)
    Fail(fmt::format("{} unexpected trailing bytes", Bytes.size() - Expected));
  uint64_t Stored = 0;
  for (int I = 0; I < 8; ++I)
    Stored |= static_cast<uint64_t>(Bytes[Expected - 8 + I]) << (8 * I);
  if (Stored != fnv1a(Bytes.data(), Expected - 8))
    Fail("checksum mismatch (the file is corrupt)");
  C.Params = R.floats(NumParams);
  C.OptimizerState = R.floats(NumState);
  return C;
}

void metac::runtime::writeCheckpoint(const std::string &Path,
                                     const Checkpoint &C) {
  writeFileAtomically(Path, encodeCheckpoint(C), "checkpoint");
}

Checkpoint metac::runtime::readCheckpoint(const std::string &Path) {
  std::FILE *F = std::fopen(Path.c_str(), "rb");
  if (!F)
    throw Error(fmt::format("error: cannot load checkpoint '{}': {}", Path,
                            std::strerror(errno)));
  std::vector<unsigned char> Bytes;
  unsigned char Buffer[1 << 16];
  size_t N;
  while ((N = std::fread(Buffer, 1, sizeof(Buffer), F)) > 0)
    Bytes.insert(Bytes.end(), Buffer, Buffer + N);
  bool Failed = std::ferror(F);
  std::fclose(F);
  if (Failed)
    throw Error(
        fmt::format("error: cannot load checkpoint '{}': read error", Path));
  return decodeCheckpoint(Bytes, Path);
}

void metac::runtime::checkCompatible(const Checkpoint &C, const Program &P,
                                     const std::string &Path) {
  auto Fail = [&](const std::string &What) {
    throw Error(
        fmt::format("error: cannot load checkpoint '{}': {}", Path, What));
  };
  if (C.ProgramHash != P.hash())
    Fail(fmt::format("program mismatch (written by a program with "
                     "descriptor hash {:016x}, this is '{}' with {:016x})",
                     C.ProgramHash, P.name(), P.hash()));
  // The hash covers the descriptor, so these only fail on a hash collision
  // or a runtime bug; they keep a bad file from reaching memcpy sizes.
  if (C.Params.size() != static_cast<uint64_t>(P.numParameters()))
    Fail(fmt::format("it holds {} parameters, the program has {}",
                     C.Params.size(), P.numParameters()));
  const OptimizerSpec &O = P.optimizer();
  if (C.OptimizerKind != static_cast<uint32_t>(O.K))
    Fail("optimizer mismatch");
  // TRPO keeps no state between iterations.
  uint64_t StateSize = O.K == OptimizerSpec::Adam ? 2 * C.Params.size()
                       : O.K == OptimizerSpec::Sgd && O.Momentum != 0
                           ? C.Params.size()
                           : 0;
  if (C.OptimizerState.size() != StateSize)
    Fail(fmt::format("optimizer state has {} floats, expected {}",
                     C.OptimizerState.size(), StateSize));
}
