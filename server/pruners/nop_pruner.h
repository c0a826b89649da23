// NopPruner: the pruner that never prunes (Optuna's NopPruner). Thread-safe.
#ifndef PARZEN_SERVER_PRUNERS_NOP_PRUNER_H_
#define PARZEN_SERVER_PRUNERS_NOP_PRUNER_H_

#include <string_view>

#include "server/plugins/plugin_registry.h"
#include "server/pruners/pruner.h"

namespace parzen {

// For studies that want every trial to run to the end, so the service never
// has to special-case "no pruner". Stateless; safe to share between threads.
class NopPruner final : public Pruner {
 public:
  std::string_view Name() const override;
  // Never prunes.
  PruneDecision Prune(const StudyHistory& study, const FrozenTrial& trial) const override;
};

// "nop": v1::NopPrunerConfig.
Plugin<Pruner> NopPrunerPlugin();

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_NOP_PRUNER_H_
