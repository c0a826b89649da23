// ParzenEstimator: the mixture TPE fits to the good (or the bad) trials:
// one kernel per observed trial, plus a prior kernel, each the product of
// one truncated normal per numeric parameter (in log space for log ones,
// and discretised onto the grid for stepped and int ones) and a smoothed
// one-hot distribution per categorical one. Optuna's _ParzenEstimator,
// rule for rule (bandwidths, magic clip, endpoints, prior), over arrays so
// a density costs a few flops per kernel. Immutable once built:
// thread-safe.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_PARZEN_ESTIMATOR_H_
#define PARZEN_SERVER_SAMPLERS_TPE_PARZEN_ESTIMATOR_H_

#include <vector>

#include "common/distribution.h"
#include "server/samplers/rng.h"

namespace parzen::tpe {

// One parameter as the estimator sees it.
struct ParamSpace {
  enum class Kind { kContinuous, kDiscrete, kCategorical };
  Kind kind = Kind::kContinuous;
  Distribution distribution;
  bool log = false;
  // The kernels' support in the estimator's space: log-transformed for log
  // distributions, widened by half a step each side for stepped ones.
  double low = 0, high = 0;
  double step = 0;     // kDiscrete: the grid step
  int n_choices = 0;   // kCategorical
};

// REQUIRES: `d` is valid and holds more than one value.
ParamSpace SpaceOf(const Distribution& d);

struct EstimatorOptions {
  bool consider_prior = true;
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  // Joint bandwidths (Scott's rule, as Optuna 3.1's multivariate TPE)
  // instead of each kernel's distance to its neighbours.
  bool multivariate = false;
  // LogPdf weighs each kernel by its widths (their product over the
  // continuous dimensions) as well as by its weight. Optuna up to 3.4
  // scored candidates this way, by leaving each continuous kernel's
  // -log(sigma) out of its density (optuna/optuna#5109). On our test
  // functions it searches better univariate and worse multivariate
  // (BENCHMARKS.md, sampler_quality), so it is off by default.
  bool bandwidth_weighting = false;
};

class ParzenEstimator {
 public:
  // `observations`: n rows of space.size() internal values each (row
  // major); `weights`: n non-negative weights, one per row.
  ParzenEstimator(std::vector<ParamSpace> space, const std::vector<double>& observations,
                  const std::vector<double>& weights, const EstimatorOptions& options);

  size_t dims() const { return space_.size(); }
  size_t kernels() const { return log_weights_.size(); }

  // `count` points drawn from the mixture, row major, as internal values
  // (on the grid for stepped and int parameters).
  std::vector<double> Sample(Rng& rng, int count) const;

  // The log density of the mixture at each point (row major, internal
  // values); for stepped and int parameters, of the grid cell's mass.
  // With bandwidth_weighting the mixture's weights are the kernels'
  // weights times their widths, renormalised: still a density that
  // integrates to 1, but not the one Sample draws from. A
  // cell narrower than a quarter of a kernel's width gets its mass from
  // the midpoint rule with two correction terms (relative error below
  // 1e-4); kernels more than 40 nats below the largest are left out of
  // the sum (less than e^-40 of it), and with one numeric dimension and a
  // prior, only the kernels near the point are visited: those whose peak,
  // however high, lies so far off that they cannot reach that bound.
  std::vector<double> LogPdf(const std::vector<double>& points) const;

 private:
  struct Numeric {
    std::vector<double> mu, sigma, inv_sigma, log_sigma;
    // Per kernel, what does not depend on the point: for a continuous
    // parameter -log(sigma) - log√(2π) - log Z, for a discrete one -log Z,
    // Z the kernel's mass inside [low, high].
    std::vector<double> offset;
    double largest_inv_sigma = 0;  // of the narrowest kernel
  };
  // `sorted`: the column is in increasing order (ties by index).
  void BuildNumeric(size_t dim, const std::vector<double>& column, bool sorted,
                    const EstimatorOptions& o);
  void BuildCategorical(size_t dim, const std::vector<double>& column, const EstimatorOptions& o);
  // Adds dimension `dim`'s log density at internal value `x` to every
  // kernel's `acc`.
  void AddLogPdf(size_t dim, double x, std::vector<double>& acc) const;
  // The same for the kernels [begin, end) of a numeric dimension, into
  // acc[0 .. end - begin), at `v` in the estimator's space.
  void AddNumeric(size_t dim, double v, size_t begin, size_t end, double* acc) const;
  // One numeric dimension with a prior: the log density at `x` from the
  // kernels near it only (see LogPdf).
  double LogPdfNear(double x, std::vector<double>& acc) const;

  std::vector<ParamSpace> space_;
  size_t n_observations_ = 0;
  bool with_prior_ = false;
  // One numeric dimension with a prior (TPE's univariate case): the
  // observation kernels are in increasing order of centre, so a point's
  // density need only visit the kernels near it, and these bound how near:
  // the widest observation kernel, and the largest log weight + log peak
  // height (+ log cell width for a grid) over them.
  bool by_centre_ = false;
  double widest_ = 0;
  double highest_ = 0;
  // One categorical dimension: the mixture's log probability of each
  // choice, so a point's density is a lookup.
  std::vector<double> choice_log_pmf_;
  // Per kernel, normalised: the weights of LogPdf's mixture.
  std::vector<double> log_weights_;
  // With bandwidth_weighting, the kernels' own weights, which Sample
  // draws by (empty otherwise: log_weights_ are those).
  std::vector<double> sampling_log_weights_;
  std::vector<Numeric> numeric_;     // per dimension (empty for categorical)
  // Per categorical dimension: kernels × choices, log probabilities.
  std::vector<std::vector<double>> categorical_;
};

// Optuna's default weights for n observations, oldest first: 1 each below
// 25, else a linear ramp from 1/n to 1 for the oldest n - 25 and 1 for the
// newest 25.
std::vector<double> DefaultWeights(size_t n);

}  // namespace parzen::tpe

#endif  // PARZEN_SERVER_SAMPLERS_TPE_PARZEN_ESTIMATOR_H_
