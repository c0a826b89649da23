#include "server/samplers/registry.h"

#include "parzen/v1/algorithms.pb.h"
#include "server/samplers/cmaes/cmaes_sampler.h"
#include "server/samplers/grid_sampler.h"
#include "server/samplers/nsga2/nsga2_sampler.h"
#include "server/samplers/qmc/qmc_sampler.h"
#include "server/samplers/random_sampler.h"
#include "server/samplers/tpe/tpe_sampler.h"

namespace parzen {

SamplerRegistry BuiltinSamplers() {
  // Optuna's defaults: TPE for one objective, NSGA-II for several.
  SamplerRegistry registry("sampler", v1::SamplerConfig::descriptor(), [](size_t n_objectives) {
    return n_objectives == 1 ? "tpe" : "nsga2";
  });
  AddBuiltin(registry, RandomSamplerPlugin());
  AddBuiltin(registry, TpeSamplerPlugin());
  AddBuiltin(registry, GridSamplerPlugin());
  AddBuiltin(registry, CmaEsSamplerPlugin());
  AddBuiltin(registry, Nsga2SamplerPlugin());
  AddBuiltin(registry, QmcSamplerPlugin());
  return registry;
}

}  // namespace parzen
