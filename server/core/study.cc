#include "server/core/study.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/distribution.h"

namespace parzen {
namespace {

// A live watch event's copy of a trial: the whole step history would make
// a watched trial of n reports cost O(n^2) to copy (under the study lock)
// and to send; watchers have the history from the snapshot and add each
// new step. Copied field by field so the history is never copied at all;
// the structured binding stops compiling when FrozenTrial gains a field,
// so none is ever left out. `step`: the one to keep; nullopt: the largest.
FrozenTrial WithOneStep(const FrozenTrial& t, std::optional<int64_t> step) {
  const auto& [trial_id, study_id, number, state, values, params, history, user_attrs,
               system_attrs, fixed_params, start_time_us, complete_time_us, fail_reason,
               retry_of, retry_count, worker_id, ask_request_id] = t;
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
                  .system_attrs = system_attrs,
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

}  // namespace

std::string DescribeOutcome(const FrozenTrial& t) {
  std::string s(TrialStateName(t.state));
  if (!t.values.empty()) {
    s += " with value ";
    for (size_t i = 0; i < t.values.size(); ++i) {
      s += (i ? ", " : "") + FormatValue(ParamValue(t.values[i]));
    }
  }
  if (!t.fail_reason.empty()) s += " (" + t.fail_reason + ")";
  return s;
}

Study::Study(StudyRecord record, StudyConfig config, std::unique_ptr<Sampler> sampler,
             std::unique_ptr<Pruner> pruner, Storage* storage, const Clock* clock,
             std::vector<FrozenTrial> trials)
    : id_(record.study_id),
      config_(std::make_shared<const StudyConfig>(std::move(config))),
      sampler_(std::move(sampler)),
      pruner_(std::move(pruner)),
      storage_(storage),
      clock_(clock),
      record_(std::move(record)),
      completed_by_step_(std::make_shared<StepIndex>()),
      front_(config_->directions) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->SteadyMicros();
  for (FrozenTrial& t : trials) {
    Index(t);
    if (t.state == TrialState::kComplete) IndexCompleted(t, /*loading=*/true);
    // A restart gives every running trial a fresh lease: its worker may
    // still be alive and beating.
    if (t.state == TrialState::kRunning) last_beat_us_[t.number] = now;
    trials_.push_back(std::make_shared<FrozenTrial>(std::move(t)));
  }
}

std::string Study::TrialLabel(int64_t number) const {
  return "trial " + std::to_string(number) + " of study '" + name() + "'";
}

// Counts, queue, distributions and request ids of a trial joining the study.
void Study::Index(const FrozenTrial& t) {
  ++counts_[t.state];
  if (t.state == TrialState::kWaiting) waiting_.push_back(t.number);
  for (const TrialParam& p : t.params) known_.try_emplace(p.name, p.distribution);
  if (t.state == TrialState::kRunning && !t.ask_request_id.empty()) {
    running_by_request_[t.ask_request_id] = t.number;
    request_of_running_[t.number] = t.ask_request_id;
  }
}

void Study::IndexCompleted(const FrozenTrial& t, bool loading) {
  StepIndex& by_step = Unshare(completed_by_step_);
  for (const auto& [step, value] : t.intermediate_values) by_step[step].push_back(value);
  if (config_->directions.size() == 1 && !t.values.empty()) {
    const FrozenTrial* best = best_ ? trials_[*best_].get() : nullptr;
    const Direction d = config_->directions[0];
    // Loading goes in number order, not the order trials completed: a tie
    // goes to the one that completed first, as it did while the server ran.
    const bool tie_won = loading && best != nullptr && t.values[0] == best->values[0] &&
                         t.complete_time_us < best->complete_time_us;
    if (best == nullptr || IsBetter(d, t.values[0], best->values[0]) || tie_won) best_ = t.number;
  }
  front_.Add(t.number, t.values);
}

absl::Status Study::CheckLive() const {
  if (deleted_) return absl::NotFoundError("study '" + name() + "' was deleted");
  return absl::OkStatus();
}

absl::StatusOr<const FrozenTrial*> Study::Find(int64_t number) const {
  PARZEN_RETURN_IF_ERROR(CheckLive());
  if (number < 0 || number >= num_trials()) {
    return absl::NotFoundError(TrialLabel(number) + " does not exist");
  }
  return trials_[number].get();
}

absl::StatusOr<const FrozenTrial*> Study::FindRunning(int64_t number,
                                                      std::string_view action) const {
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* t, Find(number));
  if (t->state == TrialState::kRunning) return t;
  const std::string why = t->state == TrialState::kWaiting ? "has not been started by Ask"
                                                           : "is already " + DescribeOutcome(*t);
  return absl::FailedPreconditionError("cannot " + std::string(action) + ": " +
                                       TrialLabel(number) + " " + why);
}

int64_t Study::count(TrialState state) const {
  auto it = counts_.find(state);
  return it == counts_.end() ? 0 : it->second;
}

StudySnapshot Study::Summarize(bool with_best_trials) const {
  StudySnapshot s{record_, *config_, {}};
  s.summary.n_trials = num_trials();
  s.summary.counts = counts_;
  if (best_) s.summary.best_trial = *trials_[*best_];
  if (with_best_trials) {
    for (int64_t number : front_.numbers()) s.summary.best_trials.push_back(*trials_[number]);
  }
  return s;
}

const Distribution* Study::Known(const std::string& param) const {
  auto it = known_.find(param);
  return it == known_.end() ? nullptr : &it->second;
}

absl::Status Study::CheckKnownDistribution(const std::string& param, const Distribution& d) const {
  const Distribution* known = Known(param);
  if (known == nullptr) return absl::OkStatus();
  absl::Status s = CheckCompatible(*known, d);
  if (s.ok()) return s;
  return absl::InvalidArgumentError("parameter '" + param + "' was used in study '" + name() +
                                    "' as " + FormatDistribution(*known) + "; " +
                                    std::string(s.message()));
}

std::optional<int64_t> Study::RunningByRequest(const std::string& request_id) const {
  if (request_id.empty()) return std::nullopt;
  auto it = running_by_request_.find(request_id);
  if (it == running_by_request_.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> Study::FrontOfQueue() const {
  if (waiting_.empty()) return std::nullopt;
  return waiting_.front();
}

std::vector<int64_t> Study::ExpiredLeases() const {
  std::vector<int64_t> expired;
  if (deleted_ || config_->heartbeat_grace_seconds <= 0) return expired;
  const int64_t now = clock_->SteadyMicros();
  const auto grace_us = static_cast<int64_t>(config_->heartbeat_grace_seconds * 1e6);
  for (const auto& [number, beat] : last_beat_us_) {
    if (now - beat > grace_us) expired.push_back(number);
  }
  std::sort(expired.begin(), expired.end());
  return expired;
}

std::shared_ptr<const History> Study::Snapshot() const {
  return std::make_shared<const History>(version_, config_, trials_, completed_by_step_,
                                         count(TrialState::kComplete));
}

int64_t Study::BeginAsk() {
  ++asks_in_flight_;
  next_reserved_ = std::max(next_reserved_, num_trials());
  return next_reserved_++;
}

void Study::EndAsk() {
  // With none in flight, the next Ask's number is simply the next one.
  if (--asks_in_flight_ == 0) next_reserved_ = 0;
}

bool Study::HoldRequest(const std::string& request_id) {
  return request_id.empty() || requests_in_flight_.insert(request_id).second;
}

void Study::ReleaseRequest(const std::string& request_id) { requests_in_flight_.erase(request_id); }

FrozenTrial& Study::Mutable(int64_t number) { return Unshare(trials_.mutable_at(number)); }

void Study::SetState(FrozenTrial& trial, TrialState state) {
  --counts_[trial.state];
  ++counts_[state];
  trial.state = state;
}

int64_t Study::Append(FrozenTrial trial) {
  trial.number = num_trials();
  trial.study_id = id_;
  trial.trial_id = MakeTrialId(id_, trial.number);
  Index(trial);
  if (trial.state == TrialState::kRunning) last_beat_us_[trial.number] = clock_->SteadyMicros();
  trials_.push_back(std::make_shared<FrozenTrial>(std::move(trial)));
  return num_trials() - 1;
}

std::optional<int64_t> Study::PopWaiting() {
  if (waiting_.empty()) return std::nullopt;
  const int64_t number = waiting_.front();
  waiting_.pop_front();
  return number;
}

void Study::PushWaitingFront(int64_t number) { waiting_.push_front(number); }

void Study::Start(int64_t number, const std::string& worker_id, const std::string& request_id) {
  FrozenTrial& t = Mutable(number);
  t.start_time_us = clock_->NowMicros();
  t.worker_id = worker_id;
  t.ask_request_id = request_id;
  SetState(t, TrialState::kRunning);
  last_beat_us_[number] = clock_->SteadyMicros();
  if (!request_id.empty()) {
    running_by_request_[request_id] = number;
    request_of_running_[number] = request_id;
  }
}

void Study::AddParam(int64_t number, TrialParam param) {
  known_.try_emplace(param.name, param.distribution);
  FrozenTrial& t = Mutable(number);
  t.fixed_params.erase(param.name);
  t.params.push_back(std::move(param));
}

void Study::AddIntermediate(int64_t number, int64_t step, double value) {
  Mutable(number).intermediate_values.emplace(step, value);
}

void Study::SetUserAttr(int64_t number, const std::string& key, std::string json) {
  Mutable(number).user_attrs[key] = std::move(json);
}

void Study::SetSystemAttr(int64_t number, const std::string& key, std::string json) {
  Mutable(number).system_attrs[key] = std::move(json);
}

void Study::SetStudyUserAttr(const std::string& key, std::string json) {
  record_.user_attrs[key] = std::move(json);
}

void Study::Finish(int64_t number, TrialState state, std::vector<double> values,
                   std::string fail_reason) {
  FrozenTrial& t = Mutable(number);
  t.values = std::move(values);
  t.fail_reason = std::move(fail_reason);
  t.complete_time_us = clock_->NowMicros();
  SetState(t, state);
  last_beat_us_.erase(number);
  if (auto it = request_of_running_.find(number); it != request_of_running_.end()) {
    running_by_request_.erase(it->second);
    request_of_running_.erase(it);
  }
  if (state == TrialState::kComplete) IndexCompleted(t, /*loading=*/false);
}

void Study::Beat(int64_t number) { last_beat_us_[number] = clock_->SteadyMicros(); }

Storage::Ticket Study::Publish(std::vector<Mutation> changes, std::optional<int64_t> number) {
  // A report's event carries the step just reported, which need not be
  // the largest one.
  std::optional<int64_t> reported;
  for (Mutation& m : changes) {
    if (const auto* report = std::get_if<mutation::InsertIntermediate>(&m)) reported = report->step;
    last_ticket_ = storage_->Submit(std::move(m));
  }
  ++version_;
  if (number && !watchers_.empty()) {
    std::erase_if(watchers_, [](const std::weak_ptr<WatchQueue>& w) { return w.expired(); });
    const FrozenTrial event = WithOneStep(*trials_[*number], reported);
    for (const auto& w : watchers_) {
      if (auto q = w.lock()) q->Push(TrialEvent{.ticket = last_ticket_, .trial = event});
    }
  }
  return last_ticket_;
}

Storage::Ticket Study::Publish(Mutation change, std::optional<int64_t> number) {
  std::vector<Mutation> changes;
  changes.push_back(std::move(change));
  return Publish(std::move(changes), number);
}

void Study::LogWhenDurable(Storage::Ticket ticket, spdlog::level::level_enum level,
                           std::string line) const {
  auto log = [level, line = std::move(line)](const absl::Status& durable) {
    if (durable.ok()) spdlog::log(level, "{}", line);
  };
  if (ticket == 0) return log(absl::OkStatus());
  storage_->OnDurable(ticket, std::move(log));
}

void Study::AddWatcher(const std::shared_ptr<WatchQueue>& queue) {
  if (deleted_) {
    queue->Close();
    return;
  }
  // The study's last change may still be committing: the snapshot shows it
  // only once it is durable, like any other event.
  for (size_t i = 0; i < trials_.size(); ++i) {
    queue->PushSnapshot(TrialEvent{.ticket = last_ticket_, .trial = *trials_[i], .snapshot = true});
  }
  watchers_.push_back(queue);
}

Storage::Ticket Study::MarkDeleted() {
  deleted_ = true;
  for (const auto& w : watchers_) {
    if (auto q = w.lock()) q->Close();
  }
  watchers_.clear();
  return storage_->Submit(mutation::DeleteStudy{id_});
}

}  // namespace parzen
