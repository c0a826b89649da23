#include "server/pruners/nop_pruner.h"

#include "parzen/v1/algorithms.pb.h"

namespace parzen {

std::string_view NopPruner::Name() const { return "nop"; }

PruneDecision NopPruner::Prune(const StudyHistory& /*study*/, const FrozenTrial& /*trial*/) const {
  return {};
}

Plugin<Pruner> NopPrunerPlugin() {
  return MakePlugin<Pruner, v1::NopPrunerConfig>(
      "nop", [](v1::NopPrunerConfig&, uint64_t) { return absl::OkStatus(); },
      [](const v1::NopPrunerConfig&) { return std::make_unique<NopPruner>(); });
}

}  // namespace parzen
