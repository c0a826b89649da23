#include "server/core/ops/report.h"

#include <spdlog/spdlog.h>

#include "server/core/limits.h"
#include "common/client_text.h"

namespace parzen::ops {
namespace {

// Stores the value; the snapshot for the pruner comes back.
absl::StatusOr<std::shared_ptr<const History>> StoreReport(Study& study, int64_t number,
                                                           int64_t step, double value,
                                                           Written<ReportOutcome>& out) {
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.FindRunning(number, "report"));
  if (study.config().directions.size() > 1) {
    return absl::FailedPreconditionError(
        "intermediate values and pruning are not supported for multi-objective studies ('" +
        study.name() + "' has " + std::to_string(study.config().directions.size()) +
        " objectives)");
  }
  const auto& values = trial->intermediate_values;
  if (values.size() >= kMaxIntermediateValues && !values.contains(step)) {
    return absl::ResourceExhaustedError(
        study.TrialLabel(number) + " already holds " + std::to_string(values.size()) +
        " intermediate values; the limit is " + std::to_string(kMaxIntermediateValues) +
        " (report every few steps instead)");
  }
  study.Beat(number);
  if (values.contains(step)) {
    // Optuna keeps the first value reported for a step and warns.
    out.value.duplicate_step = true;
    out.ticket = study.last_ticket();
    spdlog::warn("study '{}': trial {} reported step {} again; keeping the first value",
                 EscapeForLog(study.name()), number, step);
  } else {
    const TrialId id = trial->trial_id;
    study.AddIntermediate(number, step, value);
    out.ticket = study.Publish(mutation::InsertIntermediate{id, step, value}, number);
  }
  return study.Snapshot();
}

}  // namespace

absl::StatusOr<Written<ReportOutcome>> Report(Study& study, int64_t number, int64_t step,
                                              double value) {
  if (step < 0) {
    return absl::InvalidArgumentError("step must be >= 0, got " + std::to_string(step));
  }
  Written<ReportOutcome> out;
  PARZEN_ASSIGN_OR_RETURN(std::shared_ptr<const History> history,
                          StoreReport(study, number, step, value, out));
  PruneDecision decision = study.pruner().Prune(*history, history->trial(number));
  history.reset();
  out.value.should_prune = decision.prune;
  if (decision.system_attrs.empty()) return out;
  absl::MutexLock lock(&study.mu());
  // The trial may have finished meanwhile: what the pruner wanted kept
  // mattered only while it ran.
  if (!study.FindRunning(number, "record").ok()) return out;
  std::vector<Mutation> changes;
  const TrialId id = study.trial(number).trial_id;
  for (auto& [key, json] : decision.system_attrs) {
    changes.push_back(mutation::SetTrialSystemAttr{id, key, json});
    study.SetSystemAttr(number, key, std::move(json));
  }
  out.ticket = study.Publish(std::move(changes), number);
  return out;
}

}  // namespace parzen::ops
