// The samplers this server offers.
#ifndef PARZEN_SERVER_SAMPLERS_REGISTRY_H_
#define PARZEN_SERVER_SAMPLERS_REGISTRY_H_

#include "server/plugins/plugin_registry.h"
#include "server/samplers/sampler.h"

namespace parzen {

using SamplerRegistry = PluginRegistry<Sampler>;

// Every sampler Parzen ships, TPE the default for one objective. A server
// or a test may Add() its own before the registry is used.
SamplerRegistry BuiltinSamplers();

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_REGISTRY_H_
