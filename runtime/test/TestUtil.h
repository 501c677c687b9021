//===- TestUtil.h - Helpers shared by the runtime tests ---------*- C++ -*-===//
#ifndef METAC_RUNTIME_TEST_TESTUTIL_H
#define METAC_RUNTIME_TEST_TESTUTIL_H

#include "metac/runtime/Program.h"

#include <string>
#include <vector>

namespace metac::runtime::test {

/// The fake program (FakeProgram.cpp) linked into the test binary, loaded.
const Program &fakeProgram();

/// A fresh directory under the system temporary directory, removed with
/// everything in it when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return Dir; }
  std::string file(const std::string &Name) const { return Dir + "/" + Name; }

private:
  std::string Dir;
};

struct CommandResult {
  int ExitCode = -1;
  std::string Out;
  std::string Err;
};

/// Runs the metac_fake_program executable with Args (a shell-quoted string)
/// in Dir, with Env prepended as environment assignments.
CommandResult runFake(const TempDir &Dir, const std::string &Args,
                      const std::string &Env = "");

std::string readFile(const std::string &Path);
void writeFile(const std::string &Path, const std::string &Bytes);
bool fileExists(const std::string &Path);

/// Lines of Text (without their newlines).
std::vector<std::string> lines(const std::string &Text);

} // namespace metac::runtime::test

#endif // METAC_RUNTIME_TEST_TESTUTIL_H
