// PercentilePruner: Optuna's PercentilePruner (and MedianPruner, which is the
// same pruner at percentile 50). Immutable after construction; thread-safe.
#ifndef PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_
#define PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_

#include <string>
#include <string_view>
#include <vector>

#include "server/plugins/plugin_registry.h"
#include "server/pruners/pruner.h"

namespace parzen {

// Optuna's PercentilePruner arguments, with its defaults.
struct PercentilePrunerOptions {
  double percentile = 50.0;
  int64_t n_startup_trials = 5;
  int64_t n_warmup_steps = 0;
  int64_t interval_steps = 1;
  int64_t n_min_trials = 1;
};

// The same checks, in the same order, as PercentilePruner.__init__, so a
// configuration Optuna rejects is rejected here too: InvalidArgument naming
// the argument for percentile outside [0, 100], negative n_startup_trials
// or n_warmup_steps, interval_steps < 1 or n_min_trials < 1.
absl::Status ValidatePercentileOptions(const PercentilePrunerOptions& options);

// Prunes a trial whose best intermediate value so far is strictly worse than
// the given percentile of the COMPLETE trials' values at the trial's latest
// step, following optuna/pruners/_percentile.py rule for rule (see the
// "Pruners" section of Optuna's semantics notes), so a study behaves as it
// would under Optuna. Single-objective only: for a study with several
// directions it never prunes.
//
// Stateless apart from its options, so one instance may serve many
// concurrent calls.
class PercentilePruner final : public Pruner {
 public:
  // REQUIRES: ValidatePercentileOptions(options) is OK. `name` is what Name() returns,
  // so a MedianPruner can be told apart in logs and status replies.
  explicit PercentilePruner(PercentilePrunerOptions options, std::string name = "percentile");

  std::string_view Name() const override { return name_; }
  PruneDecision Prune(const StudyHistory& study, const FrozenTrial& trial) const override;

  const PercentilePrunerOptions& options() const { return options_; }

 private:
  bool ShouldPruneTrial(const StudyHistory& study, const FrozenTrial& trial) const;
  // Optuna's _is_first_in_interval_step: true for the first report at or
  // after each pruning step. REQUIRES: step == trial.last_step() and
  // step >= n_warmup_steps.
  bool IsFirstReportInInterval(const FrozenTrial& trial, int64_t step) const;

  const PercentilePrunerOptions options_;
  const std::string name_;
};

// "percentile": v1::PercentilePrunerConfig.
Plugin<Pruner> PercentilePrunerPlugin();
// "median": v1::MedianPrunerConfig, the percentile pruner at 50.
Plugin<Pruner> MedianPrunerPlugin();

namespace internal {

// numpy.nanpercentile(values, percentile) with the default "linear" method
// (numpy 1.24 arithmetic, bit for bit): NaNs are dropped, the result is NaN
// if nothing is left. REQUIRES: percentile in [0, 100].
double NanPercentile(std::vector<double> values, double percentile);

}  // namespace internal

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_PERCENTILE_PRUNER_H_
