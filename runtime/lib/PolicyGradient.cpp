//===- PolicyGradient.cpp - Returns, baselines, advantages, CG ------------===//
//
// Episodes are walked backwards from their last row, so a recurrence's state
// (the return or advantage accumulated so far) is reset on masked rows and
// never carries anything from past an episode's end. Masked rows' inputs are
// not read, so NaN garbage there cannot leak into valid rows.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/PolicyGradient.h"
#include "metac/runtime/Error.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace metac::runtime;

static bool valid(const float *Mask, int64_t R) { return Mask[R] != 0.0f; }

void metac::runtime::discountedReturns(const float *Rewards, const float *Mask,
                                       int64_t E, int64_t T, double Gamma,
                                       float *Returns) {
  for (int64_t Ep = 0; Ep < E; ++Ep) {
    double Acc = 0;
    for (int64_t S = T - 1; S >= 0; --S) {
      int64_t R = Ep * T + S;
      if (!valid(Mask, R)) {
        Acc = 0;
        Returns[R] = 0;
        continue;
      }
      Acc = Rewards[R] + Gamma * Acc;
      Returns[R] = static_cast<float>(Acc);
    }
  }
}

// Features of one step; Out holds numFeatures(ObsDim) doubles.
static void baselineFeatures(const float *O, int64_t ObsDim, int64_t Step,
                             double *Out) {
  for (int64_t D = 0; D < ObsDim; ++D) {
    double C = std::clamp(static_cast<double>(O[D]), -10.0, 10.0);
    Out[D] = C;
    Out[ObsDim + D] = C * C;
  }
  double A = Step / 100.0;
  Out[2 * ObsDim] = A;
  Out[2 * ObsDim + 1] = A * A;
  Out[2 * ObsDim + 2] = A * A * A;
  Out[2 * ObsDim + 3] = 1.0;
}

void LinearFeatureBaseline::fit(const float *Obs, int64_t NewObsDim,
                                const float *Returns, const float *Mask,
                                int64_t E, int64_t T) {
  const int64_t F = numFeatures(NewObsDim);
  int64_t Rows = 0;
  for (int64_t R = 0; R < E * T; ++R)
    Rows += valid(Mask, R);

  Eigen::MatrixXd X(Rows, F);
  Eigen::VectorXd Y(Rows);
  std::vector<double> Row(F);
  int64_t I = 0;
  for (int64_t R = 0; R < E * T; ++R) {
    if (!valid(Mask, R))
      continue;
    baselineFeatures(Obs + R * NewObsDim, NewObsDim, R % T, Row.data());
    for (int64_t J = 0; J < F; ++J)
      X(I, J) = Row[J];
    Y(I) = Returns[R];
    ++I;
  }

  Eigen::MatrixXd Gram = X.transpose() * X;
  Eigen::VectorXd Rhs = X.transpose() * Y;
  ObsDim = NewObsDim;
  Weights.clear();
  Reg = 1e-5;
  for (int Try = 0; Try < 5; ++Try, Reg *= 10) {
    Eigen::MatrixXd A = Gram;
    A.diagonal().array() += Reg;
    Eigen::VectorXd W = A.ldlt().solve(Rhs);
    if (W.allFinite()) {
      Weights.assign(W.data(), W.data() + F);
      return;
    }
  }
  // Unfittable: predict 0 rather than NaN (see the header).
}

void LinearFeatureBaseline::predict(const float *Obs, int64_t PredObsDim,
                                    int64_t E, int64_t T, float *Values) const {
  if (!fitted()) {
    std::fill(Values, Values + E * T, 0.0f);
    return;
  }
  if (PredObsDim != ObsDim)
    throw Error(fmt::format("error: linear baseline fitted on {}-dimensional "
                            "observations asked to predict for {}",
                            ObsDim, PredObsDim));
  std::vector<double> Row(Weights.size());
  for (int64_t R = 0; R < E * T; ++R) {
    baselineFeatures(Obs + R * ObsDim, ObsDim, R % T, Row.data());
    double V = 0;
    for (size_t J = 0; J < Row.size(); ++J)
      V += Weights[J] * Row[J];
    Values[R] = static_cast<float>(V);
  }
}

void metac::runtime::gaeAdvantages(const float *Rewards, const float *Values,
                                   const float *Mask, int64_t E, int64_t T,
                                   double Gamma, double Lambda, float *Adv) {
  for (int64_t Ep = 0; Ep < E; ++Ep) {
    double NextValue = 0; // V_{t+1}, 0 past the episode's end
    double Acc = 0;       // A_{t+1}
    for (int64_t S = T - 1; S >= 0; --S) {
      int64_t R = Ep * T + S;
      if (!valid(Mask, R)) {
        NextValue = 0;
        Acc = 0;
        Adv[R] = 0;
        continue;
      }
      double Delta = Rewards[R] + Gamma * NextValue - Values[R];
      Acc = Delta + Gamma * Lambda * Acc;
      Adv[R] = static_cast<float>(Acc);
      NextValue = Values[R];
    }
  }
}

void metac::runtime::normalizeAdvantages(float *Adv, const float *Mask,
                                         int64_t Rows) {
  int64_t N = 0;
  double Sum = 0;
  for (int64_t R = 0; R < Rows; ++R)
    if (valid(Mask, R)) {
      ++N;
      Sum += Adv[R];
    }
  double Mean = N > 0 ? Sum / N : 0.0;
  // Two passes: the one-pass E[x^2] - E[x]^2 cancels badly when the mean is
  // large next to the spread.
  double Scale = 1.0;
  if (N >= 2) {
    double SumSq = 0;
    for (int64_t R = 0; R < Rows; ++R)
      if (valid(Mask, R)) {
        double D = Adv[R] - Mean;
        SumSq += D * D;
      }
    Scale = 1.0 / (std::sqrt(SumSq / N) + 1e-8);
  }
  for (int64_t R = 0; R < Rows; ++R)
    Adv[R] =
        valid(Mask, R) ? static_cast<float>((Adv[R] - Mean) * Scale) : 0.0f;
}

CgResult metac::runtime::conjugateGradient(
    const std::function<void(const float *V, float *Out)> &HessianVector,
    const float *B, int64_t N, int MaxIterations, double ResidualTolerance,
    float *X) {
  // The iterates live in double; only the product sees floats.
  Eigen::VectorXd Sol = Eigen::VectorXd::Zero(N);
  Eigen::VectorXd Res =
      Eigen::Map<const Eigen::VectorXf>(B, N).cast<double>(); // b - H*0
  Eigen::VectorXd Dir = Res;
  Eigen::VectorXf DirF(N), HDirF(N);
  double RR = Res.squaredNorm();
  int Iter = 0;
  while (Iter < MaxIterations && RR >= ResidualTolerance) {
    DirF = Dir.cast<float>();
    HessianVector(DirF.data(), HDirF.data());
    ++Iter;
    Eigen::VectorXd HDir = HDirF.cast<double>();
    double Curvature = Dir.dot(HDir);
    if (!(Curvature > 0) || !std::isfinite(Curvature))
      break;
    double Alpha = RR / Curvature;
    Sol += Alpha * Dir;
    Res -= Alpha * HDir;
    double NewRR = Res.squaredNorm();
    Dir = Res + (NewRR / RR) * Dir;
    RR = NewRR;
  }
  Eigen::Map<Eigen::VectorXf>(X, N) = Sol.cast<float>();
  return {Iter, RR};
}

double metac::runtime::gaussianLogProb(const float *Action, const float *Mean,
                                       const float *LogStd, int64_t Dim) {
  const double HalfLog2Pi = 0.5 * std::log(2.0 * 3.14159265358979323846);
  double Sum = 0;
  for (int64_t D = 0; D < Dim; ++D) {
    double Z = (static_cast<double>(Action[D]) - Mean[D]) /
               std::exp(static_cast<double>(LogStd[D]));
    Sum += -0.5 * Z * Z - LogStd[D] - HalfLog2Pi;
  }
  return Sum;
}

double metac::runtime::categoricalSample(const float *Logits, int64_t Dim,
                                         double U, float *OneHot) {
  double Max = *std::max_element(Logits, Logits + Dim);
  double Total = 0;
  for (int64_t K = 0; K < Dim; ++K)
    Total += std::exp(Logits[K] - Max);
  // The first action whose cumulative probability exceeds U; rounding can
  // leave the sum of the probabilities a little below 1, so the last action
  // takes what remains.
  int64_t Pick = Dim - 1;
  double Cumulative = 0;
  for (int64_t K = 0; K + 1 < Dim; ++K) {
    Cumulative += std::exp(Logits[K] - Max) / Total;
    if (U < Cumulative) {
      Pick = K;
      break;
    }
  }
  std::fill_n(OneHot, Dim, 0.0f);
  OneHot[Pick] = 1;
  return Logits[Pick] - Max - std::log(Total);
}
