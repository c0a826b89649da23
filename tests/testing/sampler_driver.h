// Drives a Sampler through a study in memory, as the server's Ask does
// (relative sample, then each parameter on its own), with no server: for
// sampler tests.
#ifndef PARZEN_TESTS_TESTING_SAMPLER_DRIVER_H_
#define PARZEN_TESTS_TESTING_SAMPLER_DRIVER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/study_history.h"
#include "server/samplers/sampler.h"

namespace parzen::testing {

// The trial `sampler` would start next in `history`: every parameter of
// `space` sampled (a failed draw is an empty params list).
inline FrozenTrial SampleTrial(const Sampler& sampler, const StudyHistory& history,
                               const SearchSpace& space) {
  FrozenTrial t;
  t.number = history.num_trials();
  t.state = TrialState::kRunning;
  absl::StatusOr<RelativeSample> relative = sampler.SampleRelative(history, t, space);
  if (!relative.ok()) return t;
  std::map<std::string, double> chosen;
  for (const SearchSpaceEntry& entry : space) {
    if (!IsActive(entry, space, chosen)) continue;
    const std::string& name = entry.name;
    const Distribution& d = entry.distribution;
    double v;
    if (auto it = relative->params.find(name); it != relative->params.end() && Contains(d, it->second)) {
      v = it->second;
    } else if (IsSingle(d)) {
      // As the server answers it: the one value.
      if (const auto* f = std::get_if<FloatDistribution>(&d)) v = f->low;
      else if (const auto* i = std::get_if<IntDistribution>(&d)) v = static_cast<double>(i->low);
      else v = 0.0;
    } else {
      absl::StatusOr<double> drawn = sampler.SampleIndependent(history, t, name, d);
      if (!drawn.ok()) return t;
      v = *drawn;
    }
    chosen[name] = v;
    t.params.push_back({name, d, v});
  }
  t.system_attrs = relative->system_attrs;
  return t;
}

// Runs `n_trials` trials one after another, each told COMPLETE with
// objective(params by name, internal values); returns every trial.
inline std::vector<FrozenTrial> RunStudy(
    const Sampler& sampler, const SearchSpace& space,
    const std::function<double(const std::map<std::string, double>&)>& objective, int n_trials,
    Direction direction = Direction::kMinimize) {
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n_trials; ++i) {
    VectorStudyHistory history({direction}, trials);
    FrozenTrial t = SampleTrial(sampler, history, space);
    std::map<std::string, double> params;
    for (const TrialParam& p : t.params) params[p.name] = p.internal_value;
    t.state = TrialState::kComplete;
    t.values = {objective(params)};
    trials.push_back(std::move(t));
  }
  return trials;
}

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_SAMPLER_DRIVER_H_
