// FrozenTrial: an immutable snapshot of one trial, the value samplers,
// pruners and status queries read. Plain value; thread-compatible.
#ifndef PARZEN_COMMON_FROZEN_TRIAL_H_
#define PARZEN_COMMON_FROZEN_TRIAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/distribution.h"
#include "common/types.h"

namespace parzen {

struct TrialParam {
  std::string name;
  Distribution distribution;
  double internal_value = 0;
};

// A plain aggregate: WithOneStep (server/core/study.cc) copies it field by field
// through a structured binding, which stops compiling if a field is added
// without being copied there.
struct FrozenTrial {
  TrialId trial_id = 0;
  StudyId study_id = 0;
  int64_t number = 0;
  TrialState state = TrialState::kRunning;
  std::vector<double> values;                     // set for COMPLETE (and PRUNED)
  std::vector<TrialParam> params;                 // in suggestion order
  std::map<int64_t, double> intermediate_values;  // step -> value
  std::map<std::string, std::string> user_attrs;  // key -> JSON text
  // What the sampler and pruner recorded (key -> JSON text), apart from the
  // user's attributes.
  std::map<std::string, std::string> system_attrs;
  std::map<std::string, ParamValue> fixed_params; // from EnqueueTrial, not yet suggested
  int64_t start_time_us = 0;                      // 0: not started (WAITING)
  int64_t complete_time_us = 0;                   // 0: not finished
  std::string fail_reason;
  std::optional<int64_t> retry_of;                // number of the reaped trial it repeats
  int64_t retry_count = 0;                        // retries before this one in its chain
  std::string worker_id;
  // The request_id of the Ask that started it, so a client retrying that
  // Ask gets this trial back, also after a server restart; empty: none.
  std::string ask_request_id;

  // Optuna's trial.last_step: the largest reported step.
  std::optional<int64_t> last_step() const {
    if (intermediate_values.empty()) return std::nullopt;
    return intermediate_values.rbegin()->first;
  }
  const TrialParam* FindParam(const std::string& name) const {
    for (const TrialParam& p : params) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
};

}  // namespace parzen

#endif  // PARZEN_COMMON_FROZEN_TRIAL_H_
