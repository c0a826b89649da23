#include "server/samplers/tpe/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/samplers/random_sampler.h"
#include "server/samplers/tpe/observations.h"

namespace parzen {
namespace {

// What one side's estimator is fitted to: the rows of `group` for the
// observed trials at `indices` that hold every one of its parameters (the
// others are left out), and their weights by age.
struct Fit {
  std::vector<double> rows;
  std::vector<double> weights;
};

Fit Rows(const tpe::Observations& obs, const tpe::ObservationCache& ids,
         const std::vector<size_t>& indices, const SearchSpace& group) {
  std::vector<size_t> columns;
  for (const auto& entry : group) {
    const int id = ids.IdOf(entry.name);
    if (id < 0) return {};
    columns.push_back(static_cast<size_t>(id));
  }
  std::vector<size_t> kept;
  kept.reserve(indices.size());
  for (size_t i : indices) {
    const tpe::TrialRecord& record = *obs.rows[i];
    bool complete = true;
    for (size_t id : columns) complete = complete && !std::isnan(record.Value(id));
    if (complete) kept.push_back(i);
  }
  Fit fit;
  std::vector<double> weights = tpe::DefaultWeights(kept.size());
  if (columns.size() == 1 && !std::holds_alternative<CategoricalDistribution>(group[0].distribution) &&
      columns[0] < obs.by_value.size()) {
    // One number: in order of value, as its estimator wants them, each
    // with the weight of its age.
    constexpr uint32_t kOut = ~uint32_t{0};
    std::vector<uint32_t> age(obs.rows.size(), kOut);
    for (size_t j = 0; j < kept.size(); ++j) age[kept[j]] = static_cast<uint32_t>(j);
    fit.rows.reserve(kept.size());
    fit.weights.reserve(kept.size());
    for (const auto& [row, value] : obs.by_value[columns[0]]) {
      if (age[row] == kOut) continue;
      fit.rows.push_back(value);
      fit.weights.push_back(weights[age[row]]);
    }
    return fit;
  }
  fit.rows.reserve(kept.size() * columns.size());
  for (size_t i : kept) {
    for (size_t id : columns) fit.rows.push_back(obs.rows[i]->Value(id));
  }
  fit.weights = std::move(weights);
  return fit;
}

}  // namespace

TpeSampler::TpeSampler(const v1::TpeSamplerConfig& options)
    : options_(options),
      // Multivariate TPE fits parameters one at a time only where the
      // joint sample left them out: it sorts those itself.
      cache_(options.constant_liar(), /*by_value=*/!options.multivariate()),
      estimator_{.consider_prior = options.consider_prior(),
                 .prior_weight = options.prior_weight(),
                 .consider_magic_clip = options.consider_magic_clip(),
                 .consider_endpoints = options.consider_endpoints(),
                 .multivariate = options.multivariate(),
                 .bandwidth_weighting = options.bandwidth_weighting()} {}

std::map<std::string, double> TpeSampler::SampleGroup(const StudyHistory& study,
                                                       const FrozenTrial& trial,
                                                       const SearchSpace& group,
                                                       bool multivariate) const {
  const std::shared_ptr<const tpe::Observations> obs = cache_.Get(study);
  const size_t n = obs->n_finished;
  if (n < static_cast<size_t>(options_.n_startup_trials()) || n == 0) return {};
  const Fit below = Rows(*obs, cache_, obs->below, group);
  const Fit above = Rows(*obs, cache_, obs->above, group);
  std::vector<tpe::ParamSpace> space;
  std::string key = "tpe";
  for (const auto& [name, d, condition] : group) {
    space.push_back(tpe::SpaceOf(d));
    absl::StrAppend(&key, ":", name);
  }
  tpe::EstimatorOptions o = estimator_;
  o.multivariate = multivariate;
  const tpe::ParzenEstimator good(space, below.rows, below.weights, o);
  const tpe::ParzenEstimator bad(space, above.rows, above.weights, o);
  Rng rng(DrawSeed(options_.seed(), trial.number, key));
  const std::vector<double> candidates =
      good.Sample(rng, static_cast<int>(options_.n_ei_candidates()));
  const std::vector<double> log_l = good.LogPdf(candidates);
  const std::vector<double> log_g = bad.LogPdf(candidates);
  size_t best = 0;
  for (size_t c = 1; c < log_l.size(); ++c) {
    if (log_l[c] - log_g[c] > log_l[best] - log_g[best]) best = c;
  }
  std::map<std::string, double> out;
  for (size_t j = 0; j < group.size(); ++j) out[group[j].name] = candidates[best * group.size() + j];
  return out;
}

absl::StatusOr<RelativeSample> TpeSampler::SampleRelative(const StudyHistory& study,
                                                          const FrozenTrial& trial,
                                                          const SearchSpace& space) const {
  RelativeSample out;
  if (!options_.multivariate() || space.empty()) return out;
  const std::shared_ptr<const tpe::Observations> obs = cache_.Get(study);
  for (const SearchSpace& group :
       tpe::RelativeSearchSpaces(*obs, cache_, space, options_.group())) {
    for (auto& [name, value] : SampleGroup(study, trial, group, /*multivariate=*/true)) {
      out.params[name] = value;
    }
  }
  return out;
}

absl::StatusOr<double> TpeSampler::SampleIndependent(const StudyHistory& study,
                                                     const FrozenTrial& trial,
                                                     const std::string& name,
                                                     const Distribution& distribution) const {
  std::map<std::string, double> sampled =
      SampleGroup(study, trial, {{name, distribution}}, options_.multivariate());
  if (auto it = sampled.find(name); it != sampled.end()) return it->second;
  // Too little history: Optuna's random start, draw for draw the random
  // sampler's with the same seed.
  uint64_t state = DrawSeed(options_.seed(), trial.number, name);
  return SampleUniform(distribution, SplitMix64(state));
}

Plugin<Sampler> TpeSamplerPlugin() {
  return MakePlugin<Sampler, v1::TpeSamplerConfig>(
      "tpe",
      [](v1::TpeSamplerConfig& o, uint64_t seed) -> absl::Status {
        if (!o.has_seed()) o.set_seed(seed);
        if (o.n_startup_trials() < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("n_startup_trials must be >= 0, got ", o.n_startup_trials()));
        }
        if (o.n_ei_candidates() < 1 || o.n_ei_candidates() > 100'000) {
          return absl::InvalidArgumentError(absl::StrCat(
              "n_ei_candidates must lie between 1 and 100000, got ", o.n_ei_candidates()));
        }
        if (!(o.prior_weight() > 0) || !std::isfinite(o.prior_weight())) {
          return absl::InvalidArgumentError(
              absl::StrCat("prior_weight must be a positive number, got ", o.prior_weight()));
        }
        if (o.group() && !o.multivariate()) {
          return absl::InvalidArgumentError("group needs multivariate=true (as in Optuna)");
        }
        return absl::OkStatus();
      },
      [](const v1::TpeSamplerConfig& o) { return std::make_unique<TpeSampler>(o); });
}

}  // namespace parzen
