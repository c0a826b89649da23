#include "common/types.h"

namespace parzen {

std::string_view TrialStateName(TrialState s) {
  switch (s) {
    case TrialState::kRunning: return "RUNNING";
    case TrialState::kComplete: return "COMPLETE";
    case TrialState::kPruned: return "PRUNED";
    case TrialState::kFail: return "FAIL";
    case TrialState::kWaiting: return "WAITING";
  }
  return "UNKNOWN";
}

std::optional<TrialState> TrialStateFromName(std::string_view name) {
  for (TrialState s : {TrialState::kRunning, TrialState::kComplete, TrialState::kPruned,
                       TrialState::kFail, TrialState::kWaiting}) {
    if (TrialStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view DirectionName(Direction d) {
  return d == Direction::kMinimize ? "MINIMIZE" : "MAXIMIZE";
}

}  // namespace parzen
