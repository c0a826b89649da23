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
#include "common/search_space.h"
#include "common/status.h"
#include "common/study_history.h"
#include "common/trial.h"

namespace parzen {

// Contract: a function of its arguments and the study seed it was built
// with. Const, no I/O, no shared RNG: safe to call from several threads at
// once, and the same (seed, history, trial number, name) gives the same
// value, so a study can be replayed. Returned values are internal
// representations inside their distribution. `trial` is the trial being
// sampled (RUNNING); it may also appear in study.trials().
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string_view Name() const = 0;

  // Joint sample over `space` (the parameters an Ask names at once). May
  // return values for a subset only; the rest are sampled independently.
  virtual absl::StatusOr<std::map<std::string, double>> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const = 0;

  // One parameter, for define-by-run Suggest and whatever SampleRelative left out.
  virtual absl::StatusOr<double> SampleIndependent(const StudyHistory& study,
                                                   const FrozenTrial& trial,
                                                   const std::string& name,
                                                   const Distribution& distribution) const = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_SAMPLER_H_
