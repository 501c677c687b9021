//===- TestUtil.cpp - Helpers shared by the runtime tests -----------------===//

#include "TestUtil.h"

#include "metac/abi.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace metac::runtime;
using namespace metac::runtime::test;

const Program &metac::runtime::test::fakeProgram() {
  static const Program P = Program::load(metac_program(), metac_kernels);
  return P;
}

TempDir::TempDir() {
  const char *Base = std::getenv("TMPDIR");
  std::string Template =
      std::string(Base && *Base ? Base : "/tmp") + "/metac-rt-XXXXXX";
  if (!::mkdtemp(Template.data()))
    ADD_FAILURE() << "mkdtemp failed";
  Dir = Template;
}

TempDir::~TempDir() {
  std::string Command = "rm -rf '" + Dir + "'";
  if (std::system(Command.c_str()) != 0)
    ADD_FAILURE() << "cannot remove " << Dir;
}

CommandResult metac::runtime::test::runFake(const TempDir &Dir,
                                            const std::string &Args,
                                            const std::string &Env) {
  std::string Out = Dir.file("stdout.txt"), Err = Dir.file("stderr.txt");
  std::string Command = "cd '" + Dir.path() + "' && " + Env + " '" +
                        METAC_FAKE_PROGRAM + "' " + Args + " >'" + Out +
                        "' 2>'" + Err + "' </dev/null";
  int Status = std::system(Command.c_str());
  CommandResult R;
  R.ExitCode = WIFEXITED(Status) ? WEXITSTATUS(Status) : -1;
  R.Out = readFile(Out);
  R.Err = readFile(Err);
  return R;
}

std::string metac::runtime::test::readFile(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  std::ostringstream S;
  S << In.rdbuf();
  return S.str();
}

void metac::runtime::test::writeFile(const std::string &Path,
                                     const std::string &Bytes) {
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  Out << Bytes;
}

bool metac::runtime::test::fileExists(const std::string &Path) {
  struct stat St;
  return ::stat(Path.c_str(), &St) == 0;
}

std::vector<std::string> metac::runtime::test::lines(const std::string &Text) {
  std::vector<std::string> Result;
  std::istringstream In(Text);
  std::string Line;
  while (std::getline(In, Line))
    Result.push_back(Line);
  return Result;
}
