// Heartbeat: keeps a RUNNING trial's lease.
#ifndef PARZEN_SERVER_CORE_OPS_HEARTBEAT_H_
#define PARZEN_SERVER_CORE_OPS_HEARTBEAT_H_

#include <string>

#include "server/core/study.h"

namespace parzen::ops {

// NotFound; FailedPrecondition once the trial finished (reaped, told) or
// when `worker_id` is not the worker it was handed to (an empty id on
// either side matches).
absl::Status Heartbeat(Study& study, int64_t number, const std::string& worker_id);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_HEARTBEAT_H_
