//===- metac/runtime/PolicyGradient.h - Policy-gradient maths ---*- C++ -*-===//
//
// The numerical pieces of MAML for reinforcement learning (Finn et al. 2017)
// with the conventions of rllab, which the paper's experiments used: returns
// to go, rllab's linear feature baseline, generalised advantage estimation,
// advantage normalisation, the conjugate gradient solver of TRPO's outer step
// and the diagonal Gaussian log-density.
//
// A batch holds E episodes of a fixed horizon T, episode-major: row
// r = e * T + t is step t of episode e. Episodes can end early, so a mask
// says which rows happened: Mask[r] != 0 for a step that took place, 0 for
// every step after the episode ended. Values in masked rows (rewards,
// observations, values) are never read as data, so they may be garbage.
//
// Everything here is single-threaded and deterministic; sums run in double.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_POLICYGRADIENT_H
#define METAC_RUNTIME_POLICYGRADIENT_H

#include <cstdint>
#include <functional>
#include <vector>

namespace metac::runtime {

/// Returns to go: Returns[r] = Rewards[r] + Gamma * Returns[r + 1] along each
/// episode, where the return after the last valid step is 0. Masked rows get
/// 0. Rewards, Mask and Returns hold E * T floats.
void discountedReturns(const float *Rewards, const float *Mask, int64_t E,
                       int64_t T, double Gamma, float *Returns);

/// rllab's LinearFeatureBaseline: a ridge regression of the returns on
/// per-step features of the observation o (ObsDim floats) and of the time
/// index t,
///   [clip(o, -10, 10), clip(o, -10, 10)^2, a, a^2, a^3, 1],  a = t / 100,
/// that is 2 * ObsDim + 4 features. An unfitted baseline predicts 0.
class LinearFeatureBaseline {
public:
  static int64_t numFeatures(int64_t ObsDim) { return 2 * ObsDim + 4; }

  /// Fits the weights on the valid rows of a batch. Obs holds E * T rows of
  /// ObsDim floats; Returns and Mask E * T floats. Solves
  /// (X^T X + reg I) w = X^T y with reg = 1e-5, retried with reg ten times
  /// larger (at most 5 attempts) while w has non-finite entries. If every
  /// attempt fails the baseline falls back to predicting 0 (plain returns are
  /// still an unbiased, if noisier, advantage estimate).
  void fit(const float *Obs, int64_t ObsDim, const float *Returns,
           const float *Mask, int64_t E, int64_t T);

  /// Writes the baseline value of each of the E * T rows to Values (masked
  /// rows included; callers mask). Throws Error if the baseline was fitted
  /// with another ObsDim.
  void predict(const float *Obs, int64_t ObsDim, int64_t E, int64_t T,
               float *Values) const;

  bool fitted() const { return !Weights.empty(); }
  /// The feature weights, in feature order; empty before fit() succeeds.
  const std::vector<double> &weights() const { return Weights; }
  /// The ridge coefficient the last fit settled on (0 before any fit).
  double regularization() const { return Reg; }

private:
  int64_t ObsDim = 0;
  double Reg = 0;
  std::vector<double> Weights;
};

/// Generalised advantage estimation (Schulman et al. 2016):
///   delta_t = r_t + Gamma * V_{t+1} - V_t,
///   A_t = delta_t + Gamma * Lambda * A_{t+1},
/// where V after the last valid step (or after T) is 0. Masked rows get 0.
/// With Lambda = 1, Adv = Returns - Values on valid rows; with Lambda = 0 it
/// is the one-step TD error.
void gaeAdvantages(const float *Rewards, const float *Values, const float *Mask,
                   int64_t E, int64_t T, double Gamma, double Lambda,
                   float *Adv);

/// Shifts and scales Adv in place so its valid rows have mean 0 and
/// population standard deviation 1 (divides by std + 1e-8). With fewer than
/// two valid rows it only centres. Masked rows are set to 0.
void normalizeAdvantages(float *Adv, const float *Mask, int64_t Rows);

struct CgResult {
  /// Matrix-vector products used.
  int Iterations;
  /// The squared residual norm r.r at exit.
  double Residual;
};

/// Solves H x = B for a symmetric positive definite H given only as the
/// product HessianVector(V, Out): Out = H V, both N floats. Starts at x = 0
/// and runs at most MaxIterations conjugate gradient steps, stopping once
/// r.r < ResidualTolerance (TRPO uses 1e-10 and 10 iterations). Stops early
/// too if H shows non-positive curvature along a search direction, where CG
/// is undefined. The solution goes to X (N floats).
CgResult conjugateGradient(
    const std::function<void(const float *V, float *Out)> &HessianVector,
    const float *B, int64_t N, int MaxIterations, double ResidualTolerance,
    float *X);

/// log N(Action; Mean, diag(exp(LogStd))^2) over Dim independent dimensions.
double gaussianLogProb(const float *Action, const float *Mean,
                       const float *LogStd, int64_t Dim);

/// Draws an action from the categorical distribution softmax(Logits) over
/// Dim actions by inverting its distribution function at U in [0, 1):
/// writes the one-hot action into OneHot and returns its log-probability.
double categoricalSample(const float *Logits, int64_t Dim, double U,
                         float *OneHot);

} // namespace metac::runtime

#endif // METAC_RUNTIME_POLICYGRADIENT_H
