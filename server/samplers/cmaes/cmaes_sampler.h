// CmaEsSampler: Optuna's CMA-ES sampler as a function of the history.
#ifndef PARZEN_SERVER_SAMPLERS_CMAES_CMAES_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_CMAES_CMAES_SAMPLER_H_

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/cmaes/cma.h"
#include "server/samplers/sampler.h"

namespace parzen {

// The float and int parameters of an Ask (without conditions, at least
// two) are searched jointly: log parameters in log space, int and stepped
// ones as continuous over their cells, rounded back. Each trial records
// its restart and generation ("cma:restart", "cma:generation"); the
// optimizer is the replay of every full generation in the history (the
// first popsize finished trials of each, by number), so any server
// rebuilds it from the database alone. Replays are cached between Asks.
// Everything else (categoricals, conditional or lone parameters, and the
// first n_startup_trials) is sampled at random. Thread-safe.
class CmaEsSampler final : public Sampler {
 public:
  // REQUIRES: `options` passed CmaEsSamplerPlugin's checks.
  explicit CmaEsSampler(const v1::CmaEsSamplerConfig& options);
  ~CmaEsSampler() override;
  std::string_view Name() const override { return "cmaes"; }
  absl::StatusOr<RelativeSample> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const override;
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;

 private:
  struct Replay;
  const v1::CmaEsSamplerConfig options_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Replay> last_ ABSL_GUARDED_BY(mu_);
};

// "cmaes": v1::CmaEsSamplerConfig.
Plugin<Sampler> CmaEsSamplerPlugin();

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_CMAES_CMAES_SAMPLER_H_
