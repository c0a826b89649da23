// Enqueue: a WAITING trial with fixed parameters, handed out by a later Ask
// before any new one (Optuna's enqueue_trial).
#ifndef PARZEN_SERVER_CORE_OPS_ENQUEUE_H_
#define PARZEN_SERVER_CORE_OPS_ENQUEUE_H_

#include <map>
#include <string>

#include "server/core/study.h"
#include "server/core/written.h"

namespace parzen::ops {

// InvalidArgument for a bad name, a value no distribution could hold
// (integers beyond 2^53, non-finite numbers, long or non-UTF-8 text), one
// that does not fit how the name was used before, or bad user attributes.
absl::StatusOr<Written<FrozenTrial>> Enqueue(Study& study,
                                             const std::map<std::string, ParamValue>& params,
                                             const std::map<std::string, std::string>& user_attrs);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_ENQUEUE_H_
