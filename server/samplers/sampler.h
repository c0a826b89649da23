// Sampler: proposes parameter values, following Optuna's split between a
// joint (relative) sample over the known search space and an independent
// sample per parameter.
#ifndef PARZEN_SERVER_SAMPLERS_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_SAMPLER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/distribution.h"
#include "common/frozen_trial.h"
#include "common/search_space.h"
#include "common/status.h"
#include "common/study_history.h"

namespace parzen {

// What a sampler proposes for a trial at Ask: values (internal
// representations) for some or all of the search space, and system
// attributes to record on the trial with them (a grid point's id).
struct RelativeSample {
  std::map<std::string, double> params;
  std::map<std::string, std::string> system_attrs;  // key -> JSON text
};

// Contract: a function of its arguments and the options it was built with.
// Const, no I/O, no shared RNG: called from several threads at once, off
// the study's lock, with an immutable snapshot of the history, so it may
// take its time without holding up the study. The same (options, history,
// trial number, name) gives the same value, so a study can be replayed.
// Returned values are internal representations inside their distribution.
// `trial` is the trial being sampled: RUNNING, with the number it will
// most likely get (a concurrent Ask may commit first); it is not in
// `study`.
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string_view Name() const = 0;

  // Joint sample over `space` (the parameters an Ask names at once). May
  // cover a subset only; the rest are sampled independently.
  virtual absl::StatusOr<RelativeSample> SampleRelative(const StudyHistory& study,
                                                        const FrozenTrial& trial,
                                                        const SearchSpace& space) const = 0;

  // One parameter, for define-by-run Suggest and whatever SampleRelative left out.
  virtual absl::StatusOr<double> SampleIndependent(const StudyHistory& study,
                                                   const FrozenTrial& trial,
                                                   const std::string& name,
                                                   const Distribution& distribution) const = 0;

  // Under the study's lock, just before an Ask's trial starts: whether what
  // its sample claims for itself alone (in its system attributes, e.g. a
  // grid point) is still free in `now`, the history as it is then, which
  // holds the trials started since the sample's snapshot. Aborted sends the
  // Ask back to sample again from a fresh snapshot. The study waits on
  // this call, so it must be quick. Default: nothing is claimed.
  virtual absl::Status ConfirmClaims(const StudyHistory& now,
                                     const std::map<std::string, std::string>& system_attrs) const {
    (void)now;
    (void)system_attrs;
    return absl::OkStatus();
  }
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_SAMPLER_H_
