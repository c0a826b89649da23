#include "server/samplers/tpe/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "server/samplers/random_sampler.h"
#include "server/samplers/tpe/search_space_groups.h"

namespace parzen {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One trial as TPE ranks it: lexicographically by (key, score), smaller
// better. COMPLETE trials come first (key -inf), then PRUNED ones by how
// far they got (key -step) and their last value there, then RUNNING ones
// (key +inf), which the constant liar counts as the worst.
struct Ranked {
  const FrozenTrial* trial;
  double key;
  double score;
};

// Non-dominated sorting for a multi-objective study: the rank of each
// COMPLETE trial's (minimising) values.
std::vector<int> NondominationRanks(const std::vector<std::vector<double>>& values) {
  const size_t n = values.size();
  std::vector<int> rank(n, -1);
  auto dominates = [&](size_t a, size_t b) {
    bool better = false;
    for (size_t j = 0; j < values[a].size(); ++j) {
      if (values[a][j] > values[b][j]) return false;
      better = better || values[a][j] < values[b][j];
    }
    return better;
  };
  size_t ranked = 0;
  for (int r = 0; ranked < n; ++r) {
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (rank[i] != -1) continue;
      bool dominated = false;
      for (size_t j = 0; j < n && !dominated; ++j) {
        dominated = j != i && rank[j] == -1 && dominates(j, i);
      }
      if (!dominated) front.push_back(i);
    }
    for (size_t i : front) rank[i] = r;
    ranked += front.size();
  }
  return rank;
}

std::vector<Ranked> RankTrials(const StudyHistory& study, bool constant_liar) {
  const std::vector<Direction>& directions = study.directions();
  const bool multi = directions.size() > 1;
  auto sign = [&](size_t j) { return directions[j] == Direction::kMinimize ? 1.0 : -1.0; };
  std::vector<Ranked> out;
  std::vector<std::vector<double>> objectives;  // multi-objective COMPLETE trials
  for (int64_t n = 0; n < study.num_trials(); ++n) {
    const FrozenTrial& t = study.trial(n);
    if (t.state == TrialState::kComplete) {
      if (t.values.size() != directions.size()) continue;
      if (multi) {
        std::vector<double> v(t.values.size());
        for (size_t j = 0; j < v.size(); ++j) v[j] = sign(j) * t.values[j];
        objectives.push_back(std::move(v));
      }
      out.push_back({&t, -kInf, multi ? 0.0 : sign(0) * t.values[0]});
    } else if (t.state == TrialState::kPruned && !multi) {
      if (auto step = t.last_step()) {
        const double v = t.intermediate_values.at(*step);
        out.push_back({&t, -static_cast<double>(*step), std::isnan(v) ? kInf : sign(0) * v});
      } else {
        out.push_back({&t, 1.0, 0.0});
      }
    } else if (t.state == TrialState::kRunning && constant_liar && !multi) {
      out.push_back({&t, kInf, kInf});
    }
  }
  if (multi) {
    // Ranked by their front, earliest first within one (Optuna breaks
    // those ties by hypervolume contribution).
    const std::vector<int> ranks = NondominationRanks(objectives);
    for (size_t i = 0; i < out.size(); ++i) out[i].score = ranks[i];
  }
  return out;
}

// The indices of the best n_below of `ranked` and of the rest, each in
// the trials' own order.
std::pair<std::vector<size_t>, std::vector<size_t>> Split(const std::vector<Ranked>& ranked,
                                                          size_t n_below) {
  std::vector<size_t> order(ranked.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (ranked[a].key != ranked[b].key) return ranked[a].key < ranked[b].key;
    return ranked[a].score < ranked[b].score;
  });
  n_below = std::min(n_below, order.size());
  std::vector<size_t> below(order.begin(), order.begin() + static_cast<ptrdiff_t>(n_below));
  std::vector<size_t> above(order.begin() + static_cast<ptrdiff_t>(n_below), order.end());
  std::sort(below.begin(), below.end());
  std::sort(above.begin(), above.end());
  return {below, above};
}

// The rows of `group` for the trials at `indices` that hold every one of
// its parameters; others are left out.
std::pair<std::vector<double>, size_t> Rows(const std::vector<Ranked>& ranked,
                                            const std::vector<size_t>& indices,
                                            const SearchSpace& group) {
  std::vector<double> rows;
  size_t n = 0;
  std::vector<double> row(group.size());
  for (size_t i : indices) {
    bool complete = true;
    for (size_t j = 0; j < group.size() && complete; ++j) {
      const TrialParam* p = ranked[i].trial->FindParam(group[j].name);
      complete = p != nullptr;
      if (complete) row[j] = p->internal_value;
    }
    if (!complete) continue;
    rows.insert(rows.end(), row.begin(), row.end());
    ++n;
  }
  return {rows, n};
}

size_t Finished(const std::vector<Ranked>& ranked) {
  return static_cast<size_t>(std::count_if(ranked.begin(), ranked.end(),
                                           [](const Ranked& r) { return r.key < kInf; }));
}

}  // namespace

size_t DefaultGamma(size_t n) {
  return std::min<size_t>(static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
}

TpeSampler::TpeSampler(const v1::TpeSamplerConfig& options)
    : options_(options),
      estimator_{.consider_prior = options.consider_prior(),
                 .prior_weight = options.prior_weight(),
                 .consider_magic_clip = options.consider_magic_clip(),
                 .consider_endpoints = options.consider_endpoints(),
                 .multivariate = options.multivariate()} {}

std::map<std::string, double> TpeSampler::SampleGroup(const StudyHistory& study,
                                                       const FrozenTrial& trial,
                                                       const SearchSpace& group,
                                                       bool multivariate) const {
  const std::vector<Ranked> ranked = RankTrials(study, options_.constant_liar());
  const size_t n = Finished(ranked);
  if (n < static_cast<size_t>(options_.n_startup_trials()) || n == 0) return {};
  auto [below_idx, above_idx] = Split(ranked, DefaultGamma(n));
  auto [below, n_below] = Rows(ranked, below_idx, group);
  auto [above, n_above] = Rows(ranked, above_idx, group);
  std::vector<tpe::ParamSpace> space;
  std::string key = "tpe";
  for (const auto& [name, d] : group) {
    space.push_back(tpe::SpaceOf(d));
    absl::StrAppend(&key, ":", name);
  }
  tpe::EstimatorOptions o = estimator_;
  o.multivariate = multivariate;
  const tpe::ParzenEstimator good(space, below, tpe::DefaultWeights(n_below), o);
  const tpe::ParzenEstimator bad(space, above, tpe::DefaultWeights(n_above), o);
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
  if (!options_.multivariate()) return out;
  for (const SearchSpace& group :
       tpe::RelativeSearchSpaces(study, space, options_.group())) {
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
