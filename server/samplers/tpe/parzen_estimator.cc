#include "server/samplers/tpe/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "server/samplers/tpe/truncnorm.h"

namespace parzen::tpe {
namespace {

constexpr double kEps = 1e-12;
constexpr double kSigma0Magnitude = 0.2;
const double kLogSqrt2Pi = 0.5 * std::log(2 * M_PI);

double LogSumExp(const std::vector<double>& v) {
  const double m = *std::max_element(v.begin(), v.end());
  if (!std::isfinite(m)) return m;
  double sum = 0;
  for (double x : v) sum += std::exp(x - m);
  return m + std::log(sum);
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
  std::vector<double> w(weights);
  if (with_prior_) w.push_back(options.prior_weight);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  log_weights_.resize(w.size());
  weights_cdf_.resize(w.size());
  double cumulative = 0;
  for (size_t k = 0; k < w.size(); ++k) {
    log_weights_[k] = std::log(w[k] / total);
    cumulative += w[k] / total;
    weights_cdf_[k] = cumulative;
  }
  numeric_.resize(space_.size());
  categorical_.resize(space_.size());
  const size_t d = space_.size();
  std::vector<double> column(n_observations_);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n_observations_; ++i) column[i] = observations[i * d + j];
    if (space_[j].kind == ParamSpace::Kind::kCategorical) {
      BuildCategorical(j, column, options);
    } else {
      BuildNumeric(j, column, options);
    }
  }
}

void ParzenEstimator::BuildNumeric(size_t dim, const std::vector<double>& column,
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
    std::vector<size_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return n.mu[a] < n.mu[b]; });
    std::vector<double> sorted(k + 2);
    sorted[0] = s.low;
    for (size_t i = 0; i < k; ++i) sorted[i + 1] = n.mu[order[i]];
    sorted[k + 1] = s.high;
    std::vector<double> sorted_sigma(k);
    for (size_t i = 0; i < k; ++i) {
      sorted_sigma[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
    }
    if (!o.consider_endpoints && sorted.size() >= 4) {
      sorted_sigma[0] = sorted[2] - sorted[1];
      sorted_sigma[k - 1] = sorted[k] - sorted[k - 1];
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
  for (size_t i = 0; i < k; ++i) {
    const double log_z = LogGaussMass((s.low - n.mu[i]) / n.sigma[i], (s.high - n.mu[i]) / n.sigma[i]);
    n.offset[i] = s.kind == ParamSpace::Kind::kDiscrete
                      ? -log_z
                      : -std::log(n.sigma[i]) - kLogSqrt2Pi - log_z;
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
  std::vector<double>& table = categorical_[dim];
  table.assign(k * choices, base);
  for (size_t i = 0; i < n_obs; ++i) table[i * choices + static_cast<size_t>(column[i])] += 1;
  for (size_t i = 0; i < k; ++i) {
    double row = 0;
    for (size_t c = 0; c < choices; ++c) row += table[i * choices + c];
    for (size_t c = 0; c < choices; ++c) table[i * choices + c] = std::log(table[i * choices + c] / row);
  }
}

std::vector<double> ParzenEstimator::Sample(Rng& rng, int count) const {
  const size_t d = space_.size();
  std::vector<double> out(static_cast<size_t>(count) * d);
  for (int c = 0; c < count; ++c) {
    const double u = rng.Uniform();
    const size_t k = std::min<size_t>(
        std::upper_bound(weights_cdf_.begin(), weights_cdf_.end(), u) - weights_cdf_.begin(),
        weights_cdf_.size() - 1);
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
  const size_t k = acc.size();
  if (s.kind == ParamSpace::Kind::kCategorical) {
    const auto choices = static_cast<size_t>(s.n_choices);
    const double* table = categorical_[dim].data();
    const auto c = static_cast<size_t>(x);
    for (size_t i = 0; i < k; ++i) acc[i] += table[i * choices + c];
    return;
  }
  const Numeric& n = numeric_[dim];
  const double* mu = n.mu.data();
  const double* sigma = n.sigma.data();
  const double* offset = n.offset.data();
  double* a = acc.data();
  if (s.kind == ParamSpace::Kind::kContinuous) {
    const double v = s.log ? std::log(x) : x;
    for (size_t i = 0; i < k; ++i) {
      const double z = (v - mu[i]) / sigma[i];
      a[i] += offset[i] - 0.5 * z * z;
    }
    return;
  }
  // A grid point stands for its cell: the kernel's mass over it.
  const double upper = std::min(x + 0.5 * s.step, s.high);
  const double lower = std::max(x - 0.5 * s.step, s.low);
  for (size_t i = 0; i < k; ++i) {
    a[i] += offset[i] + LogGaussMass((lower - mu[i]) / sigma[i], (upper - mu[i]) / sigma[i]);
  }
}

std::vector<double> ParzenEstimator::LogPdf(const std::vector<double>& points) const {
  const size_t d = space_.size();
  const size_t m = d == 0 ? 0 : points.size() / d;
  std::vector<double> out(m);
  std::vector<double> acc(log_weights_.size());
  for (size_t p = 0; p < m; ++p) {
    std::copy(log_weights_.begin(), log_weights_.end(), acc.begin());
    for (size_t j = 0; j < d; ++j) AddLogPdf(j, points[p * d + j], acc);
    out[p] = LogSumExp(acc);
  }
  return out;
}

}  // namespace parzen::tpe
