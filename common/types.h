// Small value types shared by server and clients: ids, trial states,
// optimisation directions. Plain values; thread-compatible.
#ifndef PARZEN_COMMON_TYPES_H_
#define PARZEN_COMMON_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

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

// Optuna's dominance: `a` dominates `b` when it is no worse in every
// objective and the two differ (equal values dominate neither way). Both
// must hold one value per direction.
inline bool Dominates(const std::vector<Direction>& directions, const std::vector<double>& a,
                      const std::vector<double>& b) {
  if (a == b) return false;
  for (size_t i = 0; i < directions.size(); ++i) {
    if (IsBetter(directions[i], b[i], a[i])) return false;
  }
  return true;
}

}  // namespace parzen

#endif  // PARZEN_COMMON_TYPES_H_
