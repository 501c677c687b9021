//===- DataTestUtil.h - Helpers for the data-layer tests --------*- C++ -*-===//
//
// The data tests are their own executable (they need FreeType and libpng,
// the other runtime tests do not), so they carry their own temporary
// directory instead of linking TestUtil.cpp and the fake program.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_TEST_DATATESTUTIL_H
#define METAC_RUNTIME_TEST_DATATESTUTIL_H

#include <cstdlib>
#include <ftw.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace metac::runtime::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents
/// when the object dies.
class DataTempDir {
public:
  DataTempDir() {
    const char *Base = std::getenv("TMPDIR");
    std::string Pattern =
        std::string(Base && *Base ? Base : "/tmp") + "/metac-data-test-XXXXXX";
    if (!::mkdtemp(Pattern.data()))
      throw std::runtime_error("mkdtemp failed");
    Dir = Pattern;
  }
  ~DataTempDir() {
    ::nftw(
        Dir.c_str(),
        [](const char *Path, const struct stat *, int, struct FTW *) {
          return ::remove(Path);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  DataTempDir(const DataTempDir &) = delete;
  DataTempDir &operator=(const DataTempDir &) = delete;

  const std::string &path() const { return Dir; }
  std::string file(const std::string &Name) const { return Dir + "/" + Name; }
  /// Creates the directory Name (and its parents) inside this one.
  std::string mkdirs(const std::string &Name) const {
    std::string Path = Dir;
    size_t Start = 0;
    while (Start <= Name.size()) {
      size_t Slash = Name.find('/', Start);
      if (Slash == std::string::npos)
        Slash = Name.size();
      Path += "/" + Name.substr(Start, Slash - Start);
      ::mkdir(Path.c_str(), 0755);
      Start = Slash + 1;
    }
    return Path;
  }

private:
  std::string Dir;
};

} // namespace metac::runtime::test

#endif // METAC_RUNTIME_TEST_DATATESTUTIL_H
