// Algorithms: the samplers and pruners a server offers, handed to the core
// at start-up. Read-only once the core has it.
#ifndef PARZEN_SERVER_CORE_ALGORITHMS_H_
#define PARZEN_SERVER_CORE_ALGORITHMS_H_

#include "server/pruners/registry.h"
#include "server/samplers/registry.h"

namespace parzen {

struct Algorithms {
  SamplerRegistry samplers = BuiltinSamplers();
  PrunerRegistry pruners = BuiltinPruners();
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_ALGORITHMS_H_
