// The pruners this server offers.
#ifndef PARZEN_SERVER_PRUNERS_REGISTRY_H_
#define PARZEN_SERVER_PRUNERS_REGISTRY_H_

#include "server/plugins/plugin_registry.h"
#include "server/pruners/pruner.h"

namespace parzen {

using PrunerRegistry = PluginRegistry<Pruner>;

// Every pruner Parzen ships, "median" the default (with Optuna's
// defaults). A server or a test may Add() its own before use.
PrunerRegistry BuiltinPruners();

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_REGISTRY_H_
