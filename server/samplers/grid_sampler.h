// GridSampler: Optuna's grid search, safe for workers asking at once.
#ifndef PARZEN_SERVER_SAMPLERS_GRID_SAMPLER_H_
#define PARZEN_SERVER_SAMPLERS_GRID_SAMPLER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "server/samplers/sampler.h"

namespace parzen {

// The grid is the product of each parameter's values, parameters in name
// order, the last varying fastest (Optuna's itertools.product over the
// sorted names): point `id` is one element of it. Each Ask takes a point
// no trial of the study holds yet, at random among them, and records it
// as the system attribute "grid_id"; ConfirmClaims refuses a point taken
// by an Ask that committed first, so every point is handed out exactly
// once. With none left, Ask answers OutOfRange: the study is done.
// Thread-safe (const, no state between calls).
class GridSampler final : public Sampler {
 public:
  // REQUIRES: `options` passed GridSamplerPlugin's checks.
  explicit GridSampler(const v1::GridSamplerConfig& options);
  std::string_view Name() const override { return "grid"; }
  absl::StatusOr<RelativeSample> SampleRelative(
      const StudyHistory& study, const FrozenTrial& trial, const SearchSpace& space) const override;
  // Define-by-run: the trial's point's value. InvalidArgument for a trial
  // without a point (enqueued) or a parameter not in the grid.
  absl::StatusOr<double> SampleIndependent(const StudyHistory& study, const FrozenTrial& trial,
                                           const std::string& name,
                                           const Distribution& distribution) const override;
  absl::Status ConfirmClaims(const StudyHistory& now,
                             const std::map<std::string, std::string>& system_attrs) const override;

  int64_t num_points() const { return num_points_; }

 private:
  // The value of parameter `name` at point `id` as an internal value of
  // `distribution`; InvalidArgument when it does not fit it.
  absl::StatusOr<double> ValueAt(int64_t id, const std::string& name,
                                 const Distribution& distribution) const;

  const uint64_t seed_;
  std::map<std::string, std::vector<ParamValue>> axes_;  // by name: the product's order
  int64_t num_points_ = 1;
};

// "grid": v1::GridSamplerConfig. The search space must be non-empty, each
// list non-empty and of numbers, strings or booleans, the product at most
// kMaxGridPoints.
Plugin<Sampler> GridSamplerPlugin();

inline constexpr int64_t kMaxGridPoints = 10'000'000;

// The system attribute holding a trial's grid point.
inline constexpr char kGridIdAttr[] = "grid_id";

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_GRID_SAMPLER_H_
