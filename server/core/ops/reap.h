// Reaping: RUNNING trials whose heartbeat stopped become FAIL ("heartbeat
// lost") and, while the study allows retries, come back as an enqueued
// copy (Optuna's fail_stale_trials with RetryFailedTrialCallback).
#ifndef PARZEN_SERVER_CORE_OPS_REAP_H_
#define PARZEN_SERVER_CORE_OPS_REAP_H_

#include "server/core/study.h"
#include "server/core/study_manager.h"

namespace parzen::ops {

// One study; returns the last ticket written (0: nothing reaped).
Storage::Ticket ReapExpired(Study& study);

// Every study, each change durable before it returns (the reaper's pass).
void ReapExpired(StudyManager& manager);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_REAP_H_
