#include "server/samplers/registry.h"

#include "server/samplers/random_sampler.h"

namespace parzen {

absl::StatusOr<std::unique_ptr<Sampler>> MakeSampler(const SamplerSpec& spec) {
  switch (spec.kind) {
    case SamplerKind::kRandom:
      return std::make_unique<RandomSampler>(spec.seed.value_or(0));
  }
  return absl::InvalidArgumentError("unknown sampler kind");
}

}  // namespace parzen
