// PercentilePruner: Optuna's PercentilePruner (and MedianPruner, which is the
// same pruner at percentile 50). Immutable after construction; thread-safe.
#ifndef PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_
#define PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_

#include <string>
#include <string_view>
#include <vector>

#include "server/pruners/pruner.h"
#include "server/pruners/registry.h"

namespace parzen {

// Prunes a trial whose best intermediate value so far is strictly worse than
// the given percentile of the COMPLETE trials' values at the trial's latest
// step, following optuna/pruners/_percentile.py rule for rule (see the
// "Pruners" section of notes/optuna-semantics.md), so a study behaves as it
// would under Optuna. Single-objective only: for a study with several
// directions it never prunes.
//
// Stateless apart from its options, so one instance may serve many
// concurrent calls.
class PercentilePruner final : public Pruner {
 public:
  // REQUIRES: `options` passed MakePruner's validation (percentile in
  // [0, 100], n_startup_trials >= 0, n_warmup_steps >= 0,
  // interval_steps >= 1, n_min_trials >= 1). `name` is what Name() returns,
  // so a MedianPruner can be told apart in logs and status replies.
  explicit PercentilePruner(PercentilePrunerOptions options, std::string name = "percentile");

  std::string_view Name() const override { return name_; }
  bool ShouldPrune(const StudyHistory& study, const FrozenTrial& trial) const override;

  const PercentilePrunerOptions& options() const { return options_; }

 private:
  // Optuna's _is_first_in_interval_step: true for the first report at or
  // after each pruning step. REQUIRES: step == trial.last_step() and
  // step >= n_warmup_steps.
  bool IsFirstReportInInterval(const FrozenTrial& trial, int64_t step) const;

  const PercentilePrunerOptions options_;
  const std::string name_;
};

namespace internal {

// numpy.nanpercentile(values, percentile) with the default "linear" method
// (numpy 1.24 arithmetic, bit for bit): NaNs are dropped, the result is NaN
// if nothing is left. REQUIRES: percentile in [0, 100].
double NanPercentile(std::vector<double> values, double percentile);

}  // namespace internal

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_
