#include "worker/mnist/optimizer.h"

#include <cmath>

namespace parzen::mnist {

absl::Status ValidateOptimizerConfig(const OptimizerConfig& c) {
  if (!std::isfinite(c.lr) || c.lr < 0) return absl::InvalidArgumentError("lr must be >= 0");
  if (!(c.momentum >= 0 && c.momentum < 1)) {
    return absl::InvalidArgumentError("momentum must lie in [0, 1)");
  }
  if (c.nesterov && c.momentum == 0) {
    return absl::InvalidArgumentError("Nesterov momentum needs momentum > 0");
  }
  if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) {
    return absl::InvalidArgumentError("weight decay must be >= 0");
  }
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1) || !(c.eps > 0)) {
    return absl::InvalidArgumentError("Adam needs betas in [0, 1) and eps > 0");
  }
  return absl::OkStatus();
}

void Optimizer::Step(std::vector<Parameter>& params, double lr) {
  std::vector<ParameterSpan> spans;
  for (Parameter& p : params) spans.push_back({p.value.data(), p.grad.data(), p.value.size()});
  Step(spans, lr);
}

void Optimizer::Step(const std::vector<ParameterSpan>& params, double lr) {
  if (state1_.empty()) {
    for (const ParameterSpan& p : params) {
      state1_.emplace_back(p.size, 0.0f);
      state2_.emplace_back(config_.kind == OptimizerKind::kAdam ? p.size : 0, 0.0f);
    }
  }
  ++steps_;
  const auto flr = static_cast<float>(lr);
  const auto wd = static_cast<float>(config_.weight_decay);
  const auto mom = static_cast<float>(config_.momentum);
  for (size_t k = 0; k < params.size(); ++k) {
    float* const w = params[k].value;
    const float* const g = params[k].grad;
    std::vector<float>& m = state1_[k];
    const size_t n = params[k].size;
    if (config_.kind == OptimizerKind::kSgd) {
      // torch.optim.SGD: d = g + wd*w; buf = mom*buf + d (buf = d at step 1);
      // w -= lr * (nesterov ? d + mom*buf : buf).
      const bool first = steps_ == 1;
      for (size_t i = 0; i < n; ++i) {
        float d = g[i] + wd * w[i];
        if (mom != 0) {
          m[i] = first ? d : mom * m[i] + d;
          d = config_.nesterov ? d + mom * m[i] : m[i];
        }
        w[i] -= flr * d;
      }
    } else {
      std::vector<float>& v = state2_[k];
      // 1 - beta in double, then rounded, as torch.optim.Adam passes it:
      // 1 - 0.999f is 0.00100005, 4.7e-5 off the 0.001 PyTorch uses.
      const auto b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
      const auto one_minus_b1 = static_cast<float>(1.0 - config_.beta1);
      const auto one_minus_b2 = static_cast<float>(1.0 - config_.beta2);
      const double c1 = 1.0 - std::pow(config_.beta1, static_cast<double>(steps_));
      const double c2 = 1.0 - std::pow(config_.beta2, static_cast<double>(steps_));
      const auto step = static_cast<float>(lr / c1);
      const auto eps = static_cast<float>(config_.eps);
      const auto inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(c2));
      for (size_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * w[i];
        m[i] = b1 * m[i] + one_minus_b1 * d;
        v[i] = b2 * v[i] + one_minus_b2 * d * d;
        w[i] -= step * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
      }
    }
  }
}

}  // namespace parzen::mnist
