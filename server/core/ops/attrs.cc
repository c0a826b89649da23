#include "server/core/ops/attrs.h"

#include "server/core/limits.h"

namespace parzen::ops {
namespace {

absl::Status CheckRoom(const std::map<std::string, std::string>& attrs, const std::string& key,
                       const std::string& owner) {
  if (attrs.size() < kMaxUserAttrs || attrs.contains(key)) return absl::OkStatus();
  return absl::ResourceExhaustedError(owner + " already has " + std::to_string(attrs.size()) +
                                      " user attributes; the limit is " +
                                      std::to_string(kMaxUserAttrs));
}

}  // namespace

absl::StatusOr<Written<bool>> SetTrialUserAttr(Study& study, int64_t number,
                                               const std::string& key,
                                               const std::string& value_json) {
  PARZEN_RETURN_IF_ERROR(ValidateUserAttr(key, value_json));
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.Find(number));
  if (IsFinished(trial->state)) {
    return absl::FailedPreconditionError("cannot set user attribute: " +
                                         study.TrialLabel(number) + " is already " +
                                         DescribeOutcome(*trial));
  }
  PARZEN_RETURN_IF_ERROR(CheckRoom(trial->user_attrs, key, study.TrialLabel(number)));
  const TrialId id = trial->trial_id;
  study.SetUserAttr(number, key, value_json);
  const Storage::Ticket ticket =
      study.Publish(mutation::SetTrialUserAttr{id, key, value_json}, number);
  return Written<bool>{true, ticket};
}

absl::StatusOr<Written<bool>> SetStudyUserAttr(Study& study, const std::string& key,
                                               const std::string& value_json) {
  absl::MutexLock lock(&study.mu());
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  PARZEN_RETURN_IF_ERROR(ValidateUserAttr(key, value_json));
  PARZEN_RETURN_IF_ERROR(
      CheckRoom(study.record().user_attrs, key, "study '" + study.name() + "'"));
  study.SetStudyUserAttr(key, value_json);
  // One row, not the whole record (up to 1,024 attributes of 64 KiB).
  // Published under the lock, so it cannot land after the study's deletion.
  const Storage::Ticket ticket =
      study.Publish(mutation::SetStudyUserAttr{study.id(), key, value_json}, std::nullopt);
  return Written<bool>{true, ticket};
}

}  // namespace parzen::ops
