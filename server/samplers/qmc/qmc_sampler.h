// QmcSampler: Optuna's QMCSampler over a Sobol sequence.
#ifndef PARZEN_SERVER_SAMPLERS_QMC_QMC_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_QMC_QMC_SAMPLER_H_

#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/qmc/sobol.h"
#include "server/samplers/sampler.h"

namespace parzen {

// Trial n takes point n of the sequence, one dimension per parameter of
// the Ask in name order, each coordinate mapped as the random sampler maps
// a uniform draw (log-uniform for log, cells for int, step and
// categorical). Using the trial number as the index needs no shared
// counter, so parallel workers take consecutive points. Optuna leaves
// categoricals to its independent sampler; here they take a dimension
// too. Define-by-run Suggests are sampled at random. Thread-safe.
class QmcSampler final : public Sampler {
 public:
  // REQUIRES: `options` passed QmcSamplerPlugin's checks.
  explicit QmcSampler(const v1::QmcSamplerConfig& options);
  std::string_view Name() const override { return "qmc"; }
  absl::StatusOr<RelativeSample> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const override;
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;

 private:
  const uint64_t seed_;
  const qmc::SobolSequence sequence_;
};

// "qmc": v1::QmcSamplerConfig.
Plugin<Sampler> QmcSamplerPlugin();

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_QMC_QMC_SAMPLER_H_
