// User attributes of a trial and of a study (Optuna's set_user_attr).
#ifndef PARZEN_SERVER_CORE_OPS_ATTRS_H_
#define PARZEN_SERVER_CORE_OPS_ATTRS_H_

#include <string>

#include "server/core/study.h"
#include "server/core/written.h"

namespace parzen::ops {

// Adds or replaces one attribute (JSON text) of a RUNNING or WAITING
// trial. InvalidArgument (bad key or value), NotFound, FailedPrecondition
// (finished), ResourceExhausted (beyond kMaxUserAttrs).
absl::StatusOr<Written<bool>> SetTrialUserAttr(Study& study, int64_t number,
                                               const std::string& key,
                                               const std::string& value_json);

// Adds or replaces one attribute of the study. InvalidArgument, NotFound
// (deleted), ResourceExhausted (beyond kMaxUserAttrs).
absl::StatusOr<Written<bool>> SetStudyUserAttr(Study& study, const std::string& key,
                                               const std::string& value_json);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_ATTRS_H_
