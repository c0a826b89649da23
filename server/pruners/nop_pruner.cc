#include "server/pruners/nop_pruner.h"

namespace parzen {

std::string_view NopPruner::Name() const { return "nop"; }

bool NopPruner::ShouldPrune(const StudyHistory& /*study*/, const FrozenTrial& /*trial*/) const {
  return false;
}

}  // namespace parzen
