// Builds a sampler from its per-study configuration.
#ifndef PARZEN_SERVER_SAMPLERS_REGISTRY_H_
#define PARZEN_SERVER_SAMPLERS_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "common/status.h"
#include "server/samplers/sampler.h"

namespace parzen {

enum class SamplerKind { kRandom };

struct SamplerSpec {
  SamplerKind kind = SamplerKind::kRandom;
  // Unset at creation: the core draws one and stores it, so the study can be
  // replayed.
  std::optional<uint64_t> seed;
};

absl::StatusOr<std::unique_ptr<Sampler>> MakeSampler(const SamplerSpec& spec);

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_REGISTRY_H_
