#include "server/pruners/registry.h"

#include "parzen/v1/algorithms.pb.h"
#include "server/pruners/nop_pruner.h"
#include "server/pruners/percentile_pruner.h"

namespace parzen {

PrunerRegistry BuiltinPruners() {
  PrunerRegistry registry("pruner", v1::PrunerConfig::descriptor(), "median");
  AddBuiltin(registry, NopPrunerPlugin());
  AddBuiltin(registry, MedianPrunerPlugin());
  AddBuiltin(registry, PercentilePrunerPlugin());
  return registry;
}

}  // namespace parzen
