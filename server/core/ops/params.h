// Parameter checks and draws shared by the Ask and Suggest use cases.
// Functions of their arguments: thread-safe.
#ifndef PARZEN_SERVER_CORE_OPS_PARAMS_H_
#define PARZEN_SERVER_CORE_OPS_PARAMS_H_

#include <map>
#include <string>

#include "common/distribution.h"
#include "common/frozen_trial.h"
#include "common/status.h"
#include "common/study_history.h"
#include "server/samplers/sampler.h"

namespace parzen::ops {

// Optuna's validation of `d`, our size bound, and the parameter's name in
// the InvalidArgument.
absl::StatusOr<Distribution> ValidateParam(const std::string& name, const Distribution& d);

// The internal value of `trial`'s enqueued value for `name` under `d`;
// InvalidArgument naming both when it does not fit (Optuna's suggest
// raises). `label` names the trial. REQUIRES: `trial` has a fixed `name`.
absl::StatusOr<double> FixedInternal(const FrozenTrial& trial, const std::string& label,
                                     const std::string& name, const Distribution& d);

// A value for `name` that needs no sampler: the enqueued one (used even
// outside its range, with a warning, as Optuna does) or the only one a
// distribution holds. nullopt: ask the sampler.
absl::StatusOr<std::optional<double>> UnsampledValue(const FrozenTrial& trial,
                                                     const std::string& label,
                                                     const std::string& name,
                                                     const Distribution& d);

// The value for `name`: unsampled, else `relative`'s when it lies in `d`,
// else the sampler's independent draw. Internal when the sampler returns a
// value outside `d`.
absl::StatusOr<double> SampleParam(const Sampler& sampler, const StudyHistory& history,
                                   const FrozenTrial& trial, const std::string& label,
                                   const std::string& name, const Distribution& d,
                                   const std::map<std::string, double>& relative);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_PARAMS_H_
