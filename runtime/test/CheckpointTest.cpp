//===- CheckpointTest.cpp - Checkpoint format, atomic writes, corruption --===//

#include "TestUtil.h"

#include "metac/runtime/Checkpoint.h"
#include "metac/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

Checkpoint sample() {
  Checkpoint C;
  C.ProgramHash = 0x0123456789abcdefULL;
  C.Iteration = 1234;
  C.Seed = 77;
  C.Params = {1.5f, -0.0f, 3e-40f, -2.25f};
  C.OptimizerKind = OptimizerSpec::Adam;
  C.OptimizerSteps = 1234;
  C.OptimizerState = {0.5f, 0.25f, 0.125f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f};
  return C;
}

void expectEqual(const Checkpoint &A, const Checkpoint &B) {
  EXPECT_EQ(A.ProgramHash, B.ProgramHash);
  EXPECT_EQ(A.Iteration, B.Iteration);
  EXPECT_EQ(A.Seed, B.Seed);
  EXPECT_EQ(A.OptimizerKind, B.OptimizerKind);
  EXPECT_EQ(A.OptimizerSteps, B.OptimizerSteps);
  ASSERT_EQ(A.Params.size(), B.Params.size());
  EXPECT_EQ(0,
            std::memcmp(A.Params.data(), B.Params.data(), A.Params.size() * 4))
      << "bit patterns, including -0 and denormals";
  EXPECT_EQ(A.OptimizerState, B.OptimizerState);
}

std::string loadError(const std::string &Path) {
  try {
    readCheckpoint(Path);
  } catch (const Error &E) {
    EXPECT_EQ(E.exitCode(), ExitFailure);
    return E.what();
  }
  return "";
}

} // namespace

TEST(CheckpointTest, LayoutIsLittleEndianAsDocumented) {
  std::vector<unsigned char> B = encodeCheckpoint(sample());
  ASSERT_EQ(B.size(), 8 + 4 + 4 + 6 * 8 + 4 * (4 + 8) + 8u);
  EXPECT_EQ(std::string(B.begin(), B.begin() + 8), "METACKPT");
  EXPECT_EQ(B[8], 1); // version
  EXPECT_EQ(B[9], 0);
  EXPECT_EQ(B[12], 0);    // optimizer kind: adam
  EXPECT_EQ(B[16], 0xef); // program hash, low byte first
  EXPECT_EQ(B[23], 0x01);
  EXPECT_EQ(B[24], 1234 & 0xff); // iteration
  EXPECT_EQ(B[25], 1234 >> 8);
  EXPECT_EQ(B[32], 77); // seed
  EXPECT_EQ(B[48], 4);  // parameter count
  EXPECT_EQ(B[56], 8);  // state count
  // 1.5f is 0x3fc00000.
  EXPECT_EQ(B[64], 0x00);
  EXPECT_EQ(B[66], 0xc0);
  EXPECT_EQ(B[67], 0x3f);
}

TEST(CheckpointTest, EncodeDecodeRoundTrip) {
  Checkpoint C = sample();
  expectEqual(C, decodeCheckpoint(encodeCheckpoint(C), "mem"));
}

TEST(CheckpointTest, AtomicWriteAndReadBack) {
  TempDir Dir;
  std::string Path = Dir.file("run.ckpt");
  Checkpoint C = sample();
  writeCheckpoint(Path, C);
  EXPECT_FALSE(fileExists(Path + ".tmp"));
  expectEqual(C, readCheckpoint(Path));
  // Overwriting replaces the file as a whole.
  C.Iteration = 2000;
  C.Params.resize(1);
  C.OptimizerState.resize(2);
  writeCheckpoint(Path, C);
  expectEqual(C, readCheckpoint(Path));
  EXPECT_FALSE(fileExists(Path + ".tmp"));
}

TEST(CheckpointTest, WriteFailureNamesTheFile) {
  try {
    writeCheckpoint("/nonexistent-dir/x.ckpt", sample());
    FAIL() << "expected an error";
  } catch (const Error &E) {
    EXPECT_NE(std::string(E.what()).find(
                  "cannot write checkpoint '/nonexistent-dir/x.ckpt'"),
              std::string::npos)
        << E.what();
  }
}

TEST(CheckpointTest, DetectsCorruptFiles) {
  TempDir Dir;
  std::vector<unsigned char> Good = encodeCheckpoint(sample());
  auto Write = [&](const std::string &Name, std::vector<unsigned char> Bytes) {
    writeFile(Dir.file(Name), std::string(Bytes.begin(), Bytes.end()));
    return Dir.file(Name);
  };
  auto Prefix = [&](const std::string &Path) {
    return "error: cannot load checkpoint '" + Path + "': ";
  };

  std::string Missing = Dir.file("missing.ckpt");
  EXPECT_EQ(loadError(Missing), Prefix(Missing) + "No such file or directory");

  std::string Text = Write("text.ckpt", {'h', 'e', 'l', 'l', 'o'});
  EXPECT_EQ(loadError(Text),
            Prefix(Text) + "bad magic (not a metac checkpoint)");

  std::vector<unsigned char> Short(Good.begin(), Good.end() - 5);
  std::string Truncated = Write("short.ckpt", Short);
  EXPECT_EQ(loadError(Truncated),
            Prefix(Truncated) + "truncated (115 bytes, expected 120)");

  std::vector<unsigned char> HeaderOnly(Good.begin(), Good.begin() + 20);
  std::string Tiny = Write("tiny.ckpt", HeaderOnly);
  EXPECT_EQ(loadError(Tiny),
            Prefix(Tiny) + "truncated (20 bytes, the header alone is 72)");

  std::vector<unsigned char> Flipped = Good;
  Flipped[70] ^= 0x10;
  std::string Bad = Write("flipped.ckpt", Flipped);
  EXPECT_EQ(loadError(Bad),
            Prefix(Bad) + "checksum mismatch (the file is corrupt)");

  std::vector<unsigned char> Longer = Good;
  Longer.push_back(0);
  std::string Long = Write("long.ckpt", Longer);
  EXPECT_EQ(loadError(Long), Prefix(Long) + "1 unexpected trailing bytes");

  std::vector<unsigned char> Future = Good;
  Future[8] = 9;
  std::string V9 = Write("v9.ckpt", Future);
  EXPECT_EQ(loadError(V9),
            Prefix(V9) +
                "unsupported version 9 (this runtime reads version 1)");
}

TEST(CheckpointTest, RefusesAnotherProgramsCheckpoint) {
  const Program &P = fakeProgram();
  Checkpoint C;
  C.ProgramHash = P.hash();
  C.Params.assign(P.numParameters(), 0.0f);
  C.OptimizerKind = OptimizerSpec::Adam;
  C.OptimizerState.assign(2 * P.numParameters(), 0.0f);
  EXPECT_NO_THROW(checkCompatible(C, P, "ok.ckpt"));

  C.ProgramHash ^= 1;
  try {
    checkCompatible(C, P, "other.ckpt");
    FAIL() << "expected an error";
  } catch (const Error &E) {
    std::string Message = E.what();
    EXPECT_EQ(Message.rfind("error: cannot load checkpoint 'other.ckpt': "
                            "program mismatch",
                            0),
              0u)
        << Message;
  }
  C.ProgramHash ^= 1;
  C.OptimizerState.pop_back();
  EXPECT_THROW(checkCompatible(C, P, "state.ckpt"), Error);
}
