// ParetoFront: the COMPLETE trials no other COMPLETE trial dominates —
// Optuna's study.best_trials. For one objective, every trial tied at the
// best value. Kept up to date one trial at a time: a finished trial never
// changes, so a trial dominated once stays dominated.
#ifndef PARZEN_SERVER_CORE_PARETO_FRONT_H_
#define PARZEN_SERVER_CORE_PARETO_FRONT_H_

#include <cstdint>
#include <map>
#include <vector>

#include "common/types.h"

namespace parzen {

// Thread-compatible.
class ParetoFront {
 public:
  explicit ParetoFront(std::vector<Direction> directions) : directions_(std::move(directions)) {}

  // A COMPLETE trial's values (one per direction). O(distinct values on
  // the front): ties, however many, cost one lookup (with one objective
  // the front is a single value).
  void Add(int64_t number, const std::vector<double>& values);
  // In trial number order.
  std::vector<int64_t> numbers() const;

 private:
  std::vector<Direction> directions_;
  // Distinct values on the front -> the trials holding them, in order.
  std::map<std::vector<double>, std::vector<int64_t>> members_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_PARETO_FRONT_H_
