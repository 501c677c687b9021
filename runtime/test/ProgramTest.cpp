//===- ProgramTest.cpp - Descriptor parsing, validation and layout --------===//

#include "TestUtil.h"

#include "metac/runtime/Error.h"
#include "metac/runtime/Program.h"

#include <gtest/gtest.h>

using namespace metac::runtime;
using namespace metac::runtime::test;

namespace {

/// A small valid descriptor, one string per line (line N is Lines[N - 1]).
std::vector<std::string> validLines() {
  return {
      "metac-program 1",                 // 1
      "name tiny",                       // 2
      "param w 1x2 normal 0 1",          // 3
      "meta lr scalar const 0.5",        // 4
      "data x 2",                        // 5
      "data y scalar",                   // 6
      "setting support 3",               // 7
      "setting query 4",                 // 8
      "setting meta_batch 2",            // 9
      "setting train 10",                // 10
      "list eval_steps 0 1",             // 11
      "list eval_shots 3",               // 12
      "optimizer sgd lr 0.1 momentum 0", // 13
      "kernel 0 sample 3",               // 14
      "kernel 1 sample 4",               // 15
      "kernel 2 meta_grad 3 4",          // 16
      "kernel 3 eval 3 4",               // 17
      "end",                             // 18
  };
}

std::string join(const std::vector<std::string> &Lines) {
  std::string Text;
  for (const std::string &L : Lines)
    Text += L + "\n";
  return Text;
}

/// The message Program::parse throws for Text, or "" if it parses.
std::string parseError(const std::string &Text) {
  try {
    Program::parse(Text);
  } catch (const Error &E) {
    EXPECT_EQ(E.exitCode(), ExitFailure);
    return E.what();
  }
  return "";
}

/// The message for the valid descriptor with line Line replaced by Text
/// (or removed when Text is empty).
std::string errorWithLine(size_t Line, const std::string &Text) {
  std::vector<std::string> Lines = validLines();
  if (Text.empty())
    Lines.erase(Lines.begin() + (Line - 1));
  else
    Lines[Line - 1] = Text;
  return parseError(join(Lines));
}

} // namespace

TEST(ProgramTest, ValidDescriptorParses) {
  Program P = Program::parse(join(validLines()));
  EXPECT_EQ(P.name(), "tiny");
  ASSERT_EQ(P.parameters().size(), 2u);
  EXPECT_EQ(P.parameters()[0].Name, "w");
  EXPECT_EQ(P.parameters()[0].Shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(P.parameters()[0].Init.K, Initializer::Normal);
  EXPECT_EQ(P.parameters()[0].Init.B, 1.0);
  EXPECT_TRUE(P.parameters()[1].IsMeta);
  EXPECT_EQ(P.parameters()[1].Init.K, Initializer::Const);
  EXPECT_EQ(P.parameters()[1].Init.A, 0.5);
  ASSERT_EQ(P.data().size(), 2u);
  EXPECT_EQ(P.data()[0].RowSize, 2);
  EXPECT_EQ(P.data()[1].RowSize, 1);
  EXPECT_EQ(P.dataSize(0, 3), 6);
  const Settings &S = P.settings();
  EXPECT_EQ(S.Support, 3);
  EXPECT_EQ(S.Query, 4);
  EXPECT_EQ(S.MetaBatch, 2);
  EXPECT_EQ(S.Train, 10);
  EXPECT_EQ(S.EvalTasks, 600) << "default";
  EXPECT_EQ(S.EvalQuery, 4) << "defaults to query";
  EXPECT_EQ(S.EvalSteps, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(S.EvalShots, (std::vector<int64_t>{3}));
  EXPECT_EQ(P.optimizer().K, OptimizerSpec::Sgd);
  EXPECT_FLOAT_EQ(P.optimizer().Lr, 0.1f);
  EXPECT_EQ(P.kernels().size(), 4u);
  EXPECT_TRUE(P.hasEvaluation());
}

TEST(ProgramTest, FakeProgramParses) {
  const Program &P = fakeProgram();
  EXPECT_EQ(P.name(), "fake_linear");
  EXPECT_EQ(P.numParameters(), 3);
  EXPECT_EQ(P.numModelParameters(), 2);
  EXPECT_EQ(P.optimizer().K, OptimizerSpec::Adam);
  EXPECT_FLOAT_EQ(P.optimizer().Eps, 1e-8f);
}

TEST(ProgramTest, FlatLayoutFollowsDescriptorOrder) {
  Program P = Program::parse("metac-program 1\n"
                             "name layout\n"
                             "param a 2x3 zeros\n"
                             "meta m 4 zeros\n"
                             "param b scalar zeros\n"
                             "param c 2x2x2 zeros\n"
                             "data x 1\n"
                             "setting support 1\n"
                             "setting query 1\n"
                             "setting meta_batch 1\n"
                             "setting train 0\n"
                             "optimizer adam lr 1 beta1 0.5 beta2 0.5 eps 1\n"
                             "kernel 0 sample 1\n"
                             "kernel 1 meta_grad 1 1\n"
                             "end\n");
  const auto &Ps = P.parameters();
  ASSERT_EQ(Ps.size(), 4u);
  EXPECT_EQ(Ps[0].Offset, 0);
  EXPECT_EQ(Ps[0].Size, 6);
  EXPECT_EQ(Ps[1].Offset, 6);
  EXPECT_EQ(Ps[1].Size, 4);
  EXPECT_EQ(Ps[2].Offset, 10);
  EXPECT_EQ(Ps[2].Size, 1);
  EXPECT_TRUE(Ps[2].Shape.empty());
  EXPECT_EQ(Ps[3].Offset, 11);
  EXPECT_EQ(Ps[3].Size, 8);
  EXPECT_EQ(P.numParameters(), 19);
  // The model-only layout skips the meta record.
  EXPECT_EQ(Ps[0].ModelOffset, 0);
  EXPECT_EQ(Ps[1].ModelOffset, -1);
  EXPECT_EQ(Ps[2].ModelOffset, 6);
  EXPECT_EQ(Ps[3].ModelOffset, 7);
  EXPECT_EQ(P.numModelParameters(), 15);
  EXPECT_FALSE(P.hasEvaluation());
}

TEST(ProgramTest, KernelLookupByKindAndSizes) {
  Program P = Program::parse(join(validLines()));
  const KernelRecord *K = P.findKernel(KernelRecord::MetaGrad, 3, 4);
  ASSERT_NE(K, nullptr);
  EXPECT_EQ(K->Id, 2);
  EXPECT_EQ(P.findKernel(KernelRecord::MetaGrad, 4, 3), nullptr);
  EXPECT_EQ(P.findKernel(KernelRecord::Sample, 4)->Id, 1);
  EXPECT_EQ(P.findKernel(KernelRecord::Adapt, 3), nullptr);
  try {
    P.requireKernel(KernelRecord::Adapt, 3);
    FAIL() << "expected an error";
  } catch (const Error &E) {
    EXPECT_STREQ(E.what(), "the program has no `adapt 3` kernel");
  }
}

TEST(ProgramTest, HashIdentifiesTheText) {
  std::string Text = join(validLines());
  EXPECT_EQ(Program::parse(Text).hash(), Program::parse(Text).hash());
  std::vector<std::string> Other = validLines();
  Other[9] = "setting train 11";
  EXPECT_NE(Program::parse(Text).hash(), Program::parse(join(Other)).hash());
}

TEST(ProgramTest, BlankLinesAndExtraSpacesAreAccepted) {
  std::vector<std::string> Lines = validLines();
  Lines[2] = "param   w\t1x2  normal 0 1 ";
  Lines.insert(Lines.begin() + 5, "");
  EXPECT_EQ(parseError(join(Lines)), "");
}

struct BadLine {
  size_t Line;
  const char *Text;
  const char *Message;
};

class BadLineTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(BadLineTest, NamesTheLineAndTheProblem) {
  const BadLine &B = GetParam();
  EXPECT_EQ(errorWithLine(B.Line, B.Text), "bad program descriptor line " +
                                               std::to_string(B.Line) + ": " +
                                               B.Message);
}

INSTANTIATE_TEST_SUITE_P(
    Records, BadLineTest,
    ::testing::Values(
        BadLine{1, "metac-programme 1",
                "expected the header `metac-program 1`"},
        BadLine{1, "metac-program 2",
                "unsupported descriptor version '2' (this runtime reads "
                "version 1)"},
        BadLine{2, "name",
                "`name` takes 1 argument (the learner name), found 0"},
        BadLine{2, "name 9lives",
                "bad learner name '9lives' (letters, digits, '_', '.', '-', "
                "'/'; starting with a letter or '_')"},
        BadLine{5, "frobnicate x", "unknown record 'frobnicate'"},
        BadLine{3, "param w 1xx2 normal 0 1",
                "bad shape '1xx2' (expected `scalar` or positive dimensions "
                "joined by `x`, e.g. `1x40`)"},
        BadLine{3, "param w 0x2 normal 0 1",
                "dimension must be at least 1, found 0"},
        BadLine{3, "param w 99999x99999 zeros",
                "shape '99999x99999' is too large"},
        BadLine{3, "param w 1x2", "`param` needs <name> <shape> <init>"},
        BadLine{3, "param w 1x2 gaussian 0 1",
                "unknown init 'gaussian' (expected zeros, const, uniform, "
                "normal or truncated_normal)"},
        BadLine{3, "param w 1x2 uniform 0",
                "init `uniform` takes 2 arguments (<lo> <hi>), found 1"},
        BadLine{3, "param w 1x2 uniform 1 0", "uniform bounds 1 > 0"},
        BadLine{3, "param w 1x2 zeros 0",
                "init `zeros` takes 0 arguments (none), found 1"},
        BadLine{3, "param w 1x2 normal 0 abc",
                "standard deviation 'abc' is not a finite number"},
        BadLine{3, "param w 1x2 normal 0 inf",
                "standard deviation 'inf' is not a finite number"},
        BadLine{3, "param w 1x2 normal 0 -1", "negative standard deviation -1"},
        BadLine{4, "meta w scalar const 0.5", "duplicate name 'w'"},
        BadLine{5, "data x",
                "`data` takes 2 arguments (<name> <shape>), found 1"},
        BadLine{7, "setting support three",
                "setting support 'three' is not an integer"},
        BadLine{7, "setting support 0",
                "setting support must be at least 1, found 0"},
        BadLine{7, "setting support 99999999999999999999",
                "setting support '99999999999999999999' is out of range"},
        BadLine{7, "setting epochs 3",
                "unknown setting 'epochs' (expected support, query, "
                "meta_batch, train, eval_tasks, eval_query or inner_steps)"},
        BadLine{8, "setting support 4", "duplicate setting 'support'"},
        BadLine{11, "list eval_steps",
                "`list` needs a key and at least one integer"},
        BadLine{11, "list steps 0 1",
                "unknown list 'steps' (expected eval_steps or eval_shots)"},
        BadLine{11, "list eval_steps 0 1 0", "eval_steps lists 0 twice"},
        BadLine{12, "list eval_shots 0",
                "eval_shots entry must be at least 1, found 0"},
        BadLine{13, "optimizer rmsprop lr 0.1",
                "unknown optimizer 'rmsprop' (expected adam, sgd or trpo)"},
        BadLine{13, "optimizer sgd lr 0.1",
                "expected `optimizer sgd lr <f> momentum <f>` (then optionally "
                "`epochs <n>`)"},
        BadLine{13, "optimizer sgd momentum 0 lr 0.1",
                "expected `optimizer sgd lr <f> momentum <f>`, found "
                "'momentum' where 'lr' belongs"},
        BadLine{13, "optimizer sgd lr 0 momentum 0",
                "the learning rate must be positive"},
        BadLine{13, "optimizer sgd lr 0.1 momentum 1",
                "sgd momentum must lie in [0, 1)"},
        BadLine{13, "optimizer adam lr 0.1 beta1 1 beta2 0.9 eps 1e-8",
                "adam betas must lie in [0, 1)"},
        BadLine{13, "optimizer adam lr 0.1 beta1 0.9 beta2 0.9 eps 0",
                "adam eps must be positive"},
        BadLine{14, "kernel 0 fused 3",
                "unknown kernel kind 'fused' (expected sample, meta_grad, "
                "adapt, adapt_step, eval, query_eval, reset, step, reward, "
                "policy, trpo_hvp, trpo_kl_grad or surrogate)"},
        BadLine{14, "kernel 0 sample 3 4",
                "kernel kind sample takes 1 size, found 2"},
        BadLine{16, "kernel 2 meta_grad 3",
                "kernel kind meta_grad takes 2 sizes, found 1"},
        BadLine{15, "kernel 0 sample 4", "duplicate kernel id 0"},
        BadLine{15, "kernel 1 sample 3", "duplicate kernel `sample 3`"},
        BadLine{14, "kernel -1 sample 3",
                "kernel id must be at least 0, found -1"},
        BadLine{13, "data z 1",
                "`data` record after a `list` record (records must follow "
                "the order given in metac/abi.h)"},
        BadLine{9, "name again",
                "`name` record after a `setting` record "
                "(records must follow the order given in "
                "metac/abi.h)"},
        BadLine{2, "metac-program 1", "duplicate header"}));

// A stepwise program (an `adapt_step` kernel for the support size) evaluates
// with `adapt_step` per shot count and `query_eval`, not `eval` kernels.
TEST(ProgramTest, StepwiseKernels) {
  std::vector<std::string> Lines = validLines();
  Lines[16] = "kernel 3 adapt_step 3";
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: no `kernel <id> query_eval 4` record "
            "(needed for evaluation (the program adapts stepwise))");
  Lines.insert(Lines.begin() + 17, "kernel 4 query_eval 4");
  EXPECT_EQ(parseError(join(Lines)), "");
  Lines[11] = "list eval_shots 3 4";
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: no `kernel <id> adapt_step 4` record "
            "(needed for evaluation with 4 shots)");
}

TEST(ProgramTest, TextAfterEnd) {
  EXPECT_EQ(parseError(join(validLines()) + "kernel 9 sample 9\n"),
            "bad program descriptor line 19: text after the `end` record");
}

TEST(ProgramTest, DuplicateOptimizer) {
  std::vector<std::string> Lines = validLines();
  Lines.insert(Lines.begin() + 13, "optimizer sgd lr 0.1 momentum 0");
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor line 14: duplicate `optimizer` record");
}

TEST(ProgramTest, MissingRecords) {
  EXPECT_EQ(parseError(""), "bad program descriptor: the descriptor is empty");
  EXPECT_EQ(errorWithLine(18, ""),
            "bad program descriptor: missing `end` record (is the descriptor "
            "truncated?)");
  EXPECT_EQ(errorWithLine(2, ""),
            "bad program descriptor: missing `name` record");
  EXPECT_EQ(errorWithLine(10, ""),
            "bad program descriptor: missing `setting train <integer>`");
  EXPECT_EQ(errorWithLine(13, ""),
            "bad program descriptor: missing `optimizer` record");
  EXPECT_EQ(errorWithLine(16, ""),
            "bad program descriptor: no `kernel <id> meta_grad 3 4` record "
            "(needed for meta-training)");
  EXPECT_EQ(errorWithLine(15, ""),
            "bad program descriptor: no `kernel <id> sample 4` record (needed "
            "to sample query sets)");
  EXPECT_EQ(errorWithLine(17, ""),
            "bad program descriptor: no `kernel <id> eval 3 4` record (needed "
            "for evaluation with 3 shots)");
  EXPECT_EQ(errorWithLine(11, ""),
            "bad program descriptor: `list eval_shots` without `list "
            "eval_steps`");
  EXPECT_EQ(errorWithLine(5, "setting query 5"),
            "bad program descriptor line 6: `data` record after a `setting` "
            "record (records must follow the order given in metac/abi.h)");
}

TEST(ProgramTest, NoParametersOrData) {
  std::vector<std::string> Lines = validLines();
  Lines.erase(Lines.begin() + 2, Lines.begin() + 4);
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: no `param` records (a program needs a "
            "model)");
  Lines = validLines();
  Lines.erase(Lines.begin() + 4, Lines.begin() + 6);
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: no `data` records");
}

static void dummyKernel(void **) {}

TEST(ProgramTest, LoadChecksTheKernelTable) {
  std::string Text = join(validLines());
  const metac_kernel_fn Full[] = {dummyKernel, dummyKernel, dummyKernel,
                                  dummyKernel};
  Program P = Program::load(Text.c_str(), Full);
  EXPECT_EQ(P.function(*P.findKernel(KernelRecord::Eval, 3, 4)), &dummyKernel);

  const metac_kernel_fn Holey[] = {dummyKernel, nullptr, dummyKernel,
                                   dummyKernel};
  try {
    Program::load(Text.c_str(), Holey);
    FAIL() << "expected an error";
  } catch (const Error &E) {
    EXPECT_STREQ(E.what(), "bad program descriptor: kernel 1 (`sample 4`) is "
                           "null in metac_kernels");
  }
  EXPECT_THROW(Program::load(nullptr, Full), Error);
}

/// An image program: a `source` record instead of sample kernels, split
/// sizes in rows (way x shots), and a metric.
static std::vector<std::string> imageLines() {
  return {
      "metac-program 1",                 // 1
      "name cls",                        // 2
      "param w 784x5 zeros",             // 3
      "data x 28x28x1",                  // 4
      "data y 5",                        // 5
      "source glyphs way 5 rotations 4", // 6
      "metric accuracy",                 // 7
      "setting support 5",               // 8
      "setting query 75",                // 9
      "setting meta_batch 2",            // 10
      "setting train 10",                // 11
      "list eval_steps 0 1",             // 12
      "list eval_shots 5 25",            // 13
      "optimizer sgd lr 0.1 momentum 0", // 14
      "kernel 0 meta_grad 5 75",         // 15
      "kernel 1 eval 5 75",              // 16
      "kernel 2 eval 25 75",             // 17
      "end",                             // 18
  };
}

TEST(ProgramTest, ImageSourceNeedsNoSampleKernels) {
  Program P = Program::parse(join(imageLines()));
  EXPECT_EQ(P.source().K, TaskSourceSpec::Glyphs);
  EXPECT_EQ(P.source().Way, 5);
  EXPECT_EQ(P.source().Rotations, 4);
  EXPECT_TRUE(P.source().Root.empty());
  ASSERT_EQ(P.metrics().size(), 1u);
  EXPECT_EQ(P.metrics()[0], "accuracy");
  // Per step: the loss and the accuracy.
  EXPECT_EQ(P.evalOutputs(), 4);

  std::vector<std::string> Lines = imageLines();
  Lines[5] = "source omniglot way 5 rotations 1 root /data/omniglot";
  P = Program::parse(join(Lines));
  EXPECT_EQ(P.source().K, TaskSourceSpec::Omniglot);
  EXPECT_EQ(P.source().Root, "/data/omniglot");

  // Pretraining labels: y is `classes` wide.
  Lines = imageLines();
  Lines[4] = "data y 12";
  Lines[5] = "source glyphs way 5 rotations 4 classes 12 root /d";
  P = Program::parse(join(Lines));
  EXPECT_EQ(P.source().Classes, 12);
  EXPECT_EQ(P.source().labelWidth(), 12);
  EXPECT_EQ(P.source().Root, "/d");
}

TEST(ProgramTest, ImageSourceRecordsAreChecked) {
  auto With = [](size_t Line, const std::string &Text) {
    std::vector<std::string> Lines = imageLines();
    Lines[Line - 1] = Text;
    return parseError(join(Lines));
  };
  EXPECT_EQ(With(6, "source mnist way 5 rotations 4"),
            "bad program descriptor line 6: unknown source 'mnist' (expected "
            "glyphs or omniglot)");
  EXPECT_EQ(With(6, "source glyphs way 5"),
            "bad program descriptor line 6: expected `source glyphs|omniglot "
            "way <n> rotations <1|4> [classes <n>] [root <dir>]`");
  EXPECT_EQ(With(6, "source glyphs way 5 rotations 4 root /d classes 9"),
            "bad program descriptor line 6: expected `source glyphs|omniglot "
            "way <n> rotations <1|4> [classes <n>] [root <dir>]`");
  EXPECT_EQ(With(6, "source glyphs way 5 rotations 4 classes 4"),
            "bad program descriptor line 6: classes 4 is below way 5");
  EXPECT_EQ(With(6, "source glyphs way 5 rotations 3"),
            "bad program descriptor line 6: rotations must be 1 or 4, found 3");
  EXPECT_EQ(With(7, "metric loss"),
            "bad program descriptor line 7: metric name 'loss' is reserved (a "
            "column of the evaluation table)");
  EXPECT_EQ(With(8, "source glyphs way 5 rotations 4"),
            "bad program descriptor line 8: duplicate `source` record");
  // Labels must be one-hot over `way` classes.
  EXPECT_EQ(With(5, "data y 4"),
            "bad program descriptor: a `source` program needs `data <x> "
            "28x28x1` and `data <y> 5` (images, one-hot labels)");
  // Every split is a whole number of examples per class.
  EXPECT_EQ(With(9, "setting query 74"),
            "bad program descriptor: no `kernel <id> meta_grad 5 74` record "
            "(needed for meta-training)");
  std::vector<std::string> Lines = imageLines();
  Lines[8] = "setting query 74";
  Lines[14] = "kernel 0 meta_grad 5 74";
  Lines[12] = "list eval_shots 5";
  Lines[15] = "kernel 1 eval 5 74";
  Lines.erase(Lines.begin() + 16);
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: split size 74 is not a multiple of way 5");
}

namespace {

/// An environment program: 2 episodes of horizon 5 (10 rows), evaluation
/// with 3 episodes (15 rows), TRPO.
std::vector<std::string> envLines() {
  return {
      "metac-program 1",        // 1
      "name rl",                // 2
      "param w 2x2 normal 0 1", // 3
      "data obs 2",             // 4
      "data act 2",             // 5
      "data reward scalar",     // 6
      "data ret scalar",        // 7
      "data adv scalar",        // 8
      "data mask scalar",       // 9
      "data logp scalar",       // 10
      "data pi.mean 2",         // 11
      "data pi.log_std 2",      // 12
      "data round scalar",      // 13
      "env Nav obs 2 act 2 horizon 5 episodes 2 eval_episodes 3 "
      "discount 0.99 gae_lambda 0.95 policy gaussian", // 14
      "setting support 10",                            // 15
      "setting query 10",                              // 16
      "setting meta_batch 2",                          // 17
      "setting train 3",                               // 18
      "setting eval_query 15",                         // 19
      "list eval_steps 0 1 2",                         // 20
      "list eval_shots 15",                            // 21
      "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 10 backtrack 0.8 "
      "line_search 15",            // 22
      "kernel 0 reset 2",          // 23
      "kernel 1 step 2",           // 24
      "kernel 2 policy 2",         // 25
      "kernel 3 reset 3",          // 26
      "kernel 4 step 3",           // 27
      "kernel 5 policy 3",         // 28
      "kernel 6 meta_grad 10 10",  // 29
      "kernel 7 adapt 10",         // 30
      "kernel 8 adapt 15",         // 31
      "kernel 9 trpo_hvp 10 10",   // 32
      "kernel 10 surrogate 10 10", // 33
      "end",                       // 34
  };
}

} // namespace

TEST(ProgramTest, EnvironmentDescriptorParses) {
  Program P = Program::parse(join(envLines()));
  const EnvironmentSpec *E = P.environment();
  ASSERT_NE(E, nullptr);
  EXPECT_EQ(E->Name, "Nav");
  EXPECT_EQ(E->ObsDim, 2);
  EXPECT_EQ(E->ActDim, 2);
  EXPECT_EQ(E->Horizon, 5);
  EXPECT_EQ(E->Episodes, 2);
  EXPECT_EQ(E->EvalEpisodes, 3);
  EXPECT_DOUBLE_EQ(E->Discount, 0.99);
  EXPECT_DOUBLE_EQ(E->GaeLambda, 0.95);
  EXPECT_EQ(P.optimizer().K, OptimizerSpec::Trpo);
  EXPECT_FLOAT_EQ(P.optimizer().MaxKl, 0.01f);
  EXPECT_EQ(P.optimizer().CgIters, 10);
  EXPECT_EQ(P.optimizer().LineSearch, 15);
  EXPECT_NE(P.findKernel(KernelRecord::TrpoHvp, 10, 10), nullptr);
  EXPECT_NE(P.findKernel(KernelRecord::Policy, 3), nullptr);
  // Programs without an `env` record are not environments.
  EXPECT_EQ(Program::parse(join(validLines())).environment(), nullptr);
}

TEST(ProgramTest, EnvironmentRecordsAreChecked) {
  auto With = [](size_t Line, const std::string &Text) {
    std::vector<std::string> Lines = envLines();
    if (Text.empty())
      Lines.erase(Lines.begin() + (Line - 1));
    else
      Lines[Line - 1] = Text;
    return parseError(join(Lines));
  };
  EXPECT_EQ(With(14, "env Nav obs 2 act 2 horizon 5"),
            "bad program descriptor line 14: expected `env <name> obs <v> act "
            "<v> horizon <v> episodes <v> eval_episodes <v> discount <v> "
            "gae_lambda <v> policy <gaussian|categorical>`");
  EXPECT_EQ(With(14, "env Nav obs 2 act 2 horizon 5 episodes 2 eval_episodes "
                     "3 discount 1.5 gae_lambda 1 policy gaussian"),
            "bad program descriptor line 14: discount and gae_lambda must lie "
            "in [0, 1]");
  EXPECT_EQ(With(14, "env Nav obs 2 act 2 horizon 5 episodes 2 eval_episodes "
                     "3 discount 0.9 gae_lambda 1 policy beta"),
            "bad program descriptor line 14: unknown policy 'beta' "
            "(expected gaussian or categorical)");
  // A categorical policy's distribution is its logits.
  EXPECT_EQ(With(14, "env Nav obs 2 act 2 horizon 5 episodes 2 eval_episodes "
                     "3 discount 0.9 gae_lambda 1 policy categorical"),
            "bad program descriptor: an `env` program needs the data records "
            "obs 2, act 2, reward, ret, adv, mask, logp (scalar), pi.logits "
            "2, round (scalar), in this order");
  std::vector<std::string> Categorical = envLines();
  Categorical[13] = "env Nav obs 2 act 2 horizon 5 episodes 2 eval_episodes 3 "
                    "discount 0.9 gae_lambda 1 policy categorical";
  Categorical[10] = "data pi.logits 2";
  Categorical.erase(Categorical.begin() + 11);
  EXPECT_EQ(Program::parse(join(Categorical)).environment()->Policy,
            EnvironmentSpec::Categorical);
  // The trajectory layout is fixed: the runtime fills the fields by name.
  EXPECT_EQ(With(6, "data rew scalar"),
            "bad program descriptor: an `env` program needs the data records "
            "obs 2, act 2, reward, ret, adv, mask, logp (scalar), pi.mean 2, "
            "pi.log_std 2, round (scalar), in this order");
  EXPECT_EQ(With(15, "setting support 12"),
            "bad program descriptor: support and query must be episodes x "
            "horizon = 10 and eval_query eval_episodes x horizon = 15");
  EXPECT_EQ(With(32, ""),
            "bad program descriptor: no `kernel <id> trpo_hvp 10 10` record "
            "(needed by trpo)");
  EXPECT_EQ(With(27, ""),
            "bad program descriptor: no `kernel <id> step 3` record (needed "
            "to step episodes)");
  EXPECT_EQ(With(22, "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 2.5 "
                     "backtrack 0.8 line_search 15"),
            "bad program descriptor line 22: trpo needs max_kl > 0, damping "
            ">= 0, backtrack in (0, 1), hvp_eps >= 0, and cg_iters and "
            "line_search whole numbers in [1, 1000]");
  EXPECT_EQ(With(22, "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 10 "
                     "backtrack 0.8 line_search 15 hvp_eps -1"),
            "bad program descriptor line 22: trpo needs max_kl > 0, damping "
            ">= 0, backtrack in (0, 1), hvp_eps >= 0, and cg_iters and "
            "line_search whole numbers in [1, 1000]");
  EXPECT_EQ(With(22, "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 10 "
                     "backtrack 0.8 line_search 15 epochs 2"),
            "bad program descriptor line 22: expected `optimizer trpo max_kl "
            "<f> damping <f> cg_iters <f> backtrack <f> line_search <f>` "
            "(then optionally `hvp_eps <f>`)");
  // Finite-difference products need the KL-gradient kernel instead.
  EXPECT_EQ(With(22, "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 10 "
                     "backtrack 0.8 line_search 15 hvp_eps 1"),
            "bad program descriptor: no `kernel <id> trpo_kl_grad 10 10` "
            "record (needed by trpo's finite-difference Hessian-vector "
            "products)");
  {
    std::vector<std::string> Fd = envLines();
    Fd[21] = "optimizer trpo max_kl 0.01 damping 1e-05 cg_iters 10 backtrack "
             "0.8 line_search 15 hvp_eps 1";
    Fd[31] = "kernel 9 trpo_kl_grad 10 10";
    Program F = Program::parse(join(Fd));
    EXPECT_FLOAT_EQ(F.optimizer().HvpEps, 1.0f);
    EXPECT_NE(F.findKernel(KernelRecord::TrpoKlGrad, 10, 10), nullptr);
    EXPECT_FLOAT_EQ(Program::parse(join(envLines())).optimizer().HvpEps, 0.0f);
  }
  // TRPO constrains a policy: not for programs without an environment.
  std::vector<std::string> Lines = validLines();
  Lines[12] = "optimizer trpo max_kl 0.01 damping 0 cg_iters 10 backtrack 0.8 "
              "line_search 15";
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor: the trpo optimizer needs an `env` record "
            "(it is for policies)");
}

namespace {

/// envLines() with a simulator: a `simulator` record after `env`, and
/// `reward` kernels where the written-out environment has reset and step.
std::vector<std::string> simulatorLines() {
  std::vector<std::string> Lines = envLines();
  Lines[22] = "kernel 0 reward 2";
  Lines[23] = "kernel 1 reward 3";
  Lines.erase(Lines.begin() + 25, Lines.begin() + 27); // reset 3, step 3
  Lines.insert(Lines.begin() + 14,
               "simulator mujoco frame_skip 4 reset_noise 0.05 model "
               "00ff7a41");
  return Lines;
}

} // namespace

TEST(ProgramTest, SimulatorRecordParses) {
  Program P = Program::parse(join(simulatorLines()));
  const EnvironmentSpec *E = P.environment();
  ASSERT_NE(E, nullptr);
  ASSERT_TRUE(E->Sim.has_value());
  EXPECT_EQ(E->Sim->Kind, "mujoco");
  EXPECT_EQ(E->Sim->FrameSkip, 4);
  EXPECT_DOUBLE_EQ(E->Sim->ResetNoise, 0.05);
  EXPECT_EQ(E->Sim->Model, std::string("\x00\xff\x7a\x41", 4));
  EXPECT_NE(P.findKernel(KernelRecord::Reward, 3), nullptr);
  // Nothing is attached until runMain creates the simulator.
  EXPECT_EQ(P.simulator(), nullptr);
  EXPECT_FALSE(Program::parse(join(envLines())).environment()->Sim);
}

TEST(ProgramTest, SimulatorRecordsAreChecked) {
  auto With = [](size_t Line, const std::string &Text) {
    std::vector<std::string> Lines = simulatorLines();
    if (Text.empty())
      Lines.erase(Lines.begin() + (Line - 1));
    else
      Lines[Line - 1] = Text;
    return parseError(join(Lines));
  };
  EXPECT_EQ(With(15, "simulator bullet frame_skip 4 reset_noise 0 model 00"),
            "bad program descriptor line 15: unknown simulator 'bullet' "
            "(expected mujoco)");
  EXPECT_EQ(With(15, "simulator mujoco frame_skip 4 model 00"),
            "bad program descriptor line 15: expected `simulator mujoco "
            "frame_skip <n> reset_noise <r> model <hex>`");
  EXPECT_EQ(With(15, "simulator mujoco frame_skip 4 reset_noise 0 model 0"),
            "bad program descriptor line 15: the simulator model's hex text "
            "has an odd length");
  EXPECT_EQ(With(15, "simulator mujoco frame_skip 4 reset_noise 0 model 0G"),
            "bad program descriptor line 15: the simulator model is not "
            "lower-case hex");
  EXPECT_EQ(With(15, "simulator mujoco frame_skip 0 reset_noise 0 model 00"),
            "bad program descriptor line 15: frame_skip must be at least 1, "
            "found 0");
  // A simulator's steps are scored by `reward` kernels.
  EXPECT_EQ(With(25, ""),
            "bad program descriptor: no `kernel <id> reward 3` record (needed "
            "to score the simulator's steps)");
  // Only after an `env` record, and once.
  std::vector<std::string> Lines = simulatorLines();
  std::swap(Lines[13], Lines[14]);
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor line 14: a `simulator` record must follow "
            "the `env` record");
  Lines = simulatorLines();
  Lines.insert(Lines.begin() + 15, Lines[14]);
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor line 16: duplicate `simulator` record");
}

TEST(ProgramTest, EpochsOfAdamAndSgd) {
  std::vector<std::string> Lines = envLines();
  Lines[21] =
      "optimizer adam lr 0.003 beta1 0.9 beta2 0.999 eps 1e-08 epochs 4";
  Lines.erase(Lines.begin() + 31, Lines.begin() + 33); // trpo's kernels
  EXPECT_EQ(Program::parse(join(Lines)).optimizer().Epochs, 4);
  // Without the field, one step per batch.
  Lines[21] = "optimizer sgd lr 0.01 momentum 0";
  EXPECT_EQ(Program::parse(join(Lines)).optimizer().Epochs, 1);
  Lines[21] = "optimizer sgd lr 0.01 momentum 0 epochs 0";
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor line 22: epochs must be at least 1, found "
            "0");
  Lines[21] = "optimizer sgd lr 0.01 momentum 0 rounds 2";
  EXPECT_EQ(parseError(join(Lines)),
            "bad program descriptor line 22: expected `optimizer sgd lr <f> "
            "momentum <f>` (then optionally `epochs <n>`)");
  // Epochs reuse rollouts: supervised programs have none.
  std::vector<std::string> Supervised = validLines();
  Supervised[12] = "optimizer adam lr 0.001 beta1 0.9 beta2 0.999 eps 1e-08 "
                   "epochs 2";
  EXPECT_EQ(parseError(join(Supervised)),
            "bad program descriptor: `epochs` needs an `env` record (it "
            "reuses rollouts)");
}
