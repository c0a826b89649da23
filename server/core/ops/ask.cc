#include "server/core/ops/ask.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "server/core/limits.h"
#include "server/core/ops/params.h"
#include "common/client_text.h"

namespace parzen::ops {
namespace {

// A sampler's claim (a grid point) taken by an Ask that committed first
// sends the Ask round again; each round at least one Ask wins, so this
// bounds how long a crowd of Asks on the last points can keep losing.
constexpr int kMaxAskAttempts = 64;

bool IsLostClaim(const absl::Status& status) { return status.code() == absl::StatusCode::kAborted; }

std::string DiffersMessage(const std::string& request_id, const std::string& what) {
  return "request_id '" + request_id + "' was first used by an Ask with another search space " +
         "(parameter '" + what + "); a new Ask needs a new request_id";
}

// A retry of an Ask whose trial runs: the same trial, if it is the same
// request.
absl::StatusOr<Written<FrozenTrial>> AnswerRepeat(Study& study, int64_t number,
                                                  const AskRequest& request)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  const FrozenTrial& started = study.trial(number);
  if (started.worker_id != request.worker_id) {
    return absl::FailedPreconditionError(
        "request_id '" + request.request_id + "' belongs to an Ask of " +
        (started.worker_id.empty() ? std::string("no worker id") : "worker " + started.worker_id));
  }
  // A retry repeats its request; another search space under the same id
  // is a client bug that would otherwise go unnoticed. (A parameter whose
  // condition the trial's values do not meet is rightly missing.)
  std::map<std::string, double> chosen;
  for (const TrialParam& p : started.params) chosen[p.name] = p.internal_value;
  for (const SearchSpaceEntry& entry : request.space) {
    absl::StatusOr<Distribution> valid = ValidateParam(entry.name, entry.distribution);
    const TrialParam* had = started.FindParam(entry.name);
    if (had == nullptr && !IsActive(entry, request.space, chosen)) continue;
    if (!valid.ok() || had == nullptr || had->distribution != *valid) {
      return absl::InvalidArgumentError(DiffersMessage(request.request_id, entry.name + "' differs"));
    }
  }
  // Nobody can have suggested into the trial before hearing of it, so
  // whatever it holds came from the first Ask's space.
  for (const TrialParam& had : started.params) {
    if (std::none_of(request.space.begin(), request.space.end(),
                     [&](const auto& entry) { return entry.name == had.name; })) {
      return absl::InvalidArgumentError(DiffersMessage(request.request_id,
                                                       had.name + "' is missing"));
    }
  }
  study.Beat(number);
  spdlog::info("study '{}': trial {} handed out again to a repeated Ask", EscapeForLog(study.name()),
               number);
  return Written<FrozenTrial>{started, study.last_ticket()};
}

// The space with every distribution validated and checked against the
// study's earlier use of its names.
absl::StatusOr<SearchSpace> CheckSpace(const Study& study, const SearchSpace& space)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  if (space.size() > kMaxParamsPerTrial) {
    return absl::InvalidArgumentError("search space has " + std::to_string(space.size()) +
                                      " parameters; the limit is " +
                                      std::to_string(kMaxParamsPerTrial));
  }
  SearchSpace normalized;
  std::set<std::string> names;
  for (const SearchSpaceEntry& entry : space) {
    const std::string& name = entry.name;
    const Distribution& d = entry.distribution;
    PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError("parameter '" + name + "' appears twice in the search space");
    }
    PARZEN_ASSIGN_OR_RETURN(Distribution valid, ValidateParam(name, d));
    PARZEN_RETURN_IF_ERROR(study.CheckKnownDistribution(name, valid));
    normalized.push_back({name, std::move(valid), entry.condition});
  }
  PARZEN_RETURN_IF_ERROR(ValidateConditions(normalized));
  return normalized;
}

// Asks in flight hold their slot too: the budget is never overrun.
absl::Status CheckBudget(const Study& study) ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  const int64_t max = study.config().max_trials;
  if (max <= 0) return absl::OkStatus();
  const int64_t used = study.count(TrialState::kRunning) + study.count(TrialState::kComplete) +
                       study.count(TrialState::kPruned) + study.asks_in_flight();
  if (used < max) return absl::OkStatus();
  return absl::OutOfRangeError("study budget reached: study '" + study.name() + "' has " +
                               std::to_string(used) + " of its max_trials " +
                               std::to_string(max) + " trials running or finished");
}

// An enqueued trial whose fixed value does not fit the distribution it is
// asked with fails, as the objective's suggest fails it in Optuna, and the
// next one is handed out: a queue never jams on a bad entry.
void FailUnfitQueued(Study& study, const AskRequest& request)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  while (std::optional<int64_t> front = study.FrontOfQueue()) {
    const FrozenTrial& queued = study.trial(*front);
    absl::Status fits = absl::OkStatus();
    for (const auto& [name, d, condition] : request.space) {
      if (!queued.fixed_params.contains(name)) continue;
      fits = FixedInternal(queued, study.TrialLabel(*front), name, d).status();
      if (!fits.ok()) break;
    }
    if (fits.ok()) return;
    study.PopWaiting();
    study.Start(*front, request.worker_id, "");
    study.Finish(*front, TrialState::kFail, {}, std::string(fits.message()));
    study.Publish(mutation::UpdateTrial{study.trial(*front)}, *front);
    spdlog::warn("study '{}': trial {} FAIL: {}", EscapeForLog(study.name()), *front,
                 EscapeForLog(std::string(fits.message()), 1024));
  }
}

// Starts the planned trial with what was sampled; returns its number.
int64_t StartPlanned(Study& study, const AskPlan& plan, SampledTrial sampled)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  const AskRequest& request = plan.request;
  if (!plan.from_queue) {
    FrozenTrial trial = plan.trial;
    trial.params = std::move(sampled.params);
    trial.system_attrs = std::move(sampled.system_attrs);
    const int64_t number = study.Append(std::move(trial));
    study.Publish(mutation::InsertTrial{study.trial(number)}, number);
    return number;
  }
  const int64_t number = plan.trial.number;
  study.Start(number, request.worker_id, request.request_id);
  std::vector<Mutation> changes;
  changes.push_back(mutation::UpdateTrial{});  // filled below, once complete
  const TrialId id = study.trial(number).trial_id;
  for (TrialParam& p : sampled.params) {
    changes.push_back(mutation::InsertParam{id, p});
    study.AddParam(number, std::move(p));
  }
  for (auto& [key, json] : sampled.system_attrs) {
    changes.push_back(mutation::SetTrialSystemAttr{id, key, json});
    study.SetSystemAttr(number, key, std::move(json));
  }
  changes.front() = mutation::UpdateTrial{study.trial(number)};
  study.Publish(std::move(changes), number);
  return number;
}

}  // namespace

absl::StatusOr<AskStart> PlanAsk(Study& study, AskRequest request) {
  absl::MutexLock lock(&study.mu());
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  // A retry is answered before the budget check: the first attempt may
  // have taken the last slot.
  if (std::optional<int64_t> started = study.RunningByRequest(request.request_id)) {
    PARZEN_ASSIGN_OR_RETURN(Written<FrozenTrial> repeat, AnswerRepeat(study, *started, request));
    return AskStart{std::move(repeat), nullptr};
  }
  PARZEN_ASSIGN_OR_RETURN(request.space, CheckSpace(study, request.space));
  PARZEN_RETURN_IF_ERROR(CheckBudget(study));
  if (!study.HoldRequest(request.request_id)) {
    return absl::UnavailableError("an Ask with request_id '" + request.request_id +
                                  "' is still being answered; try again");
  }
  FailUnfitQueued(study, request);
  auto plan_ptr = std::make_shared<AskPlan>();
  AskPlan& plan = *plan_ptr;
  const int64_t reserved = study.BeginAsk();
  if (std::optional<int64_t> queued = study.PopWaiting()) {
    plan.from_queue = true;
    plan.trial = study.trial(*queued);
  } else {
    plan.trial.number = reserved;
    plan.trial.study_id = study.id();
    plan.trial.trial_id = MakeTrialId(study.id(), reserved);
  }
  plan.trial.state = TrialState::kRunning;
  plan.trial.start_time_us = study.clock().NowMicros();
  plan.trial.worker_id = request.worker_id;
  plan.trial.ask_request_id = request.request_id;
  plan.request = std::move(request);
  plan.history = study.Snapshot();
  return AskStart{std::nullopt, std::move(plan_ptr)};
}

absl::StatusOr<SampledTrial> SampleAsk(const Study& study, const AskPlan& plan) {
  std::shared_ptr<const StudyHistory> history =
      study.pruner().HistoryForSampler(plan.history, plan.trial);
  // An enqueued trial that fixes every parameter leaves the sampler nothing
  // to do: not even its joint model is fitted (nor, as in Optuna, a grid
  // point claimed). A new trial always asks, for what it may claim.
  const bool nothing_to_sample =
      plan.from_queue && std::all_of(plan.request.space.begin(), plan.request.space.end(), [&](const auto& e) {
        return plan.trial.fixed_params.contains(e.name) || IsSingle(e.distribution);
      });
  RelativeSample relative;
  if (!nothing_to_sample) {
    PARZEN_ASSIGN_OR_RETURN(relative, study.sampler().SampleRelative(*history, plan.trial,
                                                                     plan.request.space));
  }
  SampledTrial out;
  out.system_attrs = std::move(relative.system_attrs);
  const std::string label = study.TrialLabel(plan.trial.number);
  // In order, so a parameter's condition sees its parent's value.
  std::map<std::string, double> chosen;
  for (const SearchSpaceEntry& entry : plan.request.space) {
    if (!IsActive(entry, plan.request.space, chosen)) continue;
    PARZEN_ASSIGN_OR_RETURN(double v, SampleParam(study.sampler(), *history, plan.trial, label,
                                                  entry.name, entry.distribution, relative.params));
    chosen[entry.name] = v;
    out.params.push_back(TrialParam{entry.name, entry.distribution, v});
  }
  return out;
}

absl::StatusOr<Written<FrozenTrial>> CommitAsk(Study& study, const AskPlan& plan,
                                               absl::StatusOr<SampledTrial> sampled) {
  absl::MutexLock lock(&study.mu());
  study.EndAsk();
  study.ReleaseRequest(plan.request.request_id);
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  absl::Status ok = sampled.status();
  for (size_t i = 0; ok.ok() && i < sampled->params.size(); ++i) {
    ok = study.CheckKnownDistribution(sampled->params[i].name, sampled->params[i].distribution);
  }
  if (ok.ok() && !sampled->system_attrs.empty()) {
    ok = study.sampler().ConfirmClaims(*study.Snapshot(), sampled->system_attrs);
  }
  if (!ok.ok()) {
    if (plan.from_queue) study.PushWaitingFront(plan.trial.number);
    return ok;
  }
  const int64_t number = StartPlanned(study, plan, *std::move(sampled));
  const FrozenTrial& trial = study.trial(number);
  study.LogWhenDurable(
      study.last_ticket(), spdlog::level::info,
      fmt::format("study '{}': trial {} RUNNING{}{}", EscapeForLog(study.name()), number,
                  trial.worker_id.empty() ? "" : " on " + EscapeForLog(trial.worker_id),
                  plan.from_queue ? " (from the queue)" : ""));
  return Written<FrozenTrial>{trial, study.last_ticket()};
}

absl::StatusOr<Written<FrozenTrial>> Ask(Study& study, AskRequest request) {
  for (int attempt = 1;; ++attempt) {
    PARZEN_ASSIGN_OR_RETURN(AskStart start, PlanAsk(study, request));
    if (start.answer) return *std::move(start.answer);
    AskPlan& plan = *start.plan;
    absl::StatusOr<SampledTrial> sampled = SampleAsk(study, plan);
    plan.history.reset();
    absl::StatusOr<Written<FrozenTrial>> committed = CommitAsk(study, plan, std::move(sampled));
    if (!IsLostClaim(committed.status()) || attempt == kMaxAskAttempts) return committed;
  }
}

namespace {

void AskOnExecutor(std::shared_ptr<Study> study, Executor& executor, AskRequest request,
                   AskDone done, int attempt) {
  auto start = PlanAsk(*study, request);
  if (!start.ok()) return done(start.status());
  if (start->answer) return done(*std::move(start->answer));
  std::shared_ptr<AskPlan> plan = start->plan;
  absl::Status posted = executor.Post([study, &executor, plan, done, attempt] {
    // The Ask may have waited for the executor behind others: sampled from
    // the history as it is now, it sees the trials they started, which is
    // what lets the constant liar spread a burst of parallel Asks.
    {
      absl::MutexLock lock(&study->mu());
      plan->history = study->Snapshot();
    }
    absl::StatusOr<SampledTrial> sampled = SampleAsk(*study, *plan);
    // Gone before the commit, so the study's writes need not copy what
    // the snapshot shared.
    plan->history.reset();
    absl::StatusOr<Written<FrozenTrial>> committed = CommitAsk(*study, *plan, std::move(sampled));
    if (IsLostClaim(committed.status()) && attempt < kMaxAskAttempts) {
      return AskOnExecutor(study, executor, plan->request, done, attempt + 1);
    }
    done(std::move(committed));
  });
  // Not queued: the plan is given up, its reservation returned.
  if (!posted.ok()) done(CommitAsk(*study, *plan, posted));
}

}  // namespace

void Ask(StudyManager& manager, const std::string& study_name, AskRequest request,
         AskDone done) {
  absl::StatusOr<std::shared_ptr<Study>> study = manager.FindStudy(study_name);
  if (!study.ok()) return done(study.status());
  AskOnExecutor(*std::move(study), manager.executor(), std::move(request), std::move(done), 1);
}

}  // namespace parzen::ops
