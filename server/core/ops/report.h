// Report: stores an intermediate value of a RUNNING trial, then asks the
// study's pruner, off the lock, whether the trial should stop.
#ifndef PARZEN_SERVER_CORE_OPS_REPORT_H_
#define PARZEN_SERVER_CORE_OPS_REPORT_H_

#include "server/core/study.h"
#include "server/core/written.h"

namespace parzen::ops {

struct ReportOutcome {
  bool should_prune = false;
  bool duplicate_step = false;  // the step had a value: the first one is kept
};

// Renews the lease. InvalidArgument (step < 0), NotFound,
// FailedPrecondition (not RUNNING; a multi-objective study),
// ResourceExhausted (the trial's limit of steps). Attributes the pruner
// records with its decision are stored with it.
absl::StatusOr<Written<ReportOutcome>> Report(Study& study, int64_t number, int64_t step,
                                              double value);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_REPORT_H_
