#include "server/samplers/tpe/parzen_estimator.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <limits>
#include <numeric>

#include "server/samplers/tpe/fast_math.h"
#include "server/samplers/tpe/truncnorm.h"

namespace parzen::tpe {
namespace {

constexpr double kEps = 1e-12;
constexpr double kSigma0Magnitude = 0.2;
// Terms of a density more than this far below its largest add less than
// e^-40 of it: they are left out.
constexpr double kNegligible = 40;
const double kLogSqrt2Pi = 0.5 * std::log(2 * M_PI);

PARZEN_HOT void AddContinuous(double v, const double* mu, const double* inv_sigma,
                              const double* offset, size_t k, double* a) {
  for (size_t i = 0; i < k; ++i) {
    const double z = (v - mu[i]) * inv_sigma[i];
    a[i] += offset[i] - 0.5 * z * z;
  }
}

// ∫ over [z - t/2, z + t/2] of φ = t φ(z) (1 + c), c = t²(z²-1)/24
// + t⁴(z⁴-6z²+3)/1920 + ...: the next term is below 1e-4 of it for t < 1/4
// and |z| < 8. Beyond |z| = 8 the correction is left out.
inline double LogCellMass(double t, double z, double log_t) {
  const double t2 = t * t, z2 = z * z;
  const double c = t2 * (z2 - 1) / 24 + t2 * t2 * (z2 * z2 - 6 * z2 + 3) / 1920;
  const double log1p_c = c * (1 + c * (-0.5 + c * (1.0 / 3 + c * (-0.25 + c * 0.2))));
  return log_t - kLogSqrt2Pi - 0.5 * z2 + (z2 < 64 ? log1p_c : 0.0);
}

PARZEN_HOT void AddDiscreteApproximately(double mid, double width, double log_width,
                                         const double* mu, const double* inv_sigma,
                                         const double* log_sigma, const double* offset, size_t k,
                                         double* a) {
  for (size_t i = 0; i < k; ++i) {
    const double t = width * inv_sigma[i];
    const double z = (mid - mu[i]) * inv_sigma[i];
    a[i] += offset[i] + LogCellMass(t, z, log_width - log_sigma[i]);
  }
}

PARZEN_HOT void ExpInPlace(double* a, size_t k, double max, double negligible) {
  for (size_t i = 0; i < k; ++i) {
    const double x = a[i] - max;
    const double e = ExpNearZero(x > -negligible ? x : -negligible);
    a[i] = x >= -negligible ? e : 0.0;
  }
}

// The grid cell [lower, upper] a stepped value stands for, inside the domain.
std::pair<double, double> CellOf(const ParamSpace& s, double v) {
  return {std::max(v - 0.5 * s.step, s.low), std::min(v + 0.5 * s.step, s.high)};
}

// log Σ e^a over a[0 .. k), leaving e^(a - max) in a.
double LogSumExp(double* a, size_t k) {
  const double max = *std::max_element(a, a + k);
  // In place, so the compiler can vectorise it (a sum in the same loop
  // could not be: its order of additions is fixed).
  ExpInPlace(a, k, max, kNegligible);
  double sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= k; i += 4) {
    for (size_t lane = 0; lane < 4; ++lane) sums[lane] += a[i + lane];
  }
  for (; i < k; ++i) sums[0] += a[i];
  return max + std::log((sums[0] + sums[1]) + (sums[2] + sums[3]));
}

}  // namespace

std::vector<double> DefaultWeights(size_t n) {
  if (n < 25) return std::vector<double>(n, 1.0);
  std::vector<double> w(n, 1.0);
  const size_t ramp = n - 25;
  const double start = 1.0 / static_cast<double>(n);
  for (size_t i = 0; i < ramp; ++i) {
    // numpy.linspace(1/n, 1, ramp)
    w[i] = ramp == 1 ? start
                     : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return w;
}

ParamSpace SpaceOf(const Distribution& d) {
  ParamSpace s;
  s.distribution = d;
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    s.log = f->log;
    if (f->log) {
      s.low = std::log(f->low);
      s.high = std::log(f->high);
    } else if (f->step) {
      s.kind = ParamSpace::Kind::kDiscrete;
      s.step = *f->step;
      s.low = f->low - 0.5 * s.step;
      s.high = f->high + 0.5 * s.step;
    } else {
      s.low = f->low;
      s.high = f->high;
    }
  } else if (const auto* i = std::get_if<IntDistribution>(&d)) {
    s.log = i->log;
    if (i->log) {
      s.low = std::log(static_cast<double>(i->low) - 0.5);
      s.high = std::log(static_cast<double>(i->high) + 0.5);
    } else {
      s.kind = ParamSpace::Kind::kDiscrete;
      s.step = static_cast<double>(i->step);
      s.low = static_cast<double>(i->low) - 0.5 * s.step;
      s.high = static_cast<double>(i->high) + 0.5 * s.step;
    }
  } else {
    s.kind = ParamSpace::Kind::kCategorical;
    s.n_choices = static_cast<int>(std::get<CategoricalDistribution>(d).choices.size());
  }
  return s;
}

ParzenEstimator::ParzenEstimator(std::vector<ParamSpace> space,
                                 const std::vector<double>& observations,
                                 const std::vector<double>& weights,
                                 const EstimatorOptions& options)
    : space_(std::move(space)), n_observations_(weights.size()) {
  // With nothing observed the prior is all there is.
  with_prior_ = options.consider_prior || n_observations_ == 0;
  const size_t d = space_.size();
  by_centre_ = d == 1 && with_prior_ && space_[0].kind != ParamSpace::Kind::kCategorical;
  // Observation i becomes kernel i, or with one numeric dimension the
  // kernel at its rank (ties by index, so equal values keep their order).
  std::vector<size_t> order(n_observations_);
  std::iota(order.begin(), order.end(), size_t{0});
  if (by_centre_ && !std::is_sorted(observations.begin(), observations.end())) {
    std::vector<std::pair<double, size_t>> by_value(n_observations_);
    for (size_t i = 0; i < n_observations_; ++i) by_value[i] = {observations[i], i};
    std::sort(by_value.begin(), by_value.end());
    for (size_t i = 0; i < n_observations_; ++i) order[i] = by_value[i].second;
  }
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0) +
                       (with_prior_ ? options.prior_weight : 0.0);
  log_weights_.resize(n_observations_ + (with_prior_ ? 1 : 0));
  for (size_t i = 0; i < n_observations_; ++i) {
    log_weights_[i] = std::log(weights[order[i]] / total);
  }
  if (with_prior_) log_weights_.back() = std::log(options.prior_weight / total);
  numeric_.resize(space_.size());
  categorical_.resize(space_.size());
  std::vector<double> column(n_observations_);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n_observations_; ++i) column[i] = observations[order[i] * d + j];
    if (space_[j].kind == ParamSpace::Kind::kCategorical) {
      BuildCategorical(j, column, options);
    } else {
      BuildNumeric(j, column, by_centre_, options);
    }
  }
  if (options.bandwidth_weighting) {
    // Samples still follow the weights alone; LogPdf's mixture takes the widths too.
    sampling_log_weights_ = log_weights_;
    for (size_t j = 0; j < d; ++j) {
      if (space_[j].kind != ParamSpace::Kind::kContinuous) continue;
      const std::vector<double>& log_sigma = numeric_[j].log_sigma;
      for (size_t i = 0; i < log_sigma.size(); ++i) log_weights_[i] += log_sigma[i];
    }
    std::vector<double> scratch = log_weights_;
    const double log_total = LogSumExp(scratch.data(), scratch.size());
    for (double& w : log_weights_) w -= log_total;
  }
  if (d == 1 && space_[0].kind == ParamSpace::Kind::kCategorical) {
    const auto choices = static_cast<size_t>(space_[0].n_choices);
    std::vector<double> acc(log_weights_.size());
    for (size_t c = 0; c < choices; ++c) {
      std::copy(log_weights_.begin(), log_weights_.end(), acc.begin());
      AddLogPdf(0, static_cast<double>(c), acc);
      choice_log_pmf_.push_back(LogSumExp(acc.data(), acc.size()));
    }
  }
  if (by_centre_) {
    const Numeric& n = numeric_[0];
    const bool discrete = space_[0].kind == ParamSpace::Kind::kDiscrete;
    highest_ = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n_observations_; ++i) {
      widest_ = std::max(widest_, n.sigma[i]);
      // A grid cell's mass is at most its width times the kernel's peak.
      const double peak = discrete ? n.offset[i] - n.log_sigma[i] - kLogSqrt2Pi : n.offset[i];
      highest_ = std::max(highest_, log_weights_[i] + peak);
    }
  }
}

void ParzenEstimator::BuildNumeric(size_t dim, const std::vector<double>& column, bool sorted,
                                   const EstimatorOptions& o) {
  const ParamSpace& s = space_[dim];
  Numeric& n = numeric_[dim];
  const size_t n_obs = column.size();
  n.mu.resize(n_obs);
  for (size_t i = 0; i < n_obs; ++i) n.mu[i] = s.log ? std::log(column[i]) : column[i];
  if (with_prior_) n.mu.push_back(0.5 * (s.low + s.high));
  const size_t k = n.mu.size();
  n.sigma.resize(k);
  if (o.multivariate) {
    // Scott's rule over the joint space, as BOHB and Optuna 3.1 use it.
    const double sigma0 =
        kSigma0Magnitude *
        std::pow(static_cast<double>(std::max<size_t>(n_obs, 1)), -1.0 / (space_.size() + 4.0));
    std::fill(n.sigma.begin(), n.sigma.end(), sigma0 * (s.high - s.low));
  } else {
    // Each kernel as wide as the larger gap to its neighbours, the bounds
    // counting as neighbours (the prior's centre among the kernels).
    // Ties in order of index, so equal values always get the same widths.
    std::vector<size_t> order(k);
    if (sorted) {
      // Only the prior's centre is to be put in its place (after equal
      // values: it has the largest index).
      const size_t at = with_prior_ ? static_cast<size_t>(std::upper_bound(n.mu.begin(),
                                                                           n.mu.begin() + n_obs,
                                                                           n.mu[k - 1]) -
                                                          n.mu.begin())
                                    : n_obs;
      for (size_t i = 0; i < at; ++i) order[i] = i;
      if (with_prior_) order[at] = k - 1;
      for (size_t i = at; i < n_obs; ++i) order[i + (with_prior_ ? 1 : 0)] = i;
    } else {
      std::vector<std::pair<double, size_t>> by_value(k);
      for (size_t i = 0; i < k; ++i) by_value[i] = {n.mu[i], i};
      std::sort(by_value.begin(), by_value.end());
      for (size_t i = 0; i < k; ++i) order[i] = by_value[i].second;
    }
    std::vector<double> sorted_mu(k + 2);
    sorted_mu[0] = s.low;
    for (size_t i = 0; i < k; ++i) sorted_mu[i + 1] = n.mu[order[i]];
    sorted_mu[k + 1] = s.high;
    std::vector<double> sorted_sigma(k);
    for (size_t i = 0; i < k; ++i) {
      sorted_sigma[i] =
          std::max(sorted_mu[i + 1] - sorted_mu[i], sorted_mu[i + 2] - sorted_mu[i + 1]);
    }
    if (!o.consider_endpoints && sorted_mu.size() >= 4) {
      sorted_sigma[0] = sorted_mu[2] - sorted_mu[1];
      sorted_sigma[k - 1] = sorted_mu[k] - sorted_mu[k - 1];
    }
    for (size_t i = 0; i < k; ++i) n.sigma[order[i]] = sorted_sigma[i];
  }
  const double max_sigma = s.high - s.low;
  const double min_sigma = o.consider_magic_clip
                               ? (s.high - s.low) / std::min(100.0, 1.0 + static_cast<double>(k))
                               : kEps;
  for (double& sigma : n.sigma) sigma = std::clamp(sigma, min_sigma, max_sigma);
  if (with_prior_) n.sigma[k - 1] = s.high - s.low;
  n.offset.resize(k);
  n.inv_sigma.resize(k);
  n.log_sigma.resize(k);
  for (size_t i = 0; i < k; ++i) {
    n.inv_sigma[i] = 1 / n.sigma[i];
    // Widths repeat: multivariate ones are all alike, and most univariate
    // ones of a large estimator are clipped to the narrowest.
    n.log_sigma[i] = i > 0 && n.sigma[i] == n.sigma[i - 1] ? n.log_sigma[i - 1]
                                                            : std::log(n.sigma[i]);
  }
  n.largest_inv_sigma = *std::max_element(n.inv_sigma.begin(), n.inv_sigma.end());
  // The offset starts as each kernel's log mass inside the domain.
  LogKernelMasses(n.mu.data(), n.inv_sigma.data(), k, s.low, s.high, n.offset.data());
  for (size_t i = 0; i < k; ++i) {
    n.offset[i] = s.kind == ParamSpace::Kind::kDiscrete
                      ? -n.offset[i]
                      : -n.log_sigma[i] - kLogSqrt2Pi - n.offset[i];
  }
}

void ParzenEstimator::BuildCategorical(size_t dim, const std::vector<double>& column,
                                       const EstimatorOptions& o) {
  const size_t n_obs = column.size();
  const size_t choices = static_cast<size_t>(space_[dim].n_choices);
  const size_t k = n_obs + (with_prior_ ? 1 : 0);
  // Every kernel puts prior_weight / k on each choice and one more on its
  // own observation; the prior kernel stays uniform.
  const double base = o.prior_weight / static_cast<double>(with_prior_ ? n_obs + 1 : n_obs);
  // So an observation's row holds two values only, and the prior's one:
  // three logarithms, however many kernels.
  const double observed_row = static_cast<double>(choices) * base + 1;
  std::vector<double>& table = categorical_[dim];
  table.assign(k * choices, std::log(base / observed_row));
  const double own = std::log((base + 1) / observed_row);
  for (size_t i = 0; i < n_obs; ++i) table[i * choices + static_cast<size_t>(column[i])] = own;
  if (with_prior_) {
    std::fill(table.begin() + static_cast<std::ptrdiff_t>(n_obs * choices), table.end(),
              -std::log(static_cast<double>(choices)));
  }
}

std::vector<double> ParzenEstimator::Sample(Rng& rng, int count) const {
  const size_t d = space_.size();
  // Made here, not when built: of the two estimators of an Ask, only the
  // good one's kernels are drawn.
  const std::vector<double>& log_weights =
      sampling_log_weights_.empty() ? log_weights_ : sampling_log_weights_;
  std::vector<double> weights_cdf(log_weights.size());
  double cumulative = 0;
  for (size_t k = 0; k < log_weights.size(); ++k) {
    cumulative += std::exp(log_weights[k]);
    weights_cdf[k] = cumulative;
  }
  std::vector<double> out(static_cast<size_t>(count) * d);
  for (int c = 0; c < count; ++c) {
    const double u = rng.Uniform();
    const size_t k = std::min<size_t>(
        std::upper_bound(weights_cdf.begin(), weights_cdf.end(), u) - weights_cdf.begin(),
        weights_cdf.size() - 1);
    for (size_t j = 0; j < d; ++j) {
      const ParamSpace& s = space_[j];
      double& x = out[static_cast<size_t>(c) * d + j];
      if (s.kind == ParamSpace::Kind::kCategorical) {
        const double* row = &categorical_[j][k * static_cast<size_t>(s.n_choices)];
        const double v = rng.Uniform();
        double cumulative = 0;
        x = s.n_choices - 1;
        for (int choice = 0; choice < s.n_choices; ++choice) {
          cumulative += std::exp(row[choice]);
          if (v < cumulative) {
            x = choice;
            break;
          }
        }
        continue;
      }
      const Numeric& n = numeric_[j];
      const double mu = n.mu[k], sigma = n.sigma[k];
      const double z = TruncNormPpf(rng.Uniform(), (s.low - mu) / sigma, (s.high - mu) / sigma);
      double v = std::clamp(mu + sigma * z, s.low, s.high);
      // Back to the distribution's own values: on its grid, inside it.
      if (const auto* f = std::get_if<FloatDistribution>(&s.distribution)) {
        if (f->log) {
          v = std::clamp(std::exp(v), f->low, f->high);
        } else if (f->step) {
          v = std::clamp(std::round((v - f->low) / *f->step) * *f->step + f->low, f->low, f->high);
        }
      } else if (const auto* i = std::get_if<IntDistribution>(&s.distribution)) {
        const double lo = static_cast<double>(i->low), hi = static_cast<double>(i->high);
        v = i->log ? std::clamp(std::round(std::exp(v)), lo, hi)
                   : std::clamp(std::round((v - lo) / s.step) * s.step + lo, lo, hi);
      }
      x = v;
    }
  }
  return out;
}

void ParzenEstimator::AddLogPdf(size_t dim, double x, std::vector<double>& acc) const {
  const ParamSpace& s = space_[dim];
  if (s.kind == ParamSpace::Kind::kCategorical) {
    const size_t k = acc.size();
    double* a = acc.data();
    const auto choices = static_cast<size_t>(s.n_choices);
    const double* table = categorical_[dim].data();
    const auto c = static_cast<size_t>(x);
    for (size_t i = 0; i < k; ++i) a[i] += table[i * choices + c];
    return;
  }
  AddNumeric(dim, s.log ? std::log(x) : x, 0, acc.size(), acc.data());
}

void ParzenEstimator::AddNumeric(size_t dim, double v, size_t begin, size_t end,
                                 double* a) const {
  const ParamSpace& s = space_[dim];
  const Numeric& n = numeric_[dim];
  const size_t k = end - begin;
  const double* mu = n.mu.data() + begin;
  const double* inv_sigma = n.inv_sigma.data() + begin;
  const double* log_sigma = n.log_sigma.data() + begin;
  const double* offset = n.offset.data() + begin;
  if (s.kind == ParamSpace::Kind::kContinuous) {
    AddContinuous(v, mu, inv_sigma, offset, k, a);
    return;
  }
  // A grid point stands for its cell [lower, upper]: its mass from the
  // midpoint rule where the cell is narrow against the kernel, exactly
  // where it is not. Far from a kernel (|z| >= 8) the rougher value stays
  // when there is a prior: that kernel is e^-32 below its own peak, and
  // the prior (within one width of every point) outweighs it more than
  // 1e10 times, so it cannot show.
  const auto [lower, upper] = CellOf(s, v);
  const double mid = 0.5 * (lower + upper), width = upper - lower;
  const double log_width = std::log(width);
  AddDiscreteApproximately(mid, width, log_width, mu, inv_sigma, log_sigma, offset, k, a);
  // With a prior, only cells wide against their kernel are redone, and when
  // not even the narrowest kernel is that narrow, none is.
  if (with_prior_ && width * n.largest_inv_sigma < 0.25) return;
  for (size_t i = 0; i < k; ++i) {
    const double t = width * inv_sigma[i];
    const double z = (mid - mu[i]) * inv_sigma[i];
    if (t < 0.25 && (z * z < 64 || with_prior_)) continue;
    a[i] += LogGaussMass((lower - mu[i]) * inv_sigma[i], (upper - mu[i]) * inv_sigma[i]) -
            LogCellMass(t, z, log_width - log_sigma[i]);
  }
}

double ParzenEstimator::LogPdfNear(double x, std::vector<double>& acc) const {
  const ParamSpace& s = space_[0];
  const Numeric& n = numeric_[0];
  const size_t prior = n_observations_;
  const double v = s.log ? std::log(x) : x;
  double prior_term = log_weights_[prior];
  AddNumeric(0, v, prior, prior + 1, &prior_term);
  // Kernel i's term is at most highest_ (+ log width) - z²/2, z its
  // distance to the point (the nearest end of its cell) in its own widths,
  // which are at most widest_. Those with z² / 2 above `room` fall more
  // than kNegligible + log(kernels) below the prior's term, so all of them
  // together add less than e^-40 of the sum.
  double centre = v, half_width = 0, room = highest_ - prior_term;
  if (s.kind == ParamSpace::Kind::kDiscrete) {
    const auto [lower, upper] = CellOf(s, v);
    centre = 0.5 * (lower + upper);
    half_width = 0.5 * (upper - lower);
    room += std::log(upper - lower);
  }
  room += kNegligible + std::log(static_cast<double>(kernels()));
  const double reach = widest_ * std::sqrt(2 * std::max(room, 0.0)) + half_width;
  const auto first = std::lower_bound(n.mu.begin(), n.mu.begin() + prior, centre - reach);
  const auto last = std::upper_bound(first, n.mu.begin() + prior, centre + reach);
  const auto begin = static_cast<size_t>(first - n.mu.begin());
  const auto end = static_cast<size_t>(last - n.mu.begin());
  acc.resize(end - begin + 1);
  std::copy(log_weights_.begin() + begin, log_weights_.begin() + end, acc.begin());
  AddNumeric(0, v, begin, end, acc.data());
  acc.back() = prior_term;
  return LogSumExp(acc.data(), acc.size());
}

std::vector<double> ParzenEstimator::LogPdf(const std::vector<double>& points) const {
  const size_t d = space_.size();
  const size_t m = d == 0 ? 0 : points.size() / d;
  const size_t k = log_weights_.size();
  std::vector<double> out(m);
  std::vector<double> acc(k);
  if (by_centre_) {
    for (size_t p = 0; p < m; ++p) out[p] = LogPdfNear(points[p], acc);
    return out;
  }
  if (!choice_log_pmf_.empty()) {
    for (size_t p = 0; p < m; ++p) out[p] = choice_log_pmf_[static_cast<size_t>(points[p])];
    return out;
  }
  for (size_t p = 0; p < m; ++p) {
    std::copy(log_weights_.begin(), log_weights_.end(), acc.begin());
    for (size_t j = 0; j < d; ++j) AddLogPdf(j, points[p * d + j], acc);
    out[p] = LogSumExp(acc.data(), k);
  }
  return out;
}

}  // namespace parzen::tpe
