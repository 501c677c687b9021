//===- PolicyGradientTest.cpp - MAML-RL arithmetic and SVG charts ---------===//

#include "metac/runtime/PolicyGradient.h"
#include "metac/runtime/Error.h"
#include "metac/runtime/Plot.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

using namespace metac::runtime;

namespace {

const float NaN = std::numeric_limits<float>::quiet_NaN();

// Uniform in [Lo, Hi) from a fixed-seed engine; mt19937's output is
// specified, unlike the standard distributions', so the data is the same
// with every standard library.
struct Uniform {
  std::mt19937 G;
  explicit Uniform(unsigned Seed) : G(Seed) {}
  float operator()(float Lo, float Hi) {
    return Lo + (Hi - Lo) * static_cast<float>(G() / 4294967296.0);
  }
};

// E episodes of horizon T whose episode e lasts Lengths[e] steps.
std::vector<float> maskOf(int64_t T, const std::vector<int64_t> &Lengths) {
  std::vector<float> Mask;
  for (int64_t L : Lengths)
    for (int64_t S = 0; S < T; ++S)
      Mask.push_back(S < L ? 1.0f : 0.0f);
  return Mask;
}

std::string readAll(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  std::stringstream SS;
  SS << In.rdbuf();
  return SS.str();
}

size_t countOf(const std::string &Text, const std::string &Needle) {
  size_t N = 0;
  for (size_t P = Text.find(Needle); P != std::string::npos;
       P = Text.find(Needle, P + 1))
    ++N;
  return N;
}

} // namespace

TEST(PolicyGradientTest, ReturnsByHand) {
  // Episode 0 runs all 4 steps; episode 1 ends after 2, and its masked rows
  // hold garbage that must not reach the valid ones.
  std::vector<float> Rewards = {1, 2, 3, 4, 1, 1, 100, NaN};
  std::vector<float> Mask = maskOf(4, {4, 2});
  std::vector<float> Returns(8, -7.0f);
  discountedReturns(Rewards.data(), Mask.data(), 2, 4, 0.5, Returns.data());
  std::vector<float> Expected = {3.25f, 4.5f, 5, 4, 1.5f, 1, 0, 0};
  for (size_t I = 0; I < Expected.size(); ++I)
    EXPECT_FLOAT_EQ(Returns[I], Expected[I]) << "row " << I;
}

TEST(PolicyGradientTest, GaeWithLambdaOneIsReturnsMinusValues) {
  const int64_t E = 3, T = 7;
  const double Gamma = 0.9;
  Uniform U(1);
  std::vector<float> Rewards(E * T), Values(E * T);
  for (auto &R : Rewards)
    R = U(-1, 1);
  for (auto &V : Values)
    V = U(-2, 2);
  std::vector<float> Mask = maskOf(T, {7, 3, 1});
  // Garbage in masked rows: a masked value must count as 0.
  for (int64_t R = 0; R < E * T; ++R)
    if (Mask[R] == 0) {
      Values[R] = 1e6f;
      Rewards[R] = NaN;
    }
  std::vector<float> Returns(E * T), Adv(E * T, -7.0f);
  discountedReturns(Rewards.data(), Mask.data(), E, T, Gamma, Returns.data());
  gaeAdvantages(Rewards.data(), Values.data(), Mask.data(), E, T, Gamma, 1.0,
                Adv.data());
  for (int64_t R = 0; R < E * T; ++R) {
    if (Mask[R] != 0)
      EXPECT_NEAR(Adv[R], Returns[R] - Values[R], 1e-5) << "row " << R;
    else
      EXPECT_EQ(Adv[R], 0.0f) << "row " << R;
  }
}

TEST(PolicyGradientTest, GaeWithLambdaZeroIsTdError) {
  const int64_t E = 2, T = 5;
  const double Gamma = 0.95;
  Uniform U(2);
  std::vector<float> Rewards(E * T), Values(E * T);
  for (auto &R : Rewards)
    R = U(-1, 1);
  for (auto &V : Values)
    V = U(-2, 2);
  std::vector<float> Mask = maskOf(T, {5, 2});
  Values[7] = Values[8] = Values[9] = NaN;
  std::vector<float> Adv(E * T, -7.0f);
  gaeAdvantages(Rewards.data(), Values.data(), Mask.data(), E, T, Gamma, 0.0,
                Adv.data());
  for (int64_t Ep = 0; Ep < E; ++Ep)
    for (int64_t S = 0; S < T; ++S) {
      int64_t R = Ep * T + S;
      if (Mask[R] == 0) {
        EXPECT_EQ(Adv[R], 0.0f);
        continue;
      }
      bool NextValid = S + 1 < T && Mask[R + 1] != 0;
      double Next = NextValid ? Values[R + 1] : 0.0;
      EXPECT_NEAR(Adv[R], Rewards[R] + Gamma * Next - Values[R], 1e-6)
          << "row " << R;
    }
}

TEST(PolicyGradientTest, BaselineRecoversLinearTarget) {
  // The target lies in the span of the features (o, o^2, a, constant), so
  // the fit must reproduce it up to the tiny ridge term. Masked rows carry
  // garbage returns that would wreck the fit if they were used.
  const int64_t E = 4, T = 50, D = 2;
  Uniform U(3);
  std::vector<float> Obs(E * T * D), Returns(E * T);
  std::vector<float> Mask = maskOf(T, {50, 20, 35, 1});
  auto Target = [&](int64_t R) {
    const float *O = &Obs[R * D];
    double A = (R % T) / 100.0;
    return 0.5 * O[0] - 0.25 * O[1] * O[1] + 2 * A - 1;
  };
  for (auto &O : Obs)
    O = U(-3, 3);
  for (int64_t R = 0; R < E * T; ++R)
    Returns[R] = Mask[R] != 0 ? static_cast<float>(Target(R)) : 1e4f;

  LinearFeatureBaseline B;
  B.fit(Obs.data(), D, Returns.data(), Mask.data(), E, T);
  ASSERT_TRUE(B.fitted());
  ASSERT_EQ(B.weights().size(), size_t(LinearFeatureBaseline::numFeatures(D)));
  EXPECT_DOUBLE_EQ(B.regularization(), 1e-5);
  // Features: o0 o1 o0^2 o1^2 a a^2 a^3 1.
  EXPECT_NEAR(B.weights()[0], 0.5, 1e-3);
  EXPECT_NEAR(B.weights()[3], -0.25, 1e-3);
  EXPECT_NEAR(B.weights()[7], -1.0, 1e-2);

  std::vector<float> Values(E * T);
  B.predict(Obs.data(), D, E, T, Values.data());
  for (int64_t R = 0; R < E * T; ++R)
    if (Mask[R] != 0)
      EXPECT_NEAR(Values[R], Target(R), 1e-3) << "row " << R;
}

TEST(PolicyGradientTest, BaselineIgnoresMaskedRows) {
  // Fitting with garbage in the masked rows gives the same weights as
  // fitting on the valid rows alone (here: the same episodes cut short).
  const int64_t E = 2, T = 10, D = 1;
  Uniform U(4);
  std::vector<float> Obs(E * T * D), Returns(E * T);
  for (auto &O : Obs)
    O = U(-2, 2);
  for (auto &R : Returns)
    R = U(-5, 5);
  std::vector<float> Mask = maskOf(T, {10, 6});
  LinearFeatureBaseline Clean;
  Clean.fit(Obs.data(), D, Returns.data(), Mask.data(), E, T);
  for (int64_t R = 0; R < E * T; ++R)
    if (Mask[R] == 0) {
      Returns[R] = 1e6f;
      Obs[R] = 9.0f;
    }
  LinearFeatureBaseline Dirty;
  Dirty.fit(Obs.data(), D, Returns.data(), Mask.data(), E, T);
  ASSERT_EQ(Clean.weights().size(), Dirty.weights().size());
  for (size_t I = 0; I < Clean.weights().size(); ++I)
    EXPECT_DOUBLE_EQ(Clean.weights()[I], Dirty.weights()[I]);
}

TEST(PolicyGradientTest, BaselineClipsObservations) {
  const int64_t T = 3;
  std::vector<float> Obs = {1, -4, 2}, Returns = {1, 2, 0.5f}, Mask = {1, 1, 1};
  LinearFeatureBaseline B;
  B.fit(Obs.data(), 1, Returns.data(), Mask.data(), 1, T);
  std::vector<float> Far = {25, -1e9f, 10}, Edge = {10, -10, 10};
  std::vector<float> VFar(T), VEdge(T);
  B.predict(Far.data(), 1, 1, T, VFar.data());
  B.predict(Edge.data(), 1, 1, T, VEdge.data());
  for (int64_t R = 0; R < T; ++R)
    EXPECT_EQ(VFar[R], VEdge[R]);
}

TEST(PolicyGradientTest, UnfittedBaselinePredictsZero) {
  LinearFeatureBaseline B;
  EXPECT_FALSE(B.fitted());
  std::vector<float> Obs(6, 3.0f), Values(3, -1.0f);
  B.predict(Obs.data(), 2, 1, 3, Values.data());
  for (float V : Values)
    EXPECT_EQ(V, 0.0f);
}

TEST(PolicyGradientTest, BaselineRejectsOtherObservationSize) {
  std::vector<float> Obs(8, 1.0f), Returns(4, 1.0f), Mask(4, 1.0f);
  LinearFeatureBaseline B;
  B.fit(Obs.data(), 2, Returns.data(), Mask.data(), 1, 4);
  std::vector<float> Values(4);
  EXPECT_THROW(B.predict(Obs.data(), 1, 1, 4, Values.data()), Error);
}

TEST(PolicyGradientTest, NormalizeAdvantages) {
  const int64_t E = 3, T = 6;
  Uniform U(5);
  std::vector<float> Adv(E * T);
  for (auto &A : Adv)
    A = U(3, 11); // far from mean 0 and std 1 to begin with
  std::vector<float> Mask = maskOf(T, {6, 4, 2});
  for (int64_t R = 0; R < E * T; ++R)
    if (Mask[R] == 0)
      Adv[R] = 0.0f;
  normalizeAdvantages(Adv.data(), Mask.data(), E * T);
  double Sum = 0, SumSq = 0;
  int N = 0;
  for (int64_t R = 0; R < E * T; ++R) {
    if (Mask[R] == 0) {
      EXPECT_EQ(Adv[R], 0.0f);
      continue;
    }
    ++N;
    Sum += Adv[R];
    SumSq += double(Adv[R]) * Adv[R];
  }
  double Mean = Sum / N;
  EXPECT_NEAR(Mean, 0.0, 1e-6);
  EXPECT_NEAR(std::sqrt(SumSq / N - Mean * Mean), 1.0, 1e-5);
}

TEST(PolicyGradientTest, NormalizeSingleRowOnlyCentres) {
  std::vector<float> Adv = {4.0f, 7.0f}, Mask = {1, 0};
  normalizeAdvantages(Adv.data(), Mask.data(), 2);
  EXPECT_EQ(Adv[0], 0.0f);
  EXPECT_EQ(Adv[1], 0.0f);
}

namespace {

// A random symmetric positive definite N x N matrix M M^T / N + 0.1 I,
// condition number in the tens, and a right-hand side.
struct SpdSystem {
  Eigen::MatrixXf H;
  Eigen::VectorXf B;
  SpdSystem(int N, unsigned Seed) {
    Uniform U(Seed);
    Eigen::MatrixXf M(N, N);
    for (int I = 0; I < N; ++I)
      for (int J = 0; J < N; ++J)
        M(I, J) = U(-1, 1);
    H = M * M.transpose() / float(N) + 0.1f * Eigen::MatrixXf::Identity(N, N);
    B.resize(N);
    for (int I = 0; I < N; ++I)
      B(I) = U(-1, 1);
  }
  std::function<void(const float *, float *)> product() const {
    return [this](const float *V, float *Out) {
      Eigen::Map<Eigen::VectorXf>(Out, H.rows()) =
          H * Eigen::Map<const Eigen::VectorXf>(V, H.rows());
    };
  }
};

} // namespace

TEST(PolicyGradientTest, ConjugateGradientSolvesSpdSystem) {
  const int N = 20;
  SpdSystem Sys(N, 6);
  Eigen::VectorXd Exact =
      Sys.H.cast<double>().ldlt().solve(Sys.B.cast<double>());
  std::vector<float> X(N, 123.0f);
  CgResult Res =
      conjugateGradient(Sys.product(), Sys.B.data(), N, 20, 1e-10, X.data());
  EXPECT_LE(Res.Iterations, 20);
  EXPECT_GE(Res.Iterations, 1);
  Eigen::VectorXd Got = Eigen::Map<Eigen::VectorXf>(X.data(), N).cast<double>();
  EXPECT_LT((Got - Exact).norm() / Exact.norm(), 1e-4);
  EXPECT_TRUE(std::isfinite(Res.Residual));
}

TEST(PolicyGradientTest, ConjugateGradientOneIteration) {
  // One CG step from x = 0 is the exact line minimum along b:
  // x = (b.b / b.Hb) b.
  const int N = 20;
  SpdSystem Sys(N, 7);
  std::vector<float> X(N);
  CgResult Res =
      conjugateGradient(Sys.product(), Sys.B.data(), N, 1, 1e-10, X.data());
  EXPECT_EQ(Res.Iterations, 1);
  Eigen::VectorXd B = Sys.B.cast<double>();
  Eigen::VectorXd HB = (Sys.H * Sys.B).cast<double>();
  double Alpha = B.dot(B) / B.dot(HB);
  for (int I = 0; I < N; ++I)
    EXPECT_NEAR(X[I], Alpha * B(I), 1e-5) << "entry " << I;
  EXPECT_NEAR(Res.Residual, (B - Alpha * HB).squaredNorm(), 1e-5);
}

TEST(PolicyGradientTest, ConjugateGradientZeroRightHandSide) {
  std::vector<float> B(5, 0.0f), X(5, 9.0f);
  int Calls = 0;
  CgResult Res = conjugateGradient(
      [&](const float *V, float *Out) {
        ++Calls;
        for (int I = 0; I < 5; ++I)
          Out[I] = V[I];
      },
      B.data(), 5, 10, 1e-10, X.data());
  EXPECT_EQ(Res.Iterations, 0);
  EXPECT_EQ(Calls, 0);
  for (float V : X)
    EXPECT_EQ(V, 0.0f);
}

TEST(PolicyGradientTest, GaussianLogProbMatchesDensity) {
  std::vector<float> A = {0.3f, -1.2f}, M = {0.1f, 0.5f}, LS = {-0.5f, 0.2f};
  double Density = 1;
  for (int D = 0; D < 2; ++D) {
    double Sigma = std::exp(double(LS[D]));
    double Z = (double(A[D]) - M[D]) / Sigma;
    Density *=
        std::exp(-Z * Z / 2) / (Sigma * std::sqrt(2 * 3.141592653589793));
  }
  EXPECT_NEAR(gaussianLogProb(A.data(), M.data(), LS.data(), 2),
              std::log(Density), 1e-9);
  // At the mean with unit deviation: -log(2 pi) for two dimensions.
  std::vector<float> Zero = {0, 0};
  EXPECT_NEAR(gaussianLogProb(Zero.data(), Zero.data(), Zero.data(), 2),
              -std::log(2 * 3.141592653589793), 1e-12);
}

TEST(PolicyGradientTest, CategoricalSampleInvertsTheDistribution) {
  // softmax([0, log 3, -inf-ish]) = [0.25, 0.75, ~0].
  std::vector<float> Logits = {0.0f, std::log(3.0f), -80.0f};
  std::vector<float> OneHot(3);
  EXPECT_NEAR(categoricalSample(Logits.data(), 3, 0.2, OneHot.data()),
              std::log(0.25), 1e-6);
  EXPECT_EQ(OneHot, (std::vector<float>{1, 0, 0}));
  EXPECT_NEAR(categoricalSample(Logits.data(), 3, 0.3, OneHot.data()),
              std::log(0.75), 1e-6);
  EXPECT_EQ(OneHot, (std::vector<float>{0, 1, 0}));
  // Large logits do not overflow: the maximum is subtracted first.
  std::vector<float> Big = {1000.0f, 1000.0f};
  EXPECT_NEAR(categoricalSample(Big.data(), 2, 0.75, OneHot.data()),
              std::log(0.5), 1e-6);
  EXPECT_EQ(OneHot[1], 1.0f);
  // Frequencies over evenly spread draws follow the probabilities.
  std::vector<float> Four = {0.0f, 1.0f, 2.0f, -1.0f};
  std::vector<int> Count(4);
  const int N = 100000;
  for (int I = 0; I < N; ++I) {
    categoricalSample(Four.data(), 4, (I + 0.5) / N, OneHot.data());
    for (int K = 0; K < 4; ++K)
      Count[K] += OneHot[K] == 1.0f;
  }
  double Total = 0;
  for (float L : Four)
    Total += std::exp(L);
  for (int K = 0; K < 4; ++K)
    EXPECT_NEAR(Count[K] / double(N), std::exp(Four[K]) / Total, 1e-4) << K;
}

TEST(PlotTest, WritesEscapedSvgWithOnePolylinePerSeries) {
  std::string Path = ::testing::TempDir() + "/metac_plot_test.svg";
  std::vector<Series> Lines(4);
  Lines[0].Name = "train";
  for (int I = 0; I <= 100; ++I) {
    Lines[0].X.push_back(I);
    Lines[0].Y.push_back(std::sin(I / 10.0));
  }
  Lines[1].Name = "empty";
  Lines[2].Name = "with <gaps> & NaN";
  Lines[2].X = {0, 10, 20, 30, 40};
  Lines[2].Y = {0.5, std::nan(""), 0.2, INFINITY, -0.3};
  Lines[3].Name = "single";
  Lines[3].X = {50};
  Lines[3].Y = {0.25};
  writeLineChartSvg(Path, "Return <vs> iteration & more", "iteration", "return",
                    Lines);
  std::string Svg = readAll(Path);
  std::remove(Path.c_str());
  ASSERT_FALSE(Svg.empty());
  EXPECT_TRUE(Svg.rfind("<?xml", 0) == 0 || Svg.rfind("<svg", 0) == 0);
  EXPECT_NE(Svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(countOf(Svg, "<polyline"), Lines.size());
  EXPECT_NE(Svg.find("Return &lt;vs&gt; iteration &amp; more"),
            std::string::npos);
  EXPECT_EQ(Svg.find("<vs>"), std::string::npos);
  EXPECT_NE(Svg.find("with &lt;gaps&gt; &amp; NaN"), std::string::npos);
  EXPECT_EQ(Svg.find("nan"), std::string::npos);
  EXPECT_EQ(Svg.find("inf"), std::string::npos);
  // X runs over [0, 100]: nice ticks every 20.
  for (const char *Tick :
       {">0</text>", ">20</text>", ">60</text>", ">100</text>"})
    EXPECT_NE(Svg.find(Tick), std::string::npos) << Tick;
}

TEST(PlotTest, SurvivesDegenerateInput) {
  std::string Path = ::testing::TempDir() + "/metac_plot_degenerate.svg";
  // Nothing finite at all, then one point, then a flat line.
  std::vector<Series> Cases[] = {
      {},
      {Series{"nothing", {}, {}},
       Series{"not a number", {std::nan("")}, {1.0}}},
      {Series{"one", {3}, {7}}},
      {Series{"flat", {1, 2, 3}, {5, 5, 5}}},
  };
  for (const auto &Lines : Cases) {
    writeLineChartSvg(Path, "t", "x", "y", Lines);
    std::string Svg = readAll(Path);
    EXPECT_EQ(countOf(Svg, "<polyline"), Lines.size());
    EXPECT_NE(Svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(Svg.find("nan"), std::string::npos);
  }
  std::remove(Path.c_str());
}

TEST(PlotTest, UnwritablePathThrows) {
  std::string Path = ::testing::TempDir() + "/no/such/dir/plot.svg";
  EXPECT_THROW(writeLineChartSvg(Path, "t", "x", "y", {}), Error);
}
