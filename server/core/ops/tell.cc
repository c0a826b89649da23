#include "server/core/ops/tell.h"

#include <algorithm>
#include <cmath>

#include <spdlog/fmt/fmt.h>

#include "common/client_text.h"
#include "server/core/limits.h"

namespace parzen::ops {
namespace {

// NaN-aware equality, so a retried Tell with the same (even NaN) values
// counts as identical.
bool SameValues(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (a[i] != b[i]) return false;
  }
  return true;
}

absl::Status CheckRequest(const Study& study, TrialState state, const std::vector<double>& values,
                          const std::string& fail_reason) {
  const size_t n_objectives = study.config().directions.size();
  if (state == TrialState::kComplete && values.size() != n_objectives) {
    return absl::InvalidArgumentError("COMPLETE needs " + std::to_string(n_objectives) +
                                      " value(s) for study '" + study.name() + "', got " +
                                      std::to_string(values.size()));
  }
  if ((state == TrialState::kPruned || state == TrialState::kFail) && !values.empty()) {
    return absl::InvalidArgumentError(
        std::string(TrialStateName(state)) +
        " takes no values (a PRUNED trial's value is its last intermediate value)");
  }
  if (state != TrialState::kComplete && state != TrialState::kPruned &&
      state != TrialState::kFail) {
    return absl::InvalidArgumentError("Tell takes COMPLETE, PRUNED or FAIL, not " +
                                      std::string(TrialStateName(state)));
  }
  if (fail_reason.size() > kMaxFailReasonLength) {
    return absl::InvalidArgumentError("fail_reason is longer than " +
                                      std::to_string(kMaxFailReasonLength) + " bytes");
  }
  return absl::OkStatus();
}

// What would be stored, so a repeat can be recognised as identical.
FrozenTrial Outcome(const FrozenTrial& trial, TrialState state, const std::vector<double>& values,
                    const std::string& fail_reason, std::string& message) {
  FrozenTrial outcome;
  outcome.state = state;
  if (state == TrialState::kComplete) {
    outcome.values = values;
    if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
      outcome.state = TrialState::kFail;
      outcome.values.clear();
      outcome.fail_reason = "objective value is NaN";
      message = "the objective value is NaN, so the trial was recorded as FAIL";
    }
  } else if (state == TrialState::kPruned) {
    if (auto last = trial.last_step()) {
      const double v = trial.intermediate_values.at(*last);
      if (!std::isnan(v)) outcome.values = {v};
    }
  } else {
    outcome.fail_reason = fail_reason;
  }
  return outcome;
}

}  // namespace

absl::StatusOr<Written<TellOutcome>> Tell(Study& study, int64_t number, TrialState state,
                                          const std::vector<double>& values,
                                          const std::string& fail_reason) {
  PARZEN_RETURN_IF_ERROR(CheckRequest(study, state, values, fail_reason));
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.Find(number));
  std::string message;
  FrozenTrial outcome = Outcome(*trial, state, values, fail_reason, message);
  if (IsFinished(trial->state)) {
    if (trial->state == outcome.state && SameValues(trial->values, outcome.values) &&
        (outcome.state != TrialState::kFail || trial->fail_reason == outcome.fail_reason)) {
      // The first Tell may still be committing: answer once it is durable.
      return Written<TellOutcome>{{*trial, "trial was already told this; nothing changed"},
                                  study.last_ticket()};
    }
    return absl::FailedPreconditionError("cannot tell " + std::string(TrialStateName(state)) +
                                         ": " + study.TrialLabel(number) + " is already " +
                                         DescribeOutcome(*trial));
  }
  if (trial->state == TrialState::kWaiting) {
    return absl::FailedPreconditionError("cannot tell: " + study.TrialLabel(number) +
                                         " has not been started by Ask");
  }
  study.Finish(number, outcome.state, std::move(outcome.values), std::move(outcome.fail_reason));
  const FrozenTrial& told = study.trial(number);
  const Storage::Ticket ticket = study.Publish(mutation::UpdateTrial{told}, number);
  study.LogWhenDurable(ticket, spdlog::level::info,
                       fmt::format("study '{}': trial {} {}", EscapeForLog(study.name()), number,
                                   EscapeForLog(DescribeOutcome(told), 1024)));
  return Written<TellOutcome>{{told, message}, ticket};
}

}  // namespace parzen::ops
