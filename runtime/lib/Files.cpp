//===- Files.cpp - Atomic file writes -------------------------------------===//

#include "metac/runtime/Files.h"
#include "metac/runtime/Error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

using namespace metac::runtime;

uint64_t metac::runtime::fnv1a(const void *Bytes, size_t Size, uint64_t Hash) {
  const auto *P = static_cast<const unsigned char *>(Bytes);
  for (size_t I = 0; I < Size; ++I) {
    Hash ^= P[I];
    Hash *= 0x100000001b3ULL;
  }
  return Hash;
}

void metac::runtime::writeFileAtomically(
    const std::string &Path, const std::vector<unsigned char> &Bytes,
    const std::string &What, std::string Tmp) {
  if (Tmp.empty())
    Tmp = Path + ".tmp";
  auto Fail = [&](const std::string &Step) {
    int Saved = errno;
    throw Error(fmt::format("error: cannot write {} '{}': {}: {}", What, Path,
                            Step, std::strerror(Saved)));
  };
  // Removes the temporary file without losing the errno that explains why.
  auto Discard = [&] {
    int Saved = errno;
    std::remove(Tmp.c_str());
    errno = Saved;
  };
  std::FILE *F = std::fopen(Tmp.c_str(), "wb");
  if (!F)
    Fail(fmt::format("cannot create '{}'", Tmp));
  bool Ok = std::fwrite(Bytes.data(), 1, Bytes.size(), F) == Bytes.size();
  Ok = Ok && std::fflush(F) == 0;
  Ok = Ok && ::fsync(fileno(F)) == 0;
  if (std::fclose(F) != 0)
    Ok = false;
  if (!Ok) {
    Discard();
    Fail(fmt::format("writing '{}' failed", Tmp));
  }
  if (std::rename(Tmp.c_str(), Path.c_str()) != 0) {
    Discard();
    Fail(fmt::format("renaming '{}' failed", Tmp));
  }
  // Make the rename itself durable. Failure here is not worth an error: the
  // file is complete either way.
  std::string Dir = ".";
  if (size_t Slash = Path.find_last_of('/'); Slash != std::string::npos)
    Dir = Slash == 0 ? "/" : Path.substr(0, Slash);
  int Fd = ::open(Dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (Fd >= 0) {
    (void)::fsync(Fd);
    ::close(Fd);
  }
}
