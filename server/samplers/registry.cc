#include "server/samplers/registry.h"

#include "parzen/v1/algorithms.pb.h"
#include "server/samplers/random_sampler.h"

namespace parzen {

SamplerRegistry BuiltinSamplers() {
  SamplerRegistry registry("sampler", v1::SamplerConfig::descriptor(), "random");
  AddBuiltin(registry, RandomSamplerPlugin());
  return registry;
}

}  // namespace parzen
