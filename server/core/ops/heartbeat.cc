#include "server/core/ops/heartbeat.h"

namespace parzen::ops {

absl::Status Heartbeat(Study& study, int64_t number, const std::string& worker_id) {
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.FindRunning(number, "heartbeat"));
  if (!worker_id.empty() && !trial->worker_id.empty() && worker_id != trial->worker_id) {
    return absl::FailedPreconditionError(study.TrialLabel(number) + " belongs to " +
                                         trial->worker_id + ", not " + worker_id);
  }
  study.Beat(number);
  return absl::OkStatus();
}

}  // namespace parzen::ops
