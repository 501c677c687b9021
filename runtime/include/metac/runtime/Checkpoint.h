//===- metac/runtime/Checkpoint.h - Training state on disk ------*- C++ -*-===//
//
// A checkpoint is everything a run needs to continue bit for bit: the
// parameters, the optimiser state, the iteration count and the seed. No RNG
// state is needed because every random quantity is derived from the seed and
// the iteration (see Rng.h). The binary format (little-endian throughout) is
// documented in docs/runtime.md:
//
//   "METACKPT" | u32 version | u32 optimizer kind | u64 program hash |
//   u64 iteration | u64 seed | u64 optimizer steps | u64 param count |
//   u64 state count | f32 params[] | f32 state[] | u64 FNV-1a checksum
//
// Files are replaced atomically (write FILE.tmp, fsync, rename), so a crash
// or a kill at any moment leaves either the old or the new checkpoint.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_CHECKPOINT_H
#define METAC_RUNTIME_CHECKPOINT_H

#include "metac/runtime/Program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace metac::runtime {

struct Checkpoint {
  static constexpr uint32_t Version = 1;

  uint64_t ProgramHash = 0;
  /// Completed training iterations.
  uint64_t Iteration = 0;
  uint64_t Seed = 0;
  std::vector<float> Params;
  /// OptimizerSpec::Kind.
  uint32_t OptimizerKind = 0;
  uint64_t OptimizerSteps = 0;
  std::vector<float> OptimizerState;
};

/// The bytes of a checkpoint file.
std::vector<unsigned char> encodeCheckpoint(const Checkpoint &C);

/// Decodes checkpoint bytes. Throws Error naming Path and the problem (not a
/// checkpoint, unsupported version, truncated, checksum mismatch).
Checkpoint decodeCheckpoint(const std::vector<unsigned char> &Bytes,
                            const std::string &Path);

/// Writes C to Path atomically: Path.tmp is written, flushed and fsync'ed,
/// then renamed over Path. Throws Error on I/O failure.
void writeCheckpoint(const std::string &Path, const Checkpoint &C);

/// Reads and decodes Path. Throws Error if the file is missing or corrupt.
Checkpoint readCheckpoint(const std::string &Path);

/// Throws Error unless C was written by program P (same descriptor hash,
/// parameter count and optimiser).
void checkCompatible(const Checkpoint &C, const Program &P,
                     const std::string &Path);

} // namespace metac::runtime

#endif // METAC_RUNTIME_CHECKPOINT_H
