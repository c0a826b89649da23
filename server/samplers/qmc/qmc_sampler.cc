#include "server/samplers/qmc/qmc_sampler.h"

#include <algorithm>

#include "server/samplers/random_sampler.h"
#include "server/samplers/rng.h"

namespace parzen {

QmcSampler::QmcSampler(const v1::QmcSamplerConfig& options)
    : seed_(options.seed()),
      sequence_(qmc::kMaxSobolDims,
                options.scramble() ? std::optional<uint64_t>(options.seed()) : std::nullopt) {}

absl::StatusOr<RelativeSample> QmcSampler::SampleRelative(const StudyHistory&,
                                                          const FrozenTrial& trial,
                                                          const SearchSpace& space) const {
  RelativeSample out;
  if (space.empty() || trial.number < 0 || trial.number >= (int64_t{1} << qmc::kSobolBits)) {
    return out;
  }
  std::vector<const SearchSpaceEntry*> by_name;
  for (const SearchSpaceEntry& entry : space) by_name.push_back(&entry);
  std::sort(by_name.begin(), by_name.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  const int dims = std::min<int>(static_cast<int>(by_name.size()), qmc::kMaxSobolDims);
  for (int d = 0; d < dims; ++d) {
    // The fraction's bits as the top of a uniform 64-bit word.
    const uint64_t bits = static_cast<uint64_t>(sequence_.Coordinate(trial.number, d))
                          << (64 - qmc::kSobolBits);
    out.params[by_name[d]->name] = SampleUniform(by_name[d]->distribution, bits);
  }
  return out;
}

absl::StatusOr<double> QmcSampler::SampleIndependent(const StudyHistory&, const FrozenTrial& trial,
                                                     const std::string& name,
                                                     const Distribution& distribution) const {
  uint64_t state = DrawSeed(seed_, trial.number, name);
  return SampleUniform(distribution, SplitMix64(state));
}

Plugin<Sampler> QmcSamplerPlugin() {
  return MakePlugin<Sampler, v1::QmcSamplerConfig>(
      "qmc",
      [](v1::QmcSamplerConfig& options, uint64_t seed) -> absl::Status {
        if (!options.has_seed()) options.set_seed(seed);
        if (options.qmc_type() != "sobol") {
          return absl::InvalidArgumentError("qmc_type \"" + options.qmc_type() +
                                            "\" is not offered; sobol is");
        }
        return absl::OkStatus();
      },
      [](const v1::QmcSamplerConfig& options) { return std::make_unique<QmcSampler>(options); });
}

}  // namespace parzen
