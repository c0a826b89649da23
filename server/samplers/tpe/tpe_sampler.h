// TpeSampler: Optuna's Tree-structured Parzen Estimator. The finished
// trials (and, with the constant liar, the running ones as bad) are split
// into the best gamma(n) and the rest; a Parzen estimator fitted to each
// scores candidates drawn from the good one, and the candidate with the
// largest l(x)/g(x) wins. Univariate, or multivariate over the parameters
// every finished trial shares, decomposed into groups for conditional
// spaces. Thread-safe: a function of its options and the history.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_TPE_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_TPE_TPE_SAMPLER_H_

#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/sampler.h"
#include "server/samplers/tpe/observations.h"
#include "server/samplers/tpe/parzen_estimator.h"

namespace parzen {

class TpeSampler final : public Sampler {
 public:
  // REQUIRES: `options` passed TpeSamplerPlugin's checks (defaults filled).
  explicit TpeSampler(const v1::TpeSamplerConfig& options);

  std::string_view Name() const override { return "tpe"; }
  absl::StatusOr<RelativeSample> SampleRelative(const StudyHistory& study, const FrozenTrial& trial,
                                                const SearchSpace& space) const override;
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;

 private:
  // Samples `group` (parameters with more than one value each) jointly
  // from the history; nothing while fewer than n_startup_trials finished.
  std::map<std::string, double> SampleGroup(const StudyHistory& study, const FrozenTrial& trial,
                                             const SearchSpace& group, bool multivariate) const;

  const v1::TpeSamplerConfig options_;
  // What earlier Asks of the same history computed.
  mutable tpe::ObservationCache cache_;
  const tpe::EstimatorOptions estimator_;
};

// "tpe": v1::TpeSamplerConfig; the seed drawn at creation when unset.
Plugin<Sampler> TpeSamplerPlugin();


}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_TPE_TPE_SAMPLER_H_
