#include "server/pruners/registry.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/pruners/nop_pruner.h"
#include "server/pruners/percentile_pruner.h"

namespace parzen {
namespace {

// The same checks, in the same order, as PercentilePruner.__init__, so a
// configuration Optuna rejects is rejected here too.
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

}  // namespace

absl::StatusOr<std::unique_ptr<Pruner>> MakePruner(const PrunerSpec& spec) {
  switch (spec.kind) {
    case PrunerKind::kNop:
      return std::make_unique<NopPruner>();
    case PrunerKind::kMedian: {
      // MedianPruner is PercentilePruner(50); a caller-set percentile is
      // ignored, as MedianPruner has no such argument.
      PercentilePrunerOptions options = spec.options;
      options.percentile = 50.0;
      PARZEN_RETURN_IF_ERROR(ValidatePercentileOptions(options));
      return std::make_unique<PercentilePruner>(options, "median");
    }
    case PrunerKind::kPercentile:
      PARZEN_RETURN_IF_ERROR(ValidatePercentileOptions(spec.options));
      return std::make_unique<PercentilePruner>(spec.options, "percentile");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown pruner kind ", static_cast<int>(spec.kind)));
}

}  // namespace parzen
