// Tell: finishes a trial as COMPLETE (with values), PRUNED or FAIL. An
// identical repeat succeeds, so clients may retry.
#ifndef PARZEN_SERVER_CORE_OPS_TELL_H_
#define PARZEN_SERVER_CORE_OPS_TELL_H_

#include <string>
#include <vector>

#include "server/core/study.h"
#include "server/core/written.h"

namespace parzen::ops {

struct TellOutcome {
  FrozenTrial trial;
  std::string message;  // non-empty when the stored outcome differs from the request
};

// COMPLETE with a NaN value is stored as FAIL; PRUNED keeps the last
// intermediate value. InvalidArgument (values that do not fit the state,
// another state, an over-long reason), NotFound, FailedPrecondition (a
// trial finished otherwise, or never started).
absl::StatusOr<Written<TellOutcome>> Tell(Study& study, int64_t number, TrialState state,
                                          const std::vector<double>& values,
                                          const std::string& fail_reason);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_TELL_H_
