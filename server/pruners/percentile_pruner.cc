#include "server/pruners/percentile_pruner.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "parzen/v1/algorithms.pb.h"

namespace parzen {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Optuna's _get_best_intermediate_result_over_steps: nanmin / nanmax over
// every reported value, not just the latest, so a trial is judged by the best
// it has shown. NaN only if every value is NaN.
double BestIntermediateValue(const FrozenTrial& trial, Direction direction) {
  double best = kNaN;
  for (const auto& [step, value] : trial.intermediate_values) {
    if (std::isnan(value)) continue;
    if (std::isnan(best) || IsBetter(direction, value, best)) best = value;
  }
  return best;
}

// numpy's _lerp. The two-sided form (interpolating back from `b` when
// t >= 0.5) changes the last bits of the result, and with infinite inputs
// (inf - inf, inf * 0) it yields NaN; both are kept so that thresholds, and
// hence decisions near a tie, match Optuna's exactly.
double NumpyLerp(double a, double b, double t) {
  const double diff_b_a = b - a;
  return t >= 0.5 ? b - diff_b_a * (1 - t) : a + diff_b_a * t;
}

}  // namespace

namespace internal {

double NanPercentile(std::vector<double> values, double percentile) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());

  // Mirrors numpy's _quantile / _get_indexes / _get_gamma for method
  // "linear", including its quirk of measuring gamma from index -1 when the
  // virtual index is at or past the last element.
  const double q = percentile / 100.0;
  const std::size_t n = values.size();
  const double virtual_index = static_cast<double>(n - 1) * q;
  std::size_t previous = n - 1;
  std::size_t next = n - 1;
  double previous_index = -1;
  if (virtual_index < static_cast<double>(n - 1)) {
    previous_index = std::floor(virtual_index);
    previous = static_cast<std::size_t>(previous_index);
    next = previous + 1;
  }
  const double gamma = virtual_index - previous_index;
  return NumpyLerp(values[previous], values[next], gamma);
}

}  // namespace internal

PercentilePruner::PercentilePruner(PercentilePrunerOptions options, std::string name)
    : options_(std::move(options)), name_(std::move(name)) {}

bool PercentilePruner::IsFirstReportInInterval(const FrozenTrial& trial, int64_t step) const {
  const int64_t warmup = options_.n_warmup_steps;
  const int64_t interval = options_.interval_steps;
  // step >= warmup, so integer division is floor division as in Python.
  const int64_t latest_pruning_step = (step - warmup) / interval * interval + warmup;
  // `step` is the largest key, so the previous report is the second largest.
  if (trial.intermediate_values.size() < 2) return true;
  const int64_t previous_step = std::prev(trial.intermediate_values.end(), 2)->first;
  return previous_step < latest_pruning_step;
}

PruneDecision PercentilePruner::Prune(const StudyHistory& study, const FrozenTrial& trial) const {
  PruneDecision decision;
  decision.prune = ShouldPruneTrial(study, trial);
  return decision;
}

bool PercentilePruner::ShouldPruneTrial(const StudyHistory& study, const FrozenTrial& trial) const {
  // Optuna 3.x fails and 4.x looks at the first objective only; the service
  // rejects reports in multi-objective studies, so never pruning is the safe
  // answer if one gets here anyway.
  if (study.directions().size() != 1) return false;
  const Direction direction = study.directions()[0];

  // Only COMPLETE trials count, for the start-up rule as for the reference
  // values: PRUNED trials stopped early and would drag the bar down.
  const int64_t n_complete = study.num_complete();
  if (n_complete == 0 || n_complete < options_.n_startup_trials) return false;

  const std::optional<int64_t> step = trial.last_step();
  if (!step.has_value() || *step < options_.n_warmup_steps) return false;
  if (!IsFirstReportInInterval(trial, *step)) return false;

  // Checked before the reference values on purpose (Optuna's order): a trial
  // that has only produced NaN is pruned even when nothing compares to it.
  const double best = BestIntermediateValue(trial, direction);
  if (std::isnan(best)) return true;

  // n_min_trials counts the trials that reported this step, NaN or not, as
  // Optuna does before numpy drops the NaNs.
  std::vector<double> reference = study.CompletedValuesAt(*step);
  if (static_cast<int64_t>(reference.size()) < options_.n_min_trials) return false;

  // For maximize the bar is mirrored so that `percentile` keeps meaning "the
  // worst percent of trials get pruned".
  const double percentile =
      direction == Direction::kMaximize ? 100 - options_.percentile : options_.percentile;
  const double threshold = internal::NanPercentile(std::move(reference), percentile);
  if (std::isnan(threshold)) return false;

  // Strict: a trial exactly at the bar survives.
  return IsBetter(direction, threshold, best);
}

absl::Status ValidatePercentileOptions(const PercentilePrunerOptions& o) {
  // Written as a negated range test so that NaN is rejected as well.
  if (!(o.percentile >= 0.0 && o.percentile <= 100.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("percentile must be between 0 and 100 inclusive, got ", o.percentile));
  }
  if (o.n_startup_trials < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "n_startup_trials must be >= 0 (0 prunes from the first completed trial), got ",
        o.n_startup_trials));
  }
  if (o.n_warmup_steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "n_warmup_steps must be >= 0 (0 allows pruning from step 0), got ", o.n_warmup_steps));
  }
  if (o.interval_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "interval_steps must be >= 1 (1 checks at every step), got ", o.interval_steps));
  }
  if (o.n_min_trials < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("n_min_trials must be >= 1, got ", o.n_min_trials));
  }
  return absl::OkStatus();
}


template <typename Config>
PercentilePrunerOptions OptionsFrom(double percentile, const Config& c) {
  return {.percentile = percentile,
          .n_startup_trials = c.n_startup_trials(),
          .n_warmup_steps = c.n_warmup_steps(),
          .interval_steps = c.interval_steps(),
          .n_min_trials = c.n_min_trials()};
}

Plugin<Pruner> PercentilePrunerPlugin() {
  return MakePlugin<Pruner, v1::PercentilePrunerConfig>(
      "percentile",
      [](v1::PercentilePrunerConfig& c, uint64_t) {
        return ValidatePercentileOptions(OptionsFrom(c.percentile(), c));
      },
      [](const v1::PercentilePrunerConfig& c) {
        return std::make_unique<PercentilePruner>(OptionsFrom(c.percentile(), c), "percentile");
      });
}

Plugin<Pruner> MedianPrunerPlugin() {
  return MakePlugin<Pruner, v1::MedianPrunerConfig>(
      "median",
      [](v1::MedianPrunerConfig& c, uint64_t) {
        return ValidatePercentileOptions(OptionsFrom(50.0, c));
      },
      [](const v1::MedianPrunerConfig& c) {
        return std::make_unique<PercentilePruner>(OptionsFrom(50.0, c), "median");
      });
}

}  // namespace parzen
