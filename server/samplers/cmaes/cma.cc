#include "server/samplers/cmaes/cma.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace parzen::cmaes {
namespace {

constexpr double kEps = 1e-8;
constexpr double kSigmaMax = 1e32;

double Gaussian(Rng& rng) {
  // Box-Muller; 1 - U keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - rng.Uniform();
  const double u2 = rng.Uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

void SymmetricEigen(int n, std::vector<double> a, std::vector<double>& values,
                    std::vector<double>& vectors) {
  vectors.assign(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) vectors[i * n + i] = 1.0;
  auto at = [&](int i, int j) -> double& { return a[static_cast<size_t>(i) * n + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        (i == j ? total : off) += at(i, j) * at(i, j);
      }
    }
    if (off <= 1e-30 * (total + off) || off == 0) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (apq == 0) continue;
        const double theta = (at(q, q) - at(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // columns p, q
          const double akp = at(k, p), akq = at(k, q);
          at(k, p) = c * akp - s * akq;
          at(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // rows p, q
          const double apk = at(p, k), aqk = at(q, k);
          at(p, k) = c * apk - s * aqk;
          at(q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          double& vkp = vectors[static_cast<size_t>(k) * n + p];
          double& vkq = vectors[static_cast<size_t>(k) * n + q];
          const double x = vkp, y = vkq;
          vkp = c * x - s * y;
          vkq = s * x + c * y;
        }
      }
    }
  }
  values.resize(n);
  for (int i = 0; i < n; ++i) values[i] = at(i, i);
}

Cma::Cma(std::vector<double> mean, double sigma, std::vector<Bounds> bounds, int popsize,
         bool separable)
    : n_(static_cast<int>(mean.size())),
      popsize_(popsize),
      mu_(popsize / 2),
      separable_(separable),
      mean_(std::move(mean)),
      sigma_(sigma),
      bounds_(std::move(bounds)) {
  const double n = n_;
  std::vector<double> w(popsize_);
  for (int i = 0; i < popsize_; ++i) w[i] = std::log((popsize_ + 1) / 2.0) - std::log(i + 1.0);
  auto sum = [](auto first, auto last) { return std::accumulate(first, last, 0.0); };
  auto sum_sq = [](auto first, auto last) {
    return std::accumulate(first, last, 0.0, [](double acc, double x) { return acc + x * x; });
  };
  const double pos = sum(w.begin(), w.begin() + mu_);
  mu_eff_ = pos * pos / sum_sq(w.begin(), w.begin() + mu_);
  const double neg_sum = sum(w.begin() + mu_, w.end());
  const double mu_eff_minus =
      popsize_ > mu_ ? neg_sum * neg_sum / sum_sq(w.begin() + mu_, w.end()) : 0.0;
  const double alpha_cov = 2;
  c1_ = alpha_cov / ((n + 1.3) * (n + 1.3) + mu_eff_);
  cmu_ = std::min(1 - c1_ - 1e-8, alpha_cov * (mu_eff_ - 2 + 1 / mu_eff_) /
                                      ((n + 2) * (n + 2) + alpha_cov * mu_eff_ / 2));
  if (separable_) {
    // sep-CMA-ES: the diagonal learns (n + 2) / 3 times faster, and only
    // the better half is recombined into it.
    c1_ *= (n + 2) / 3;
    cmu_ = std::min(1 - c1_ - 1e-8, cmu_ * (n + 2) / 3);
  }
  const double min_alpha =
      std::min({1 + c1_ / cmu_, 1 + 2 * mu_eff_minus / (mu_eff_ + 2), (1 - c1_ - cmu_) / (n * cmu_)});
  double positive_sum = 0, negative_sum = 0;
  for (double x : w) (x > 0 ? positive_sum : negative_sum) += std::fabs(x);
  weights_.resize(popsize_);
  for (int i = 0; i < popsize_; ++i) {
    if (w[i] >= 0) {
      weights_[i] = w[i] / positive_sum;
    } else {
      weights_[i] = separable_ ? 0.0 : min_alpha / negative_sum * w[i];
    }
  }
  c_sigma_ = (mu_eff_ + 2) / (n + mu_eff_ + 5);
  d_sigma_ = 1 + 2 * std::max(0.0, std::sqrt((mu_eff_ - 1) / (n + 1)) - 1) + c_sigma_;
  cc_ = (4 + mu_eff_ / n) / (n + 4 + 2 * mu_eff_ / n);
  chi_n_ = std::sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));

  c_.assign(static_cast<size_t>(n_) * n_, 0.0);
  for (int i = 0; i < n_; ++i) c_[static_cast<size_t>(i) * n_ + i] = 1.0;
  p_sigma_.assign(n_, 0.0);
  pc_.assign(n_, 0.0);
  funhist_term_ = 10 + static_cast<int>(std::ceil(30.0 * n / popsize_));
  tolx_ = 1e-12 * sigma_;
  Decompose();
}

void Cma::Decompose() {
  const size_t n = n_;
  if (separable_) {
    b_.assign(n * n, 0.0);
    d_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      double& cii = c_[i * n + i];
      if (cii < 0) cii = kEps;
      b_[i * n + i] = 1.0;
      d_[i] = std::sqrt(cii);
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double avg = (c_[i * n + j] + c_[j * n + i]) / 2;
      c_[i * n + j] = c_[j * n + i] = avg;
    }
  }
  std::vector<double> values;
  SymmetricEigen(n_, c_, values, b_);
  for (double& v : values) {
    if (v < 0) v = kEps;
  }
  // C rebuilt from the lifted eigenvalues, as the cmaes library does.
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double s = 0;
      for (size_t k = 0; k < n; ++k) s += b_[i * n + k] * values[k] * b_[j * n + k];
      c_[i * n + j] = s;
    }
  }
  d_.resize(n);
  for (size_t i = 0; i < n; ++i) d_[i] = std::sqrt(values[i]);
}

bool Cma::Feasible(const std::vector<double>& x) const {
  for (int i = 0; i < n_; ++i) {
    if (x[i] < bounds_[i].low || x[i] > bounds_[i].high) return false;
  }
  return true;
}

std::vector<double> Cma::Ask(Rng& rng) const {
  const size_t n = n_;
  std::vector<double> x(n), z(n);
  for (int attempt = 0; attempt <= 10 * n_; ++attempt) {
    for (double& zi : z) zi = Gaussian(rng);
    for (size_t i = 0; i < n; ++i) {
      double y = 0;
      for (size_t k = 0; k < n; ++k) y += b_[i * n + k] * d_[k] * z[k];
      x[i] = mean_[i] + sigma_ * y;
    }
    if (Feasible(x)) return x;
  }
  for (size_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], bounds_[i].low, bounds_[i].high);
  return x;
}

void Cma::Tell(std::vector<std::pair<std::vector<double>, double>> solutions) {
  const size_t n = n_;
  std::stable_sort(solutions.begin(), solutions.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  ++generation_;
  funhist_.push_back(solutions.front().second);
  funhist_.push_back(solutions.back().second);
  if (funhist_.size() > 2 * static_cast<size_t>(funhist_term_)) {
    funhist_.erase(funhist_.begin(), funhist_.begin() + 2);
  }

  // y_k = (x_k - m) / sigma ~ N(0, C); C^-1/2 y_k for the step-size path.
  std::vector<std::vector<double>> y(popsize_, std::vector<double>(n));
  for (int k = 0; k < popsize_; ++k) {
    for (size_t i = 0; i < n; ++i) y[k][i] = (solutions[k].first[i] - mean_[i]) / sigma_;
  }
  auto inv_sqrt_c = [&](const std::vector<double>& v) {
    std::vector<double> bt_v(n, 0.0), out(n, 0.0);
    for (size_t k = 0; k < n; ++k) {
      for (size_t i = 0; i < n; ++i) bt_v[k] += b_[i * n + k] * v[i];
      bt_v[k] /= d_[k];
    }
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < n; ++k) out[i] += b_[i * n + k] * bt_v[k];
    }
    return out;
  };
  std::vector<double> y_w(n, 0.0);
  for (int k = 0; k < mu_; ++k) {
    for (size_t i = 0; i < n; ++i) y_w[i] += weights_[k] * y[k][i];
  }
  for (size_t i = 0; i < n; ++i) mean_[i] += sigma_ * y_w[i];  // c_m = 1

  const std::vector<double> c_y_w = inv_sqrt_c(y_w);
  const double ps_scale = std::sqrt(c_sigma_ * (2 - c_sigma_) * mu_eff_);
  double norm_ps = 0;
  for (size_t i = 0; i < n; ++i) {
    p_sigma_[i] = (1 - c_sigma_) * p_sigma_[i] + ps_scale * c_y_w[i];
    norm_ps += p_sigma_[i] * p_sigma_[i];
  }
  norm_ps = std::sqrt(norm_ps);
  sigma_ = std::min(sigma_ * std::exp(c_sigma_ / d_sigma_ * (norm_ps / chi_n_ - 1)), kSigmaMax);

  const double h_left = norm_ps / std::sqrt(1 - std::pow(1 - c_sigma_, 2 * (generation_ + 1)));
  const double h_sigma = h_left < (1.4 + 2 / (n_ + 1.0)) * chi_n_ ? 1.0 : 0.0;
  const double pc_scale = h_sigma * std::sqrt(cc_ * (2 - cc_) * mu_eff_);
  for (size_t i = 0; i < n; ++i) pc_[i] = (1 - cc_) * pc_[i] + pc_scale * y_w[i];

  // Negative weights scaled so each bad step counts at most n (eq. 46).
  std::vector<double> w_io(popsize_);
  for (int k = 0; k < popsize_; ++k) {
    if (weights_[k] >= 0) {
      w_io[k] = weights_[k];
    } else {
      const std::vector<double> cy = inv_sqrt_c(y[k]);
      double sq = 0;
      for (double v : cy) sq += v * v;
      w_io[k] = weights_[k] * n_ / (sq + kEps);
    }
  }
  const double delta_h_sigma = (1 - h_sigma) * cc_ * (2 - cc_);
  const double weight_sum = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  const double keep = 1 + c1_ * delta_h_sigma - c1_ - cmu_ * weight_sum;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (separable_ && i != j) continue;
      double rank_mu = 0;
      for (int k = 0; k < popsize_; ++k) rank_mu += w_io[k] * y[k][i] * y[k][j];
      c_[i * n + j] = keep * c_[i * n + j] + c1_ * pc_[i] * pc_[j] + cmu_ * rank_mu;
    }
  }
  Decompose();
}

bool Cma::ShouldStop() const {
  const size_t n = n_;
  if (generation_ > funhist_term_ && !funhist_.empty()) {
    const auto [lo, hi] = std::minmax_element(funhist_.begin(), funhist_.end());
    if (*hi - *lo < 1e-12) return true;
  }
  bool tiny = true;
  for (size_t i = 0; i < n; ++i) {
    tiny = tiny && sigma_ * c_[i * n + i] < tolx_ && sigma_ * pc_[i] < tolx_;
  }
  if (tiny) return true;
  const double d_max = *std::max_element(d_.begin(), d_.end());
  const double d_min = *std::min_element(d_.begin(), d_.end());
  if (sigma_ * d_max > 1e4) return true;
  for (size_t i = 0; i < n; ++i) {
    if (mean_[i] == mean_[i] + 0.2 * sigma_ * std::sqrt(c_[i * n + i])) return true;
  }
  const size_t axis = static_cast<size_t>(generation_) % n;
  bool no_effect = true;
  for (size_t i = 0; i < n; ++i) {
    no_effect = no_effect && mean_[i] == mean_[i] + 0.1 * sigma_ * d_[axis] * b_[i * n + axis];
  }
  if (no_effect) return true;
  return d_max / d_min > 1e14;
}

}  // namespace parzen::cmaes
