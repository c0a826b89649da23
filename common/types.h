// Small value types shared by server and clients: ids, trial states,
// optimisation directions. Plain values; thread-compatible.
#ifndef PARZEN_COMMON_TYPES_H_
#define PARZEN_COMMON_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace parzen {

using StudyId = int64_t;
using TrialId = int64_t;

// Optuna's TrialState. Finished states (COMPLETE, PRUNED, FAIL) never change.
enum class TrialState { kRunning, kComplete, kPruned, kFail, kWaiting };

enum class Direction { kMinimize, kMaximize };

inline bool IsFinished(TrialState s) {
  return s == TrialState::kComplete || s == TrialState::kPruned || s == TrialState::kFail;
}

std::string_view TrialStateName(TrialState s);
std::optional<TrialState> TrialStateFromName(std::string_view name);
std::string_view DirectionName(Direction d);

// True when `a` is strictly better than `b` in direction `d`.
inline bool IsBetter(Direction d, double a, double b) {
  return d == Direction::kMinimize ? a < b : a > b;
}

}  // namespace parzen

#endif  // PARZEN_COMMON_TYPES_H_
