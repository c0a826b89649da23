#include "server/core/ops/suggest.h"

#include "server/core/limits.h"
#include "server/core/ops/params.h"

namespace parzen::ops {
namespace {

// The checks before a new parameter is added, made twice: before
// sampling, and again once the lock was let go meanwhile. nullptr: add it;
// else the parameter the trial already has.
absl::StatusOr<const TrialParam*> CheckNewParam(const Study& study, int64_t number,
                                                const std::string& name, const Distribution& d)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.FindRunning(number, "suggest"));
  if (const TrialParam* existing = trial->FindParam(name)) {
    if (existing->distribution == d) return existing;
    return absl::InvalidArgumentError(
        "parameter '" + name + "' of " + study.TrialLabel(number) + " was already suggested as " +
        FormatDistribution(existing->distribution) + "; it cannot be suggested again as " +
        FormatDistribution(d));
  }
  if (trial->params.size() >= kMaxParamsPerTrial) {
    return absl::ResourceExhaustedError(study.TrialLabel(number) + " already has " +
                                        std::to_string(trial->params.size()) +
                                        " parameters; the limit is " +
                                        std::to_string(kMaxParamsPerTrial));
  }
  PARZEN_RETURN_IF_ERROR(study.CheckKnownDistribution(name, d));
  return nullptr;
}

Written<TrialParam> AddParam(Study& study, int64_t number, TrialParam param)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(study.mu()) {
  const TrialId id = study.trial(number).trial_id;
  study.AddParam(number, param);
  const Storage::Ticket ticket = study.Publish(mutation::InsertParam{id, param}, number);
  return Written<TrialParam>{std::move(param), ticket};
}

}  // namespace

absl::StatusOr<SuggestStart> PlanSuggest(
    Study& study, int64_t number, const std::string& name, const Distribution& distribution) {
  PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
  PARZEN_ASSIGN_OR_RETURN(Distribution valid, ValidateParam(name, distribution));
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const TrialParam* existing, CheckNewParam(study, number, name, valid));
  // A repeat: the first Suggest may still be committing.
  if (existing != nullptr) {
    return SuggestStart{Written<TrialParam>{*existing, study.last_ticket()}, nullptr};
  }
  PARZEN_ASSIGN_OR_RETURN(
      std::optional<double> unsampled,
      UnsampledValue(study.trial(number), study.TrialLabel(number), name, valid));
  if (unsampled) {
    return SuggestStart{AddParam(study, number, TrialParam{name, valid, *unsampled}), nullptr};
  }
  return SuggestStart{std::nullopt,
                      std::make_shared<SuggestPlan>(SuggestPlan{
                          number, name, std::move(valid), study.trial(number), study.Snapshot()})};
}

absl::StatusOr<double> SampleSuggest(const Study& study, const SuggestPlan& plan) {
  std::shared_ptr<const StudyHistory> history =
      study.pruner().HistoryForSampler(plan.history, plan.trial);
  return SampleParam(study.sampler(), *history, plan.trial, study.TrialLabel(plan.number),
                     plan.name, plan.distribution, {});
}

absl::StatusOr<Written<TrialParam>> CommitSuggest(Study& study, const SuggestPlan& plan,
                                                  absl::StatusOr<double> value) {
  if (!value.ok()) return value.status();
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const TrialParam* existing,
                          CheckNewParam(study, plan.number, plan.name, plan.distribution));
  // Another Suggest of the same name got there first: its value stands.
  if (existing != nullptr) return Written<TrialParam>{*existing, study.last_ticket()};
  return AddParam(study, plan.number, TrialParam{plan.name, plan.distribution, *value});
}

absl::StatusOr<Written<TrialParam>> Suggest(Study& study, int64_t number, const std::string& name,
                                            const Distribution& distribution) {
  PARZEN_ASSIGN_OR_RETURN(SuggestStart start, PlanSuggest(study, number, name, distribution));
  if (start.answer) return *std::move(start.answer);
  absl::StatusOr<double> value = SampleSuggest(study, *start.plan);
  start.plan->history.reset();
  return CommitSuggest(study, *start.plan, value);
}

void Suggest(StudyManager& manager, TrialId trial, std::string name, Distribution distribution,
             SuggestDone done) {
  auto found = manager.FindTrial(trial);
  if (!found.ok()) return done(found.status());
  std::shared_ptr<Study> study = found->first;
  const int64_t number = found->second;
  auto start = PlanSuggest(*study, number, name, distribution);
  if (!start.ok()) return done(start.status());
  if (start->answer) return done(*std::move(start->answer));
  std::shared_ptr<SuggestPlan> plan = start->plan;
  absl::Status posted = manager.executor().Post([study, plan, done] {
    absl::StatusOr<double> value = SampleSuggest(*study, *plan);
    plan->history.reset();
    done(CommitSuggest(*study, *plan, value));
  });
  if (!posted.ok()) done(posted);
}

}  // namespace parzen::ops
