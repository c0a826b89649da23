#include "server/core/study_state.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <variant>

#include <spdlog/spdlog.h>

#include "server/core/limits.h"

namespace parzen {
namespace {

// Beyond this, a study would be a place to store data, not to tune with.
constexpr int64_t kMaxEnqueuedInt = int64_t{1} << 53;  // exact as a double

// Optuna's validation, our size bound, and the parameter's name on errors.
absl::StatusOr<Distribution> ValidateParam(const std::string& name, const Distribution& d) {
  absl::StatusOr<Distribution> valid = ValidateDistribution(d);
  absl::Status status = valid.ok() ? CheckChoicesSize(*valid) : valid.status();
  if (!status.ok()) {
    return absl::InvalidArgumentError("parameter '" + name + "': " + std::string(status.message()));
  }
  return valid;
}

// A live watch event's copy of a trial: the whole step history would make
// a watched trial of n reports cost O(n^2) to copy (under the study lock)
// and to send; watchers have the history from the snapshot and add each
// new step. Copied field by field so the history is never copied at all;
// the structured binding stops compiling when FrozenTrial gains a field,
// so none is ever left out. `step`: the one to keep; nullopt: the largest.
FrozenTrial WithOneStep(const FrozenTrial& t, std::optional<int64_t> step) {
  const auto& [trial_id, study_id, number, state, values, params, history, user_attrs,
               fixed_params, start_time_us, complete_time_us, fail_reason, retry_of, retry_count,
               worker_id, ask_request_id] = t;
  // Designators must follow the declaration order, so reordering two
  // fields of one type breaks the build instead of swapping their values.
  FrozenTrial out{.trial_id = trial_id,
                  .study_id = study_id,
                  .number = number,
                  .state = state,
                  .values = values,
                  .params = params,
                  .intermediate_values = {},
                  .user_attrs = user_attrs,
                  .fixed_params = fixed_params,
                  .start_time_us = start_time_us,
                  .complete_time_us = complete_time_us,
                  .fail_reason = fail_reason,
                  .retry_of = retry_of,
                  .retry_count = retry_count,
                  .worker_id = worker_id,
                  .ask_request_id = ask_request_id};
  if (step) {
    if (auto it = history.find(*step); it != history.end()) out.intermediate_values.insert(*it);
  } else if (!history.empty()) {
    out.intermediate_values.insert(*history.rbegin());
  }
  return out;
}

std::string TrialLabel(const std::string& study, int64_t number) {
  return "trial " + std::to_string(number) + " of study '" + study + "'";
}

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

std::string FormatValues(const std::vector<double>& values) {
  std::string out;
  for (double v : values) {
    if (!out.empty()) out += ", ";
    out += FormatValue(ParamValue(v));
  }
  return out;
}

std::string DescribeOutcome(const FrozenTrial& t) {
  std::string s(TrialStateName(t.state));
  if (!t.values.empty()) s += " with value " + FormatValues(t.values);
  if (!t.fail_reason.empty()) s += " (" + t.fail_reason + ")";
  return s;
}

}  // namespace

StudyState::StudyState(StudyRecord record, StudyConfig config, std::unique_ptr<Sampler> sampler,
                       std::unique_ptr<Pruner> pruner, Storage* storage, const Clock* clock,
                       std::vector<FrozenTrial> trials)
    : record_(std::move(record)),
      config_(std::move(config)),
      sampler_(std::move(sampler)),
      pruner_(std::move(pruner)),
      storage_(storage),
      clock_(clock),
      trials_(std::move(trials)),
      front_(config_.directions) {
  const int64_t now = clock_->SteadyMicros();
  for (const FrozenTrial& t : trials_) {
    IndexLoadedTrial(t);
    // A restart gives every running trial a fresh lease: its worker may
    // still be alive and beating.
    if (t.state == TrialState::kRunning) last_beat_us_[t.number] = now;
    if (t.state == TrialState::kRunning && !t.ask_request_id.empty()) {
      running_by_request_[t.ask_request_id] = t.number;
      request_of_running_[t.number] = t.ask_request_id;
    }
  }
}

void StudyState::IndexLoadedTrial(const FrozenTrial& t) {
  ++counts_[t.state];
  if (t.state == TrialState::kWaiting) waiting_.push_back(t.number);
  for (const TrialParam& p : t.params) known_.try_emplace(p.name, p.distribution);
  if (t.state == TrialState::kComplete) {
    for (const auto& [step, value] : t.intermediate_values) {
      completed_by_step_[step].push_back(value);
    }
    // Trials load in number order, not the order they completed: a tie
    // goes to the one that completed first, as it did while the server ran.
    if (config_.directions.size() == 1 && !t.values.empty()) {
      const FrozenTrial* best = best_ ? &trials_[*best_] : nullptr;
      if (best == nullptr || IsBetter(config_.directions[0], t.values[0], best->values[0]) ||
          (t.values[0] == best->values[0] && t.complete_time_us < best->complete_time_us)) {
        best_ = t.number;
      }
    }
    front_.Add(t.number, t.values);
  }
}

int64_t StudyState::num_complete() const {
  auto it = counts_.find(TrialState::kComplete);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<double> StudyState::CompletedValuesAt(int64_t step) const {
  auto it = completed_by_step_.find(step);
  return it == completed_by_step_.end() ? std::vector<double>{} : it->second;
}

StudySnapshot StudyState::Snapshot(bool with_best_trials) const {
  std::lock_guard lock(mu_);
  StudySnapshot s{record_, config_, {}};
  s.summary.n_trials = static_cast<int64_t>(trials_.size());
  s.summary.counts = counts_;
  if (best_) s.summary.best_trial = trials_[*best_];
  if (with_best_trials) {
    for (int64_t number : front_.numbers()) s.summary.best_trials.push_back(trials_[number]);
  }
  return s;
}

absl::StatusOr<Written<bool>> StudyState::SetUserAttr(const std::string& key,
                                                      const std::string& value_json) {
  std::lock_guard lock(mu_);
  if (deleted_) return absl::NotFoundError("study '" + record_.name + "' was deleted");
  PARZEN_RETURN_IF_ERROR(ValidateUserAttr(key, value_json));
  if (record_.user_attrs.size() >= kMaxUserAttrs && !record_.user_attrs.contains(key)) {
    return absl::ResourceExhaustedError("study '" + record_.name + "' already has " +
                                        std::to_string(record_.user_attrs.size()) +
                                        " user attributes; the limit is 1024");
  }
  record_.user_attrs[key] = value_json;
  // One row, not the whole record (up to 1,024 attributes of 64 KiB).
  // Submitted under the lock, so it cannot land after the study's deletion.
  last_ticket_ =
      storage_->Submit(mutation::SetStudyUserAttr{record_.study_id, key, value_json});
  return Written<bool>{true, last_ticket_};
}

absl::StatusOr<FrozenTrial*> StudyState::FindLocked(int64_t number) {
  if (deleted_) return absl::NotFoundError("study '" + record_.name + "' was deleted");
  if (number < 0 || number >= static_cast<int64_t>(trials_.size())) {
    return absl::NotFoundError(TrialLabel(record_.name, number) + " does not exist");
  }
  return &trials_[number];
}

absl::StatusOr<FrozenTrial*> StudyState::FindRunningLocked(int64_t number, const char* action) {
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * t, FindLocked(number));
  if (t->state == TrialState::kRunning) return t;
  std::string why = t->state == TrialState::kWaiting ? "has not been started by Ask"
                                                     : "is already " + DescribeOutcome(*t);
  return absl::FailedPreconditionError("cannot " + std::string(action) + ": " +
                                       TrialLabel(record_.name, number) + " " + why);
}

absl::Status StudyState::CheckKnownDistribution(const std::string& name,
                                                const Distribution& d) const {
  auto it = known_.find(name);
  if (it == known_.end()) return absl::OkStatus();
  absl::Status s = CheckCompatible(it->second, d);
  if (s.ok()) return s;
  return absl::InvalidArgumentError("parameter '" + name + "' was used in study '" +
                                    record_.name + "' as " + FormatDistribution(it->second) +
                                    "; " + std::string(s.message()));
}

absl::StatusOr<double> StudyState::FixedInternal(const FrozenTrial& trial,
                                                 const std::string& name,
                                                 const Distribution& d) const {
  const ParamValue& value = trial.fixed_params.at(name);
  absl::StatusOr<double> internal = ToInternal(d, value);
  if (internal.ok()) return internal;
  return absl::InvalidArgumentError("enqueued value " + FormatValue(value) + " for '" + name +
                                    "' of " + TrialLabel(record_.name, trial.number) +
                                    " does not fit " + FormatDistribution(d) + ": " +
                                    std::string(internal.status().message()));
}

absl::StatusOr<double> StudyState::SampleOne(const FrozenTrial& trial, const std::string& name,
                                             const Distribution& d,
                                             const std::map<std::string, double>& relative) {
  if (auto fixed = trial.fixed_params.find(name); fixed != trial.fixed_params.end()) {
    PARZEN_ASSIGN_OR_RETURN(double internal, FixedInternal(trial, name, d));
    if (!Contains(d, internal)) {
      // Optuna uses an out-of-range enqueued value too, with a warning.
      spdlog::warn("{}: enqueued value {} for '{}' lies outside {}; using it anyway",
                   TrialLabel(record_.name, trial.number), FormatValue(fixed->second), name,
                   FormatDistribution(d));
    }
    return internal;
  }
  if (IsSingle(d)) {
    // The one value: low for numbers, the only choice (index 0) otherwise.
    if (const auto* f = std::get_if<FloatDistribution>(&d)) return f->low;
    if (const auto* i = std::get_if<IntDistribution>(&d)) return static_cast<double>(i->low);
    return 0.0;
  }
  if (auto it = relative.find(name); it != relative.end() && Contains(d, it->second)) {
    return it->second;
  }
  PARZEN_ASSIGN_OR_RETURN(double v, sampler_->SampleIndependent(*this, trial, name, d));
  if (!Contains(d, v)) {
    return absl::InternalError("sampler " + std::string(sampler_->Name()) + " returned " +
                               std::to_string(v) + " outside " + FormatDistribution(d));
  }
  return v;
}

void StudyState::AddParamLocked(FrozenTrial& trial, TrialParam param) {
  known_.try_emplace(param.name, param.distribution);
  trial.fixed_params.erase(param.name);
  trial.params.push_back(std::move(param));
}

void StudyState::SetStateLocked(FrozenTrial& trial, TrialState state) {
  --counts_[trial.state];
  ++counts_[state];
  trial.state = state;
}

Storage::Ticket StudyState::SubmitLocked(Mutation m, const FrozenTrial& changed) {
  // A report's event carries the step just reported, which need not be
  // the largest one.
  std::optional<int64_t> reported;
  if (const auto* report = std::get_if<mutation::InsertIntermediate>(&m)) reported = report->step;
  const Storage::Ticket ticket = storage_->Submit(std::move(m));
  last_ticket_ = ticket;
  if (!watchers_.empty()) {
    std::erase_if(watchers_, [](const std::weak_ptr<WatchQueue>& w) { return w.expired(); });
    const FrozenTrial event = WithOneStep(changed, reported);
    for (const auto& w : watchers_) {
      if (auto q = w.lock()) q->Push(TrialEvent{.ticket = ticket, .trial = event});
    }
  }
  return ticket;
}

absl::StatusOr<Written<FrozenTrial>> StudyState::Ask(const SearchSpace& space,
                                                     const std::string& worker_id,
                                                     const std::string& request_id) {
  std::lock_guard lock(mu_);
  if (deleted_) return absl::NotFoundError("study '" + record_.name + "' was deleted");
  // A retry is answered before the budget check: the first attempt may
  // have taken the last slot.
  if (auto it = running_by_request_.find(request_id);
      !request_id.empty() && it != running_by_request_.end()) {
    FrozenTrial& started = trials_[it->second];
    if (started.worker_id != worker_id) {
      return absl::FailedPreconditionError("request_id '" + request_id + "' belongs to an Ask of " +
                                           (started.worker_id.empty() ? std::string("no worker id")
                                                                      : "worker " + started.worker_id));
    }
    // A retry repeats its request; another search space under the same id
    // is a client bug that would otherwise go unnoticed.
    for (const auto& [name, d] : space) {
      absl::StatusOr<Distribution> valid = ValidateParam(name, d);
      const TrialParam* had = started.FindParam(name);
      if (!valid.ok() || had == nullptr || had->distribution != *valid) {
        return absl::InvalidArgumentError(
            "request_id '" + request_id + "' was first used by an Ask with another search space "
            "(parameter '" + name + "' differs); a new Ask needs a new request_id");
      }
    }
    // Nobody can have suggested into the trial before hearing of it, so
    // whatever it holds came from the first Ask's space.
    for (const TrialParam& had : started.params) {
      if (std::none_of(space.begin(), space.end(),
                       [&](const auto& entry) { return entry.name == had.name; })) {
        return absl::InvalidArgumentError(
            "request_id '" + request_id + "' was first used by an Ask with another search space "
            "(parameter '" + had.name + "' is missing); a new Ask needs a new request_id");
      }
    }
    last_beat_us_[started.number] = clock_->SteadyMicros();
    spdlog::info("study '{}': trial {} handed out again to a repeated Ask", record_.name,
                 started.number);
    return Written<FrozenTrial>{started, last_ticket_};
  }
  if (space.size() > kMaxParamsPerTrial) {
    return absl::InvalidArgumentError("search space has " + std::to_string(space.size()) +
                                      " parameters; the limit is " +
                                      std::to_string(kMaxParamsPerTrial));
  }
  SearchSpace normalized;
  std::set<std::string> names;
  for (const auto& [name, d] : space) {
    PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError("parameter '" + name + "' appears twice in the search space");
    }
    PARZEN_ASSIGN_OR_RETURN(Distribution valid, ValidateParam(name, d));
    PARZEN_RETURN_IF_ERROR(CheckKnownDistribution(name, valid));
    normalized.push_back({name, std::move(valid)});
  }
  if (config_.max_trials > 0) {
    const int64_t used = counts_[TrialState::kRunning] + counts_[TrialState::kComplete] +
                         counts_[TrialState::kPruned];
    if (used >= config_.max_trials) {
      return absl::OutOfRangeError("study budget reached: study '" + record_.name + "' has " +
                                   std::to_string(used) + " of its max_trials " +
                                   std::to_string(config_.max_trials) +
                                   " trials running or finished");
    }
  }

  // An enqueued trial whose fixed value does not fit the distribution it
  // is asked with fails, as the objective's suggest fails it in Optuna,
  // and the next one is handed out; a queue never jams on a bad entry.
  while (!waiting_.empty()) {
    FrozenTrial& queued = trials_[waiting_.front()];
    absl::Status fits = absl::OkStatus();
    for (const auto& [name, d] : normalized) {
      if (!queued.fixed_params.contains(name)) continue;
      fits = FixedInternal(queued, name, d).status();
      if (!fits.ok()) break;
    }
    if (fits.ok()) break;
    waiting_.pop_front();
    queued.start_time_us = clock_->NowMicros();
    queued.worker_id = worker_id;
    queued.fail_reason = std::string(fits.message());
    SetStateLocked(queued, TrialState::kFail);
    FinishLocked(queued);
    SubmitLocked(mutation::UpdateTrial{queued}, queued);
    spdlog::warn("study '{}': trial {} FAIL: {}", record_.name, queued.number, queued.fail_reason);
  }

  // Build the trial aside and sample into it; from here on nothing in the
  // study changes until every step has succeeded (queued trials failed
  // above stay failed: their values were wrong whatever happens next).
  const bool from_queue = !waiting_.empty();
  FrozenTrial trial;
  if (from_queue) {
    trial = trials_[waiting_.front()];
  } else {
    trial.number = static_cast<int64_t>(trials_.size());
    trial.trial_id = MakeTrialId(record_.study_id, trial.number);
    trial.study_id = record_.study_id;
    trial.state = TrialState::kWaiting;
  }
  trial.start_time_us = clock_->NowMicros();
  trial.worker_id = worker_id;
  trial.ask_request_id = request_id;
  using Relative = std::map<std::string, double>;
  PARZEN_ASSIGN_OR_RETURN(Relative relative, sampler_->SampleRelative(*this, trial, normalized));
  std::vector<TrialParam> sampled;
  for (const auto& [name, d] : normalized) {
    PARZEN_ASSIGN_OR_RETURN(double v, SampleOne(trial, name, d, relative));
    sampled.push_back(TrialParam{name, d, v});
  }

  if (from_queue) {
    waiting_.pop_front();
  } else {
    ++counts_[TrialState::kWaiting];
    trials_.push_back(trial);
  }
  FrozenTrial& stored = trials_[trial.number];
  stored.start_time_us = trial.start_time_us;
  stored.worker_id = trial.worker_id;
  stored.ask_request_id = trial.ask_request_id;
  SetStateLocked(stored, TrialState::kRunning);
  for (TrialParam& p : sampled) AddParamLocked(stored, std::move(p));
  last_beat_us_[stored.number] = clock_->SteadyMicros();
  if (!request_id.empty()) {
    running_by_request_[request_id] = stored.number;
    request_of_running_[stored.number] = request_id;
  }

  Storage::Ticket ticket;
  if (from_queue) {
    std::vector<Mutation> changes{mutation::UpdateTrial{stored}};
    for (size_t i = stored.params.size() - sampled.size(); i < stored.params.size(); ++i) {
      changes.push_back(mutation::InsertParam{stored.trial_id, stored.params[i]});
    }
    for (size_t i = 0; i + 1 < changes.size(); ++i) storage_->Submit(std::move(changes[i]));
    ticket = SubmitLocked(std::move(changes.back()), stored);
  } else {
    ticket = SubmitLocked(mutation::InsertTrial{stored}, stored);
  }
  spdlog::info("study '{}': trial {} RUNNING{}{}", record_.name, stored.number,
               worker_id.empty() ? "" : " on " + worker_id,
               from_queue ? " (from the queue)" : "");
  return Written<FrozenTrial>{stored, ticket};
}

absl::StatusOr<Written<TrialParam>> StudyState::Suggest(int64_t number, const std::string& name,
                                                        const Distribution& distribution) {
  std::lock_guard lock(mu_);
  PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
  absl::StatusOr<Distribution> valid = ValidateParam(name, distribution);
  if (!valid.ok()) return valid.status();
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * trial, FindRunningLocked(number, "suggest"));
  if (const TrialParam* existing = trial->FindParam(name)) {
    if (existing->distribution == *valid) return Written<TrialParam>{*existing, last_ticket_};
    return absl::InvalidArgumentError(
        "parameter '" + name + "' of " + TrialLabel(record_.name, number) +
        " was already suggested as " + FormatDistribution(existing->distribution) +
        "; it cannot be suggested again as " + FormatDistribution(*valid));
  }
  if (trial->params.size() >= kMaxParamsPerTrial) {
    return absl::ResourceExhaustedError(TrialLabel(record_.name, number) + " already has " +
                                        std::to_string(trial->params.size()) +
                                        " parameters; the limit is 1024");
  }
  PARZEN_RETURN_IF_ERROR(CheckKnownDistribution(name, *valid));
  PARZEN_ASSIGN_OR_RETURN(double v, SampleOne(*trial, name, *valid, {}));
  TrialParam param{name, *valid, v};
  AddParamLocked(*trial, param);
  const Storage::Ticket ticket = SubmitLocked(mutation::InsertParam{trial->trial_id, param}, *trial);
  return Written<TrialParam>{param, ticket};
}

absl::StatusOr<Written<ReportOutcome>> StudyState::Report(int64_t number, int64_t step,
                                                          double value) {
  if (step < 0) {
    return absl::InvalidArgumentError("step must be >= 0, got " + std::to_string(step));
  }
  std::lock_guard lock(mu_);
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * trial, FindRunningLocked(number, "report"));
  if (config_.directions.size() > 1) {
    return absl::FailedPreconditionError(
        "intermediate values and pruning are not supported for multi-objective studies ('" +
        record_.name + "' has " + std::to_string(config_.directions.size()) + " objectives)");
  }
  if (trial->intermediate_values.size() >= kMaxIntermediateValues &&
      !trial->intermediate_values.contains(step)) {
    return absl::ResourceExhaustedError(
        TrialLabel(record_.name, number) + " already holds " +
        std::to_string(trial->intermediate_values.size()) +
        " intermediate values; the limit is 100000 (report every few steps instead)");
  }
  Written<ReportOutcome> out;
  last_beat_us_[number] = clock_->SteadyMicros();
  if (trial->intermediate_values.contains(step)) {
    // Optuna keeps the first value reported for a step and warns.
    out.value.duplicate_step = true;
    out.ticket = last_ticket_;
    spdlog::warn("study '{}': trial {} reported step {} again; keeping the first value",
                 record_.name, number, step);
  } else {
    trial->intermediate_values.emplace(step, value);
    out.ticket = SubmitLocked(mutation::InsertIntermediate{trial->trial_id, step, value}, *trial);
  }
  out.value.should_prune = pruner_->ShouldPrune(*this, *trial);
  return out;
}

void StudyState::FinishLocked(FrozenTrial& trial) {
  trial.complete_time_us = clock_->NowMicros();
  last_beat_us_.erase(trial.number);
  if (auto it = request_of_running_.find(trial.number); it != request_of_running_.end()) {
    running_by_request_.erase(it->second);
    request_of_running_.erase(it);
  }
  if (trial.state != TrialState::kComplete) return;
  for (const auto& [step, value] : trial.intermediate_values) {
    completed_by_step_[step].push_back(value);
  }
  if (config_.directions.size() == 1 &&
      (!best_ || IsBetter(config_.directions[0], trial.values[0], trials_[*best_].values[0]))) {
    best_ = trial.number;
  }
  front_.Add(trial.number, trial.values);
}

absl::StatusOr<Written<TellOutcome>> StudyState::Tell(int64_t number, TrialState state,
                                                      const std::vector<double>& values,
                                                      const std::string& fail_reason) {
  std::lock_guard lock(mu_);
  const size_t n_objectives = config_.directions.size();
  if (state == TrialState::kComplete && values.size() != n_objectives) {
    return absl::InvalidArgumentError(
        "COMPLETE needs " + std::to_string(n_objectives) + " value(s) for study '" +
        record_.name + "', got " + std::to_string(values.size()));
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
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * trial, FindLocked(number));

  // What would be stored, so a repeat can be recognised as identical.
  FrozenTrial outcome;
  outcome.state = state;
  std::string message;
  if (state == TrialState::kComplete) {
    outcome.values = values;
    if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
      outcome.state = TrialState::kFail;
      outcome.values.clear();
      outcome.fail_reason = "objective value is NaN";
      message = "the objective value is NaN, so the trial was recorded as FAIL";
    }
  } else if (state == TrialState::kPruned) {
    if (auto last = trial->last_step()) {
      const double v = trial->intermediate_values.at(*last);
      if (!std::isnan(v)) outcome.values = {v};
    }
  } else {
    outcome.fail_reason = fail_reason;
  }

  if (IsFinished(trial->state)) {
    if (trial->state == outcome.state && SameValues(trial->values, outcome.values) &&
        (outcome.state != TrialState::kFail || trial->fail_reason == outcome.fail_reason)) {
      // The first Tell may still be committing: answer once it is durable.
      return Written<TellOutcome>{{*trial, "trial was already told this; nothing changed"},
                                  last_ticket_};
    }
    return absl::FailedPreconditionError("cannot tell " + std::string(TrialStateName(state)) +
                                         ": " + TrialLabel(record_.name, number) +
                                         " is already " + DescribeOutcome(*trial));
  }
  if (trial->state == TrialState::kWaiting) {
    return absl::FailedPreconditionError("cannot tell: " + TrialLabel(record_.name, number) +
                                         " has not been started by Ask");
  }

  trial->values = outcome.values;
  trial->fail_reason = outcome.fail_reason;
  SetStateLocked(*trial, outcome.state);
  FinishLocked(*trial);
  const Storage::Ticket ticket = SubmitLocked(mutation::UpdateTrial{*trial}, *trial);
  spdlog::info("study '{}': trial {} {}", record_.name, number, DescribeOutcome(*trial));
  return Written<TellOutcome>{{*trial, message}, ticket};
}

absl::Status StudyState::Heartbeat(int64_t number, const std::string& worker_id) {
  std::lock_guard lock(mu_);
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * trial, FindRunningLocked(number, "heartbeat"));
  if (!worker_id.empty() && !trial->worker_id.empty() && worker_id != trial->worker_id) {
    return absl::FailedPreconditionError(TrialLabel(record_.name, number) + " belongs to " +
                                         trial->worker_id + ", not " + worker_id);
  }
  last_beat_us_[number] = clock_->SteadyMicros();
  return absl::OkStatus();
}

absl::StatusOr<Written<FrozenTrial>> StudyState::Enqueue(
    const std::map<std::string, ParamValue>& params,
    const std::map<std::string, std::string>& user_attrs) {
  std::lock_guard lock(mu_);
  if (deleted_) return absl::NotFoundError("study '" + record_.name + "' was deleted");
  if (params.size() > kMaxParamsPerTrial) {
    return absl::InvalidArgumentError(std::to_string(params.size()) +
                                      " enqueued parameters; the limit is 1024");
  }
  for (const auto& [name, value] : params) {
    PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
    if (const int64_t* i = std::get_if<int64_t>(&value);
        i && (*i > kMaxEnqueuedInt || *i < -kMaxEnqueuedInt)) {
      return absl::InvalidArgumentError("enqueued parameter '" + name + "' is " +
                                        std::to_string(*i) +
                                        "; integers beyond 2^53 cannot be held exactly");
    }
    if (const double* d = std::get_if<double>(&value); d && !std::isfinite(*d)) {
      return absl::InvalidArgumentError("enqueued parameter '" + name + "' is " +
                                        FormatValue(value) + "; values must be finite");
    }
    if (const std::string* str = std::get_if<std::string>(&value);
        str && str->size() > kMaxUserAttrValueBytes) {
      return absl::InvalidArgumentError("enqueued parameter '" + name + "' is longer than 64 KiB");
    }
    if (const std::string* str = std::get_if<std::string>(&value); str && !IsValidUtf8(*str)) {
      return absl::InvalidArgumentError("enqueued parameter '" + name + "' is not valid UTF-8");
    }
    if (auto it = known_.find(name); it != known_.end()) {
      absl::StatusOr<double> internal = ToInternal(it->second, value);
      if (!internal.ok()) {
        return absl::InvalidArgumentError("enqueued parameter '" + name + "' does not fit " +
                                          FormatDistribution(it->second) + ": " +
                                          std::string(internal.status().message()));
      }
    }
  }
  PARZEN_RETURN_IF_ERROR(ValidateUserAttrs(user_attrs));
  FrozenTrial t;
  t.number = static_cast<int64_t>(trials_.size());
  t.trial_id = MakeTrialId(record_.study_id, t.number);
  t.study_id = record_.study_id;
  t.state = TrialState::kWaiting;
  t.fixed_params = params;
  t.user_attrs = user_attrs;
  trials_.push_back(t);
  ++counts_[TrialState::kWaiting];
  waiting_.push_back(t.number);
  const Storage::Ticket ticket = SubmitLocked(mutation::InsertTrial{t}, t);
  spdlog::info("study '{}': trial {} WAITING (enqueued)", record_.name, t.number);
  return Written<FrozenTrial>{t, ticket};
}

absl::StatusOr<Written<bool>> StudyState::SetTrialUserAttr(int64_t number, const std::string& key,
                                                           const std::string& value_json) {
  std::lock_guard lock(mu_);
  PARZEN_RETURN_IF_ERROR(ValidateUserAttr(key, value_json));
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial * trial, FindLocked(number));
  if (IsFinished(trial->state)) {
    return absl::FailedPreconditionError("cannot set user attribute: " +
                                         TrialLabel(record_.name, number) + " is already " +
                                         DescribeOutcome(*trial));
  }
  if (trial->user_attrs.size() >= kMaxUserAttrs && !trial->user_attrs.contains(key)) {
    return absl::ResourceExhaustedError(TrialLabel(record_.name, number) + " already has " +
                                        std::to_string(trial->user_attrs.size()) +
                                        " user attributes; the limit is 1024");
  }
  trial->user_attrs[key] = value_json;
  const Storage::Ticket ticket =
      SubmitLocked(mutation::SetTrialUserAttr{trial->trial_id, key, value_json}, *trial);
  return Written<bool>{true, ticket};
}

absl::StatusOr<FrozenTrial> StudyState::GetTrial(int64_t number) const {
  std::lock_guard lock(mu_);
  if (deleted_) return absl::NotFoundError("study '" + record_.name + "' was deleted");
  if (number < 0 || number >= static_cast<int64_t>(trials_.size())) {
    return absl::NotFoundError(TrialLabel(record_.name, number) + " does not exist");
  }
  return trials_[number];
}

std::vector<FrozenTrial> StudyState::ListTrials(const std::vector<TrialState>& states,
                                                int64_t from, int64_t limit, int64_t* next) const {
  std::lock_guard lock(mu_);
  std::vector<FrozenTrial> out;
  *next = -1;
  const int64_t n = static_cast<int64_t>(trials_.size());
  for (int64_t i = std::max<int64_t>(from, 0); i < n; ++i) {
    const FrozenTrial& t = trials_[i];
    if (!states.empty() && std::find(states.begin(), states.end(), t.state) == states.end()) {
      continue;
    }
    if (static_cast<int64_t>(out.size()) == limit) {
      *next = i;
      break;
    }
    out.push_back(t);
  }
  return out;
}

void StudyState::Watch(const std::shared_ptr<WatchQueue>& queue) {
  std::lock_guard lock(mu_);
  if (deleted_) {
    queue->Close();
    return;
  }
  // The study's last change may still be committing: the snapshot shows it
  // only once it is durable, like any other event.
  for (const FrozenTrial& t : trials_) {
    queue->PushSnapshot(TrialEvent{.ticket = last_ticket_, .trial = t, .snapshot = true});
  }
  watchers_.push_back(queue);
}

Storage::Ticket StudyState::ReapExpired() {
  std::lock_guard lock(mu_);
  if (deleted_ || config_.heartbeat_grace_seconds <= 0) return 0;
  const int64_t now = clock_->SteadyMicros();
  const auto grace_us = static_cast<int64_t>(config_.heartbeat_grace_seconds * 1e6);
  std::vector<int64_t> expired;
  for (const auto& [number, beat] : last_beat_us_) {
    if (now - beat > grace_us) expired.push_back(number);
  }
  std::sort(expired.begin(), expired.end());
  Storage::Ticket ticket = 0;
  for (int64_t number : expired) {
    FrozenTrial& t = trials_[number];
    t.fail_reason = "heartbeat lost";
    SetStateLocked(t, TrialState::kFail);
    FinishLocked(t);
    ticket = SubmitLocked(mutation::UpdateTrial{t}, t);
    spdlog::warn("study '{}': trial {} FAIL: heartbeat lost (no beat for {:.1f} s)", record_.name,
                 number, config_.heartbeat_grace_seconds);
    if (t.retry_count >= config_.max_retries) continue;
    // Optuna's RetryFailedTrialCallback: same parameters, same user
    // attributes, and a record of which trial it repeats.
    FrozenTrial retry;
    retry.number = static_cast<int64_t>(trials_.size());
    retry.trial_id = MakeTrialId(record_.study_id, retry.number);
    retry.study_id = record_.study_id;
    retry.state = TrialState::kWaiting;
    for (const TrialParam& p : t.params) {
      retry.fixed_params[p.name] = ToExternal(p.distribution, p.internal_value);
    }
    for (const auto& [name, value] : t.fixed_params) retry.fixed_params.emplace(name, value);
    retry.user_attrs = t.user_attrs;
    // The original trial, however many retries deep (Optuna's failed_trial).
    retry.retry_of = t.retry_of.value_or(t.number);
    retry.retry_count = t.retry_count + 1;
    trials_.push_back(retry);
    ++counts_[TrialState::kWaiting];
    waiting_.push_back(retry.number);
    ticket = SubmitLocked(mutation::InsertTrial{retry}, retry);
    spdlog::info("study '{}': trial {} WAITING (retry {} of trial {})", record_.name,
                 retry.number, retry.retry_count, number);
  }
  return ticket;
}

Storage::Ticket StudyState::MarkDeleted() {
  std::lock_guard lock(mu_);
  deleted_ = true;
  for (const auto& w : watchers_) {
    if (auto q = w.lock()) q->Close();
  }
  watchers_.clear();
  return storage_->Submit(mutation::DeleteStudy{record_.study_id});
}

}  // namespace parzen
