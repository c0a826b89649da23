// RandomSampler: independent uniform (log-uniform) sampling, as Optuna's.
#ifndef PARZEN_SERVER_SAMPLERS_RANDOM_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_RANDOM_SAMPLER_H_

#include <cstdint>

#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/rng.h"
#include "server/samplers/sampler.h"

namespace parzen {

// Draws every value from an RNG seeded by (study seed, trial number,
// parameter name), so concurrent Asks never share state and a replay with
// the same seed gives the same values. Thread-safe.
class RandomSampler final : public Sampler {
 public:
  explicit RandomSampler(uint64_t seed) : seed_(seed) {}
  std::string_view Name() const override { return "random"; }
  absl::StatusOr<RelativeSample> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const override;
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;

 private:
  const uint64_t seed_;
};

// "random": v1::RandomSamplerConfig, the seed drawn at creation when unset.
Plugin<Sampler> RandomSamplerPlugin();

// A value drawn uniformly from `distribution` (log-uniformly when log),
// using `bits` (a uniform 64-bit word) as the randomness. Shared with
// samplers that fall back to random sampling.
double SampleUniform(const Distribution& distribution, uint64_t bits);


}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_RANDOM_SAMPLER_H_
