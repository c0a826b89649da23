// Builds a pruner from its per-study configuration, validating the
// arguments as Optuna's constructors do.
#ifndef PARZEN_SERVER_PRUNERS_REGISTRY_H_
#define PARZEN_SERVER_PRUNERS_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
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

enum class PrunerKind { kNop, kMedian, kPercentile };

struct PrunerSpec {
  PrunerKind kind = PrunerKind::kMedian;
  PercentilePrunerOptions options;  // ignored for kNop; percentile forced to 50 for kMedian
};

// InvalidArgument (naming the argument) for percentile outside [0, 100],
// negative n_startup_trials or n_warmup_steps, interval_steps < 1 or
// n_min_trials < 1.
absl::StatusOr<std::unique_ptr<Pruner>> MakePruner(const PrunerSpec& spec);

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_REGISTRY_H_
