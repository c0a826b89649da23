// Nsga2Sampler: Optuna's NSGAIISampler as a function of the history.
#ifndef PARZEN_SERVER_SAMPLERS_NSGA2_NSGA2_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_NSGA2_NSGA2_SAMPLER_H_

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/sampler.h"

namespace parzen {

// Generations as Optuna's: a trial belongs to the generation after its
// parents' ("nsga2:generation"); once a generation has population_size
// COMPLETE trials, they and the parents before them are cut back to
// population_size by non-dominated rank, then crowding distance. A new
// trial's parents are two binary tournaments in that population (one when
// crossover is skipped), recorded as "nsga2:parents"; each parameter is
// one parent's value (the second's with swapping_prob) or, with
// mutation_prob, drawn afresh. The choices are seeded per trial and
// parameter, so Ask and define-by-run Suggest give the same child.
// Until the first generation is full every value is random. Thread-safe.
class Nsga2Sampler final : public Sampler {
 public:
  // REQUIRES: `options` passed Nsga2SamplerPlugin's checks.
  explicit Nsga2Sampler(const v1::Nsga2SamplerConfig& options);
  ~Nsga2Sampler() override;
  std::string_view Name() const override { return "nsga2"; }
  absl::StatusOr<RelativeSample> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const override;
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;

  struct Population;

 private:
  // The parents of the generation to come and its number (0: none yet).
  std::shared_ptr<const Population> Parents(const StudyHistory& study) const;
  double Child(const StudyHistory& study, int64_t number, const std::vector<int64_t>& parents,
               const std::string& name, const Distribution& distribution) const;

  const v1::Nsga2SamplerConfig options_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Population> last_ ABSL_GUARDED_BY(mu_);
};

// "nsga2": v1::Nsga2SamplerConfig; the default for multi-objective studies.
Plugin<Sampler> Nsga2SamplerPlugin();

// NSGA-II's survivor selection, exposed for tests: the `size` best of
// `population` (values per trial, one per direction) by non-dominated
// front, the last front cut by crowding distance (widest first); indices
// into `population`, in order of selection.
std::vector<size_t> SelectElite(const std::vector<Direction>& directions,
                                const std::vector<std::vector<double>>& population, size_t size);

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_NSGA2_NSGA2_SAMPLER_H_
