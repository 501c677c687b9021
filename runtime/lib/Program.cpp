//===- Program.cpp - Parse and validate the program descriptor ------------===//
//
// The descriptor is produced by the compiler, so a malformed one is a compiler
// bug or a mismatched runtime. Either way the user deserves a message that
// names the line and the problem rather than a crash twenty minutes into
// training, so every record is checked here and every kernel the run will need
// is looked up before the first iteration.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Program.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Files.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

using namespace metac::runtime;


static const char *kindName(KernelRecord::Kind K) {
  switch (K) {
  case KernelRecord::Sample:
    return "sample";
  case KernelRecord::MetaGrad:
    return "meta_grad";
  case KernelRecord::Adapt:
    return "adapt";
  case KernelRecord::Eval:
    return "eval";
  case KernelRecord::Reset:
    return "reset";
  case KernelRecord::Step:
    return "step";
  case KernelRecord::Policy:
    return "policy";
  case KernelRecord::TrpoHvp:
    return "trpo_hvp";
  case KernelRecord::TrpoKlGrad:
    return "trpo_kl_grad";
  case KernelRecord::Surrogate:
    return "surrogate";
  case KernelRecord::Reward:
    return "reward";
  case KernelRecord::AdaptStep:
    return "adapt_step";
  case KernelRecord::QueryEval:
    return "query_eval";
  }
  return "?";
}

static bool hasTwoSizes(KernelRecord::Kind K) {
  return K == KernelRecord::MetaGrad || K == KernelRecord::Eval ||
         K == KernelRecord::TrpoHvp || K == KernelRecord::TrpoKlGrad ||
         K == KernelRecord::Surrogate;
}

std::string metac::runtime::describeKernel(KernelRecord::Kind K, int64_t N0,
                                           int64_t N1) {
  if (hasTwoSizes(K))
    return fmt::format("{} {} {}", kindName(K), N0, N1);
  return fmt::format("{} {}", kindName(K), N0);
}

namespace metac::runtime {

/// Parses one descriptor line by line. Records must come in the order abi.h
/// lists them; each record kind has a rank and ranks may not decrease, which
/// also catches a record duplicated far away from its group.
class DescriptorParser {
public:
  explicit DescriptorParser(Program &P) : P(P) {}

  /// Parses all of P.Text; returns the line number of the `end` record.
  unsigned run();

private:
  enum Rank {
    Header,
    NameRank,
    ParamRank,
    DataRank,
    SourceRank,
    SettingRank,
    ListRank,
    OptimizerRank,
    KernelRank,
    EndRank
  };

  [[noreturn]] void fail(const std::string &Message) const {
    throw Error(
        fmt::format("bad program descriptor line {}: {}", Line, Message));
  }

  void expectArgs(size_t N, const char *Usage) const {
    if (Tokens.size() != N + 1)
      fail(fmt::format("`{}` takes {} argument{} ({}), found {}", Tokens[0], N,
                       N == 1 ? "" : "s", Usage, Tokens.size() - 1));
  }

  void enterRank(Rank R, const char *What);
  int64_t parseInt(std::string_view Token, const char *What, int64_t Min) const;
  double parseFloat(std::string_view Token, const char *What) const;
  std::vector<int64_t> parseShape(std::string_view Token) const;
  void checkName(std::string_view Name, const char *What) const;
  void checkNewName(std::string_view Name);

  void parseParam(bool IsMeta);
  void parseData();
  void parseSource();
  void parseEnvironment();
  void parseSimulator();
  void parseMetric();
  void parseSetting();
  void parseList();
  void parseOptimizer();
  void parseKernel();

  Program &P;
  unsigned Line = 0;
  std::vector<std::string_view> Tokens;
  Rank Current = Header;
  std::vector<std::string> SeenSettings;
  std::vector<std::string> SeenLists;
  std::vector<std::string> SeenNames;
  bool SawOptimizer = false;
  bool SawSource = false;
  // TRPO's integer hyper-parameters, read as floats like the others.
  float CgIters = 0, LineSearch = 0;
};

} // namespace metac::runtime

static std::vector<std::string_view> tokenize(std::string_view LineText) {
  std::vector<std::string_view> Tokens;
  size_t I = 0;
  while (I < LineText.size()) {
    while (I < LineText.size() &&
           (LineText[I] == ' ' || LineText[I] == '\t' || LineText[I] == '\r'))
      ++I;
    size_t Begin = I;
    while (I < LineText.size() && LineText[I] != ' ' && LineText[I] != '\t' &&
           LineText[I] != '\r')
      ++I;
    if (I > Begin)
      Tokens.push_back(LineText.substr(Begin, I - Begin));
  }
  return Tokens;
}

unsigned DescriptorParser::run() {
  std::string_view Text = P.Text;
  unsigned EndLine = 0;
  size_t Pos = 0;
  while (Pos < Text.size()) {
    size_t Eol = Text.find('\n', Pos);
    if (Eol == std::string_view::npos)
      Eol = Text.size();
    std::string_view LineText = Text.substr(Pos, Eol - Pos);
    Pos = Eol + 1;
    ++Line;
    Tokens = tokenize(LineText);
    if (Tokens.empty())
      continue;
    if (EndLine)
      fail("text after the `end` record");
    std::string_view Kind = Tokens[0];
    if (Line == 1 || Current == Header) {
      if (Kind != "metac-program")
        fail("expected the header `metac-program 1`");
      expectArgs(1, "the descriptor version");
      if (Tokens[1] != "1")
        fail(fmt::format("unsupported descriptor version '{}' (this runtime "
                         "reads version 1)",
                         Tokens[1]));
      Current = NameRank;
      continue;
    }
    if (Kind == "name") {
      enterRank(NameRank, "name");
      if (!P.Name.empty())
        fail("duplicate `name` record");
      expectArgs(1, "the learner name");
      checkName(Tokens[1], "learner name");
      P.Name = std::string(Tokens[1]);
    } else if (Kind == "param" || Kind == "meta") {
      parseParam(Kind == "meta");
    } else if (Kind == "data") {
      parseData();
    } else if (Kind == "source") {
      parseSource();
    } else if (Kind == "env") {
      parseEnvironment();
    } else if (Kind == "simulator") {
      parseSimulator();
    } else if (Kind == "metric") {
      parseMetric();
    } else if (Kind == "setting") {
      parseSetting();
    } else if (Kind == "list") {
      parseList();
    } else if (Kind == "optimizer") {
      parseOptimizer();
    } else if (Kind == "kernel") {
      parseKernel();
    } else if (Kind == "end") {
      enterRank(EndRank, "end");
      expectArgs(0, "none");
      EndLine = Line;
    } else if (Kind == "metac-program") {
      fail("duplicate header");
    } else {
      fail(fmt::format("unknown record '{}'", Kind));
    }
  }
  if (Line == 0)
    throw Error("bad program descriptor: the descriptor is empty");
  if (!EndLine)
    throw Error("bad program descriptor: missing `end` record (is the "
                "descriptor truncated?)");
  // The settings without a sensible default, and the optimiser.
  for (const char *Key : {"support", "query", "meta_batch", "train"})
    if (std::find(SeenSettings.begin(), SeenSettings.end(), Key) ==
        SeenSettings.end())
      throw Error(fmt::format(
          "bad program descriptor: missing `setting {} <integer>`", Key));
  if (!SawOptimizer)
    throw Error("bad program descriptor: missing `optimizer` record");
  return EndLine;
}

void DescriptorParser::enterRank(Rank R, const char *What) {
  static const char *Names[] = {
      "header",  "name", "param/meta", "data",   "source/metric",
      "setting", "list", "optimizer",  "kernel", "end"};
  if (R < Current)
    fail(fmt::format("`{}` record after a `{}` record (records must follow "
                     "the order given in metac/abi.h)",
                     What, Names[Current]));
  Current = R;
}

int64_t DescriptorParser::parseInt(std::string_view Token, const char *What,
                                   int64_t Min) const {
  int64_t Value = 0;
  auto [End, Ec] =
      std::from_chars(Token.data(), Token.data() + Token.size(), Value);
  if (Ec == std::errc::result_out_of_range)
    fail(fmt::format("{} '{}' is out of range", What, Token));
  if (Ec != std::errc() || End != Token.data() + Token.size())
    fail(fmt::format("{} '{}' is not an integer", What, Token));
  if (Value < Min)
    fail(fmt::format("{} must be at least {}, found {}", What, Min, Value));
  return Value;
}

double DescriptorParser::parseFloat(std::string_view Token,
                                    const char *What) const {
  double Value = 0;
  auto [End, Ec] =
      std::from_chars(Token.data(), Token.data() + Token.size(), Value);
  if (Ec != std::errc() || End != Token.data() + Token.size() ||
      !std::isfinite(Value))
    fail(fmt::format("{} '{}' is not a finite number", What, Token));
  return Value;
}

std::vector<int64_t>
DescriptorParser::parseShape(std::string_view Token) const {
  std::vector<int64_t> Shape;
  if (Token == "scalar")
    return Shape;
  // The flat vector is indexed with int in the embedding API.
  const int64_t Limit = std::numeric_limits<int32_t>::max();
  int64_t Size = 1;
  size_t Pos = 0;
  while (true) {
    size_t X = Token.find('x', Pos);
    std::string_view Dim = Token.substr(
        Pos, X == std::string_view::npos ? std::string_view::npos : X - Pos);
    if (Dim.empty() || !std::all_of(Dim.begin(), Dim.end(), [](char C) {
          return C >= '0' && C <= '9';
        }))
      fail(fmt::format("bad shape '{}' (expected `scalar` or positive "
                       "dimensions joined by `x`, e.g. `1x40`)",
                       Token));
    int64_t D = parseInt(Dim, "dimension", 1);
    if (D > Limit || Size > Limit / D)
      fail(fmt::format("shape '{}' is too large", Token));
    Size *= D;
    Shape.push_back(D);
    if (X == std::string_view::npos)
      break;
    Pos = X + 1;
  }
  return Shape;
}

void DescriptorParser::checkName(std::string_view Name,
                                 const char *What) const {
  auto IsStart = [](char C) {
    return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') || C == '_';
  };
  auto IsRest = [&](char C) {
    return IsStart(C) || (C >= '0' && C <= '9') || C == '.' || C == '-' ||
           C == '/';
  };
  if (Name.empty() || !IsStart(Name[0]) ||
      !std::all_of(Name.begin(), Name.end(), IsRest))
    fail(fmt::format("bad {} '{}' (letters, digits, '_', '.', '-', '/'; "
                     "starting with a letter or '_')",
                     What, Name));
}

void DescriptorParser::checkNewName(std::string_view Name) {
  if (std::find(SeenNames.begin(), SeenNames.end(), Name) != SeenNames.end())
    fail(fmt::format("duplicate name '{}'", Name));
  SeenNames.emplace_back(Name);
}

static int64_t product(const std::vector<int64_t> &Shape) {
  int64_t Size = 1;
  for (int64_t D : Shape)
    Size *= D;
  return Size;
}

void DescriptorParser::parseParam(bool IsMeta) {
  enterRank(ParamRank, IsMeta ? "meta" : "param");
  const char *Usage = "<name> <shape> <init>";
  if (Tokens.size() < 4)
    fail(fmt::format("`{}` needs {}", Tokens[0], Usage));
  Parameter Param;
  checkName(Tokens[1], "parameter name");
  checkNewName(Tokens[1]);
  Param.Name = std::string(Tokens[1]);
  Param.Shape = parseShape(Tokens[2]);
  Param.Size = product(Param.Shape);
  Param.IsMeta = IsMeta;

  std::string_view Init = Tokens[3];
  size_t NumArgs = Tokens.size() - 4;
  auto ExpectInitArgs = [&](size_t N, const char *InitUsage) {
    if (NumArgs != N)
      fail(fmt::format("init `{}` takes {} argument{} ({}), found {}", Init, N,
                       N == 1 ? "" : "s", InitUsage, NumArgs));
  };
  if (Init == "zeros") {
    ExpectInitArgs(0, "none");
    Param.Init.K = Initializer::Zeros;
  } else if (Init == "const") {
    ExpectInitArgs(1, "<v>");
    Param.Init.K = Initializer::Const;
    Param.Init.A = parseFloat(Tokens[4], "init value");
  } else if (Init == "uniform") {
    ExpectInitArgs(2, "<lo> <hi>");
    Param.Init.K = Initializer::Uniform;
    Param.Init.A = parseFloat(Tokens[4], "uniform bound");
    Param.Init.B = parseFloat(Tokens[5], "uniform bound");
    if (!(Param.Init.A <= Param.Init.B))
      fail(fmt::format("uniform bounds {} > {}", Tokens[4], Tokens[5]));
  } else if (Init == "normal" || Init == "truncated_normal") {
    ExpectInitArgs(2, "<mean> <std>");
    Param.Init.K =
        Init == "normal" ? Initializer::Normal : Initializer::TruncatedNormal;
    Param.Init.A = parseFloat(Tokens[4], "mean");
    Param.Init.B = parseFloat(Tokens[5], "standard deviation");
    if (Param.Init.B < 0)
      fail(fmt::format("negative standard deviation {}", Tokens[5]));
  } else {
    fail(fmt::format("unknown init '{}' (expected zeros, const, uniform, "
                     "normal or truncated_normal)",
                     Init));
  }

  const int64_t Limit = std::numeric_limits<int32_t>::max();
  if (P.FlatSize > Limit - Param.Size)
    fail("the parameters do not fit in 2^31 floats");
  Param.Offset = P.FlatSize;
  P.FlatSize += Param.Size;
  if (!IsMeta) {
    Param.ModelOffset = P.ModelFlatSize;
    P.ModelFlatSize += Param.Size;
  }
  P.Params.push_back(std::move(Param));
}

void DescriptorParser::parseData() {
  enterRank(DataRank, "data");
  expectArgs(2, "<name> <shape>");
  DataTensor D;
  checkName(Tokens[1], "data name");
  checkNewName(Tokens[1]);
  D.Name = std::string(Tokens[1]);
  D.Shape = parseShape(Tokens[2]);
  D.RowSize = product(D.Shape);
  P.Data.push_back(std::move(D));
}

void DescriptorParser::parseSource() {
  enterRank(SourceRank, "source");
  if (SawSource)
    fail("duplicate `source` record");
  SawSource = true;
  const char *Usage = "`source glyphs|omniglot way <n> rotations <1|4> "
                      "[classes <n>] [root <dir>]`";
  if (Tokens.size() < 6 || Tokens.size() % 2 != 0 || Tokens[2] != "way" ||
      Tokens[4] != "rotations")
    fail(fmt::format("expected {}", Usage));
  for (size_t I = 6; I < Tokens.size(); I += 2) {
    if (Tokens[I] == "classes" && I == 6)
      P.Source.Classes = parseInt(Tokens[I + 1], "classes", 2);
    else if (Tokens[I] == "root" && I + 2 == Tokens.size())
      P.Source.Root = std::string(Tokens[I + 1]);
    else
      fail(fmt::format("expected {}", Usage));
  }
  TaskSourceSpec &S = P.Source;
  if (Tokens[1] == "glyphs")
    S.K = TaskSourceSpec::Glyphs;
  else if (Tokens[1] == "omniglot")
    S.K = TaskSourceSpec::Omniglot;
  else
    fail(fmt::format("unknown source '{}' (expected glyphs or omniglot)",
                     Tokens[1]));
  S.Way = parseInt(Tokens[3], "way", 2);
  S.Rotations = parseInt(Tokens[5], "rotations", 1);
  if (S.Rotations != 1 && S.Rotations != 4)
    fail(fmt::format("rotations must be 1 or 4, found {}", S.Rotations));
  if (S.Classes && S.Classes < S.Way)
    fail(fmt::format("classes {} is below way {}", S.Classes, S.Way));
}

void DescriptorParser::parseEnvironment() {
  enterRank(SourceRank, "env");
  if (SawSource)
    fail("duplicate `source` or `env` record");
  SawSource = true;
  static const char *const Keys[] = {"obs",        "act",           "horizon",
                                     "episodes",   "eval_episodes", "discount",
                                     "gae_lambda", "policy"};
  std::string Usage = "env <name>";
  for (const char *K : Keys)
    Usage += fmt::format(
        " {} <{}>", K,
        std::string_view(K) == "policy" ? "gaussian|categorical" : "v");
  if (Tokens.size() != 2 + 2 * std::size(Keys))
    fail(fmt::format("expected `{}`", Usage));
  for (size_t I = 0; I < std::size(Keys); ++I)
    if (Tokens[2 + 2 * I] != Keys[I])
      fail(fmt::format("expected `{}`, found '{}' where '{}' belongs", Usage,
                       Tokens[2 + 2 * I], Keys[I]));
  EnvironmentSpec &E = P.Env;
  checkName(Tokens[1], "environment name");
  E.Name = std::string(Tokens[1]);
  E.ObsDim = parseInt(Tokens[3], "obs", 1);
  E.ActDim = parseInt(Tokens[5], "act", 1);
  E.Horizon = parseInt(Tokens[7], "horizon", 1);
  E.Episodes = parseInt(Tokens[9], "episodes", 1);
  E.EvalEpisodes = parseInt(Tokens[11], "eval_episodes", 1);
  E.Discount = parseFloat(Tokens[13], "discount");
  E.GaeLambda = parseFloat(Tokens[15], "gae_lambda");
  if (!(E.Discount >= 0 && E.Discount <= 1) ||
      !(E.GaeLambda >= 0 && E.GaeLambda <= 1))
    fail("discount and gae_lambda must lie in [0, 1]");
  if (Tokens[17] == "gaussian")
    E.Policy = EnvironmentSpec::Gaussian;
  else if (Tokens[17] == "categorical")
    E.Policy = EnvironmentSpec::Categorical;
  else
    fail(fmt::format("unknown policy '{}' (expected gaussian or categorical)",
                     Tokens[17]));
}

void DescriptorParser::parseSimulator() {
  enterRank(SourceRank, "simulator");
  if (!P.Env.Horizon)
    fail("a `simulator` record must follow the `env` record");
  if (P.Env.Sim)
    fail("duplicate `simulator` record");
  const char *Usage = "expected `simulator mujoco frame_skip <n> reset_noise "
                      "<r> model <hex>`";
  if (Tokens.size() != 8 || Tokens[2] != "frame_skip" ||
      Tokens[4] != "reset_noise" || Tokens[6] != "model")
    fail(Usage);
  if (Tokens[1] != "mujoco")
    fail(fmt::format("unknown simulator '{}' (expected mujoco)", Tokens[1]));
  SimulatorSpec S;
  S.Kind = std::string(Tokens[1]);
  S.FrameSkip = parseInt(Tokens[3], "frame_skip", 1);
  S.ResetNoise = parseFloat(Tokens[5], "reset_noise");
  if (!(S.ResetNoise >= 0))
    fail("reset_noise must not be negative");
  std::string_view Hex = Tokens[7];
  auto Digit = [](char C) {
    return C >= '0' && C <= '9'   ? C - '0'
           : C >= 'a' && C <= 'f' ? C - 'a' + 10
                                  : -1;
  };
  if (Hex.size() % 2 != 0)
    fail("the simulator model's hex text has an odd length");
  S.Model.resize(Hex.size() / 2);
  for (size_t I = 0; I < S.Model.size(); ++I) {
    int Hi = Digit(Hex[2 * I]), Lo = Digit(Hex[2 * I + 1]);
    if (Hi < 0 || Lo < 0)
      fail("the simulator model is not lower-case hex");
    S.Model[I] = static_cast<char>(Hi * 16 + Lo);
  }
  P.Env.Sim = std::move(S);
}

void DescriptorParser::parseMetric() {
  enterRank(SourceRank, "metric");
  expectArgs(1, "<name>");
  checkName(Tokens[1], "metric name");
  for (const char *Column : {"loss", "shots", "steps", "mean", "ci95"})
    if (Tokens[1] == Column)
      fail(fmt::format("metric name '{}' is reserved (a column of the "
                       "evaluation table)",
                       Tokens[1]));
  if (std::find(P.Metrics.begin(), P.Metrics.end(), Tokens[1]) !=
      P.Metrics.end())
    fail(fmt::format("duplicate metric '{}'", Tokens[1]));
  P.Metrics.emplace_back(Tokens[1]);
}

void DescriptorParser::parseSetting() {
  enterRank(SettingRank, "setting");
  expectArgs(2, "<key> <integer>");
  std::string Key(Tokens[1]);
  if (std::find(SeenSettings.begin(), SeenSettings.end(), Key) !=
      SeenSettings.end())
    fail(fmt::format("duplicate setting '{}'", Key));
  SeenSettings.push_back(Key);
  Settings &S = P.Config;
  struct Known {
    const char *Key;
    int64_t Settings::*Field;
    int64_t Min;
  };
  static const Known Keys[] = {
      {"support", &Settings::Support, 1},
      {"query", &Settings::Query, 1},
      {"meta_batch", &Settings::MetaBatch, 1},
      {"train", &Settings::Train, 0},
      {"eval_tasks", &Settings::EvalTasks, 1},
      {"eval_query", &Settings::EvalQuery, 1},
      {"inner_steps", &Settings::InnerSteps, 0},
  };
  for (const Known &K : Keys)
    if (Key == K.Key) {
      S.*K.Field =
          parseInt(Tokens[2], fmt::format("setting {}", Key).c_str(), K.Min);
      return;
    }
  fail(fmt::format("unknown setting '{}' (expected support, query, "
                   "meta_batch, train, eval_tasks, eval_query or inner_steps)",
                   Key));
}

void DescriptorParser::parseList() {
  enterRank(ListRank, "list");
  if (Tokens.size() < 3)
    fail("`list` needs a key and at least one integer");
  std::string Key(Tokens[1]);
  std::vector<int64_t> *Target;
  int64_t Min;
  if (Key == "eval_steps") {
    Target = &P.Config.EvalSteps;
    Min = 0;
  } else if (Key == "eval_shots") {
    Target = &P.Config.EvalShots;
    Min = 1;
  } else {
    fail(fmt::format("unknown list '{}' (expected eval_steps or eval_shots)",
                     Key));
  }
  if (std::find(SeenLists.begin(), SeenLists.end(), Key) != SeenLists.end())
    fail(fmt::format("duplicate list '{}'", Key));
  SeenLists.push_back(Key);
  std::string What = fmt::format("{} entry", Key);
  for (size_t I = 2; I < Tokens.size(); ++I) {
    int64_t V = parseInt(Tokens[I], What.c_str(), Min);
    if (std::find(Target->begin(), Target->end(), V) != Target->end())
      fail(fmt::format("{} lists {} twice", Key, V));
    Target->push_back(V);
  }
}

void DescriptorParser::parseOptimizer() {
  if (SawOptimizer)
    fail("duplicate `optimizer` record");
  enterRank(OptimizerRank, "optimizer");
  SawOptimizer = true;
  if (Tokens.size() < 2)
    fail("`optimizer` needs a kind (adam or sgd)");
  OptimizerSpec &O = P.Optim;
  std::vector<std::pair<const char *, float *>> Fields;
  if (Tokens[1] == "adam") {
    O.K = OptimizerSpec::Adam;
    Fields = {{"lr", &O.Lr},
              {"beta1", &O.Beta1},
              {"beta2", &O.Beta2},
              {"eps", &O.Eps}};
  } else if (Tokens[1] == "sgd") {
    O.K = OptimizerSpec::Sgd;
    Fields = {{"lr", &O.Lr}, {"momentum", &O.Momentum}};
  } else if (Tokens[1] == "trpo") {
    O.K = OptimizerSpec::Trpo;
    Fields = {{"max_kl", &O.MaxKl},
              {"damping", &O.Damping},
              {"cg_iters", &CgIters},
              {"backtrack", &O.Backtrack},
              {"line_search", &LineSearch}};
  } else {
    fail(fmt::format("unknown optimizer '{}' (expected adam, sgd or trpo)",
                     Tokens[1]));
  }
  // Keys and values in the order abi.h gives them: the record is generated,
  // so any other order is a compiler bug worth reporting.
  std::string Usage = fmt::format("optimizer {}", Tokens[1]);
  for (auto &F : Fields)
    Usage += fmt::format(" {} <f>", F.first);
  // One optional trailing field: Adam and SGD of an environment may take
  // several steps per batch of rollouts (`epochs <n>`, PPO-style); TRPO may
  // take finite-difference Hessian-vector products (`hvp_eps <f>`).
  const char *Optional = O.K == OptimizerSpec::Trpo ? "hvp_eps" : "epochs";
  bool HasOptional = Tokens.size() == 4 + 2 * Fields.size() &&
                     Tokens[2 + 2 * Fields.size()] == Optional;
  if (Tokens.size() != 2 + 2 * Fields.size() + (HasOptional ? 2 : 0))
    fail(fmt::format("expected `{}` (then optionally `{} <{}>`)", Usage,
                     Optional, O.K == OptimizerSpec::Trpo ? "f" : "n"));
  if (HasOptional && O.K == OptimizerSpec::Trpo)
    O.HvpEps = static_cast<float>(
        parseFloat(Tokens[3 + 2 * Fields.size()], "hvp_eps"));
  else if (HasOptional)
    O.Epochs = parseInt(Tokens[3 + 2 * Fields.size()], "epochs", 1);
  for (size_t I = 0; I < Fields.size(); ++I) {
    if (Tokens[2 + 2 * I] != Fields[I].first)
      fail(fmt::format("expected `{}`, found '{}' where '{}' belongs", Usage,
                       Tokens[2 + 2 * I], Fields[I].first));
    *Fields[I].second =
        static_cast<float>(parseFloat(Tokens[3 + 2 * I], Fields[I].first));
  }
  if (O.K == OptimizerSpec::Trpo) {
    if (!(O.MaxKl > 0) || !(O.Damping >= 0) || !(O.Backtrack > 0) ||
        !(O.Backtrack < 1) || !(O.HvpEps >= 0) ||
        !(CgIters >= 1 && CgIters <= 1000) ||
        !(LineSearch >= 1 && LineSearch <= 1000) ||
        CgIters != std::floor(CgIters) || LineSearch != std::floor(LineSearch))
      fail("trpo needs max_kl > 0, damping >= 0, backtrack in (0, 1), "
           "hvp_eps >= 0, and cg_iters and line_search whole numbers in "
           "[1, 1000]");
    O.CgIters = static_cast<int64_t>(CgIters);
    O.LineSearch = static_cast<int64_t>(LineSearch);
    return;
  }
  if (!(O.Lr > 0))
    fail("the learning rate must be positive");
  if (O.K == OptimizerSpec::Adam) {
    if (!(O.Beta1 >= 0 && O.Beta1 < 1) || !(O.Beta2 >= 0 && O.Beta2 < 1))
      fail("adam betas must lie in [0, 1)");
    if (!(O.Eps > 0))
      fail("adam eps must be positive");
  } else if (!(O.Momentum >= 0 && O.Momentum < 1)) {
    fail("sgd momentum must lie in [0, 1)");
  }
}

void DescriptorParser::parseKernel() {
  enterRank(KernelRank, "kernel");
  if (Tokens.size() < 3)
    fail("`kernel` needs an id, a kind and sizes");
  KernelRecord K;
  K.Id = parseInt(Tokens[1], "kernel id", 0);
  std::string_view Kind = Tokens[2];
  if (Kind == "sample")
    K.K = KernelRecord::Sample;
  else if (Kind == "meta_grad")
    K.K = KernelRecord::MetaGrad;
  else if (Kind == "adapt")
    K.K = KernelRecord::Adapt;
  else if (Kind == "eval")
    K.K = KernelRecord::Eval;
  else if (Kind == "reset")
    K.K = KernelRecord::Reset;
  else if (Kind == "step")
    K.K = KernelRecord::Step;
  else if (Kind == "policy")
    K.K = KernelRecord::Policy;
  else if (Kind == "trpo_hvp")
    K.K = KernelRecord::TrpoHvp;
  else if (Kind == "trpo_kl_grad")
    K.K = KernelRecord::TrpoKlGrad;
  else if (Kind == "surrogate")
    K.K = KernelRecord::Surrogate;
  else if (Kind == "reward")
    K.K = KernelRecord::Reward;
  else if (Kind == "adapt_step")
    K.K = KernelRecord::AdaptStep;
  else if (Kind == "query_eval")
    K.K = KernelRecord::QueryEval;
  else
    fail(fmt::format("unknown kernel kind '{}' (expected sample, meta_grad, "
                     "adapt, adapt_step, eval, query_eval, reset, step, "
                     "reward, policy, trpo_hvp, trpo_kl_grad or surrogate)",
                     Kind));
  size_t Sizes = hasTwoSizes(K.K) ? 2 : 1;
  if (Tokens.size() != 3 + Sizes)
    fail(fmt::format("kernel kind {} takes {} size{}, found {}", Kind, Sizes,
                     Sizes == 1 ? "" : "s", Tokens.size() - 3));
  K.N0 = parseInt(Tokens[3], "kernel size", 1);
  if (Sizes == 2)
    K.N1 = parseInt(Tokens[4], "kernel size", 1);
  for (const KernelRecord &Other : P.Kernels) {
    if (Other.Id == K.Id)
      fail(fmt::format("duplicate kernel id {}", K.Id));
    if (Other.K == K.K && Other.N0 == K.N0 && Other.N1 == K.N1)
      fail(fmt::format("duplicate kernel `{}`",
                       describeKernel(K.K, K.N0, K.N1)));
  }
  P.Kernels.push_back(K);
}

void Program::validate() {
  auto Fail = [](const std::string &Message) {
    throw Error("bad program descriptor: " + Message);
  };
  if (Name.empty())
    Fail("missing `name` record");
  if (Params.empty())
    Fail("no `param` records (a program needs a model)");
  if (Data.empty())
    Fail("no `data` records");

  if (Config.EvalQuery == 0)
    Config.EvalQuery = Config.Query;

  if (const EnvironmentSpec *E = environment())
    return validateEnvironment(*E);
  if (Optim.K == OptimizerSpec::Trpo)
    Fail("the trpo optimizer needs an `env` record (it is for policies)");
  if (Optim.Epochs > 1)
    Fail("`epochs` needs an `env` record (it reuses rollouts)");

  auto Need = [&](KernelRecord::Kind K, int64_t N0, int64_t N1,
                  const std::string &Why) {
    // A built-in source samples in the runtime: no sample kernels.
    if (K == KernelRecord::Sample && Source.isImages())
      return;
    if (!findKernel(K, N0, N1))
      Fail(fmt::format("no `kernel <id> {}` record (needed {})",
                       describeKernel(K, N0, N1), Why));
  };
  Need(KernelRecord::Sample, Config.Support, 0, "to sample support sets");
  Need(KernelRecord::Sample, Config.Query, 0, "to sample query sets");
  Need(KernelRecord::MetaGrad, Config.Support, Config.Query,
       "for meta-training");
  if (!Config.EvalShots.empty()) {
    if (Config.EvalSteps.empty())
      Fail("`list eval_shots` without `list eval_steps`");
    Need(KernelRecord::Sample, Config.EvalQuery, 0,
         "to sample evaluation query sets");
    if (adaptsStepwise())
      Need(KernelRecord::QueryEval, Config.EvalQuery, 0,
           "for evaluation (the program adapts stepwise)");
    for (int64_t S : Config.EvalShots) {
      Need(KernelRecord::Sample, S, 0,
           fmt::format("for evaluation with {} shots", S));
      if (adaptsStepwise())
        Need(KernelRecord::AdaptStep, S, 0,
             fmt::format("for evaluation with {} shots", S));
      else
        Need(KernelRecord::Eval, S, Config.EvalQuery,
             fmt::format("for evaluation with {} shots", S));
    }
  }

  if (!Source.isImages())
    return;
  // Episodes: [n, 28, 28, 1] images and [n, way] one-hot labels, n a whole
  // number of examples per class.
  if (Data.size() != 2 || Data[0].Shape != std::vector<int64_t>{28, 28, 1} ||
      Data[1].Shape != std::vector<int64_t>{Source.labelWidth()})
    Fail(fmt::format("a `source` program needs `data <x> 28x28x1` and "
                     "`data <y> {}` (images, one-hot labels)",
                     Source.labelWidth()));
  std::vector<int64_t> Sizes = {Config.Support, Config.Query, Config.EvalQuery};
  Sizes.insert(Sizes.end(), Config.EvalShots.begin(), Config.EvalShots.end());
  for (int64_t N : Sizes)
    if (N % Source.Way != 0)
      Fail(fmt::format("split size {} is not a multiple of way {}", N,
                       Source.Way));
}

void Program::validateEnvironment(const EnvironmentSpec &E) {
  auto Fail = [](const std::string &Message) {
    throw Error("bad program descriptor: " + Message);
  };
  // Trajectories: the runtime fills these fields by name.
  std::vector<std::pair<const char *, std::vector<int64_t>>> Fields = {
      {"obs", {E.ObsDim}}, {"act", {E.ActDim}}, {"reward", {}}, {"ret", {}},
      {"adv", {}},         {"mask", {}},        {"logp", {}}};
  const bool Categorical = E.Policy == EnvironmentSpec::Categorical;
  if (Categorical) {
    Fields.push_back({"pi.logits", {E.ActDim}});
  } else {
    Fields.push_back({"pi.mean", {E.ActDim}});
    Fields.push_back({"pi.log_std", {E.ActDim}});
  }
  Fields.push_back({"round", {}});
  bool Match = Data.size() == Fields.size();
  for (size_t I = 0; Match && I < Fields.size(); ++I)
    Match =
        Data[I].Name == Fields[I].first && Data[I].Shape == Fields[I].second;
  if (!Match)
    Fail(fmt::format(
        "an `env` program needs the data records obs {0}, act "
        "{1}, reward, ret, adv, mask, logp (scalar), {2}, "
        "round (scalar), in this order",
        E.ObsDim, E.ActDim,
        Categorical ? fmt::format("pi.logits {}", E.ActDim)
                    : fmt::format("pi.mean {0}, pi.log_std {0}", E.ActDim)));
  int64_t Rows = E.Episodes * E.Horizon, EvalRows = E.EvalEpisodes * E.Horizon;
  if (Config.Support != Rows || Config.Query != Rows ||
      Config.EvalQuery != EvalRows)
    Fail(fmt::format("support and query must be episodes x horizon = {} and "
                     "eval_query eval_episodes x horizon = {}",
                     Rows, EvalRows));
  auto Need = [&](KernelRecord::Kind K, int64_t N0, int64_t N1,
                  const char *Why) {
    if (!findKernel(K, N0, N1))
      Fail(fmt::format("no `kernel <id> {}` record (needed {})",
                       describeKernel(K, N0, N1), Why));
  };
  if (E.Sim && Categorical)
    Fail("a `simulator` environment needs a gaussian policy (its actuators "
         "take continuous controls)");
  for (int64_t N : {E.Episodes, E.EvalEpisodes}) {
    if (E.Sim) {
      Need(KernelRecord::Reward, N, 0, "to score the simulator's steps");
    } else {
      Need(KernelRecord::Reset, N, 0, "to start episodes");
      Need(KernelRecord::Step, N, 0, "to step episodes");
    }
    Need(KernelRecord::Policy, N, 0, "to act");
  }
  Need(KernelRecord::Adapt, Rows, 0, "to adapt during meta-training");
  Need(KernelRecord::MetaGrad, Rows, Rows, "for meta-training");
  if (hasEvaluation()) {
    if (Config.EvalSteps.empty())
      Fail("`list eval_shots` without `list eval_steps`");
    Need(KernelRecord::Adapt, EvalRows, 0, "to adapt during evaluation");
  }
  if (Optim.K == OptimizerSpec::Trpo) {
    if (Optim.HvpEps > 0)
      Need(KernelRecord::TrpoKlGrad, Rows, Rows,
           "by trpo's finite-difference Hessian-vector products");
    else
      Need(KernelRecord::TrpoHvp, Rows, Rows, "by trpo");
    Need(KernelRecord::Surrogate, Rows, Rows, "by trpo's line search");
  }
}

Program Program::parse(std::string_view Text) {
  Program P;
  P.Text = std::string(Text);
  P.Hash = fnv1a(P.Text.data(), P.Text.size());
  DescriptorParser Parser(P);
  Parser.run();
  P.validate();
  return P;
}

Program Program::load(const char *Text, const metac_kernel_fn *Table) {
  if (!Text)
    throw Error("bad program descriptor: metac_program() returned null");
  Program P = parse(Text);
  if (!Table)
    throw Error("bad program descriptor: the kernel table is null");
  for (const KernelRecord &K : P.Kernels)
    if (!Table[K.Id])
      throw Error(fmt::format("bad program descriptor: kernel {} (`{}`) is "
                              "null in metac_kernels",
                              K.Id, describeKernel(K.K, K.N0, K.N1)));
  P.Table = Table;
  return P;
}

const KernelRecord *Program::findKernel(KernelRecord::Kind K, int64_t N0,
                                        int64_t N1) const {
  if (!hasTwoSizes(K))
    N1 = 0;
  for (const KernelRecord &R : Kernels)
    if (R.K == K && R.N0 == N0 && R.N1 == N1)
      return &R;
  return nullptr;
}

const KernelRecord &Program::requireKernel(KernelRecord::Kind K, int64_t N0,
                                           int64_t N1) const {
  if (const KernelRecord *R = findKernel(K, N0, N1))
    return *R;
  throw Error(
      fmt::format("the program has no `{}` kernel", describeKernel(K, N0, N1)));
}

metac_kernel_fn Program::function(const KernelRecord &R) const {
  if (!Table)
    throw Error("internal error: program kernels are not loaded");
  return Table[R.Id];
}
