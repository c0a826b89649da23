#include "server/samplers/random_sampler.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <variant>

namespace parzen {
namespace {

// Uniform in [0, 1) with 53 random bits.
double UnitInterval(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace

double SampleUniform(const Distribution& distribution, uint64_t bits) {
  const double u = UnitInterval(bits);
  if (const auto* f = std::get_if<FloatDistribution>(&distribution)) {
    if (f->low == f->high) return f->low;
    if (f->log) {
      const double v = std::exp(std::log(f->low) + u * (std::log(f->high) - std::log(f->low)));
      return std::clamp(v, f->low, f->high);
    }
    if (f->step) {
      // Optuna samples on the grid of (high - low) / step + 1 points.
      const int64_t n = static_cast<int64_t>(std::llround((f->high - f->low) / *f->step)) + 1;
      const int64_t k = std::min<int64_t>(static_cast<int64_t>(u * static_cast<double>(n)), n - 1);
      return std::min(f->low + static_cast<double>(k) * *f->step, f->high);
    }
    return std::min(f->low + u * (f->high - f->low), std::nextafter(f->high, f->low));
  }
  if (const auto* i = std::get_if<IntDistribution>(&distribution)) {
    if (i->low == i->high) return static_cast<double>(i->low);
    if (i->log) {
      // Log-uniform over [low - 0.5, high + 0.5], rounded: Optuna's treatment
      // of int+log as a discretised log-uniform.
      const double lo = std::log(static_cast<double>(i->low) - 0.5);
      const double hi = std::log(static_cast<double>(i->high) + 0.5);
      const double v = std::round(std::exp(lo + u * (hi - lo)));
      return std::clamp(v, static_cast<double>(i->low), static_cast<double>(i->high));
    }
    const int64_t n = (i->high - i->low) / i->step + 1;
    const int64_t k = std::min<int64_t>(static_cast<int64_t>(u * static_cast<double>(n)), n - 1);
    return static_cast<double>(i->low + k * i->step);
  }
  const auto& c = std::get<CategoricalDistribution>(distribution);
  const int64_t n = static_cast<int64_t>(c.choices.size());
  return static_cast<double>(std::min<int64_t>(static_cast<int64_t>(u * static_cast<double>(n)), n - 1));
}

absl::StatusOr<RelativeSample> RandomSampler::SampleRelative(const StudyHistory&,
                                                             const FrozenTrial&,
                                                             const SearchSpace&) const {
  // Random sampling has no joint model: everything goes independent.
  return RelativeSample{};
}

absl::StatusOr<double> RandomSampler::SampleIndependent(const StudyHistory&,
                                                        const FrozenTrial& trial,
                                                        const std::string& name,
                                                        const Distribution& distribution) const {
  uint64_t state = DrawSeed(seed_, trial.number, name);
  return SampleUniform(distribution, SplitMix64(state));
}

Plugin<Sampler> RandomSamplerPlugin() {
  return MakePlugin<Sampler, v1::RandomSamplerConfig>(
      "random",
      [](v1::RandomSamplerConfig& options, uint64_t seed) {
        if (!options.has_seed()) options.set_seed(seed);
        return absl::OkStatus();
      },
      [](const v1::RandomSamplerConfig& options) {
        return std::make_unique<RandomSampler>(options.seed());
      });
}

}  // namespace parzen
