#include "server/samplers/nsga2/nsga2_sampler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "server/samplers/random_sampler.h"
#include "server/samplers/rng.h"

namespace parzen {
namespace {

constexpr char kGenerationAttr[] = "nsga2:generation";
constexpr char kParentsAttr[] = "nsga2:parents";

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "[12,40]" -> {12, 40}; nullopt for anything else.
std::optional<std::vector<int64_t>> ParseParents(const std::string& json) {
  if (json.size() < 2 || json.front() != '[' || json.back() != ']') return std::nullopt;
  std::vector<int64_t> out;
  std::string_view rest(json.data() + 1, json.size() - 2);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::optional<int64_t> n = ParseInt(rest.substr(0, comma));
    if (!n) return std::nullopt;
    out.push_back(*n);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return out;
}

std::string ParentsJson(const std::vector<int64_t>& parents) {
  std::string out = "[";
  for (size_t i = 0; i < parents.size(); ++i) out += (i ? "," : "") + std::to_string(parents[i]);
  return out + "]";
}

// Optuna's crowding distance: per objective, the span between a member's
// neighbours over the front's span; the extremes infinite.
std::vector<double> CrowdingDistance(const std::vector<std::vector<double>>& values,
                                     const std::vector<size_t>& front) {
  std::map<size_t, double> distance;
  for (size_t i : front) distance[i] = 0;
  std::vector<size_t> order = front;
  const size_t m = values[front[0]].size();
  for (size_t k = 0; k < m; ++k) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return values[a][k] < values[b][k]; });
    const double width = values[order.back()][k] - values[order.front()][k];
    if (width == 0) continue;
    distance[order.front()] = std::numeric_limits<double>::infinity();
    distance[order.back()] = std::numeric_limits<double>::infinity();
    for (size_t j = 1; j + 1 < order.size(); ++j) {
      distance[order[j]] += (values[order[j + 1]][k] - values[order[j - 1]][k]) / width;
    }
  }
  std::vector<double> out;
  for (size_t i : front) out.push_back(distance[i]);
  return out;
}

}  // namespace

std::vector<size_t> SelectElite(const std::vector<Direction>& directions,
                                const std::vector<std::vector<double>>& population, size_t size) {
  const size_t n = population.size();
  std::vector<int> dominated_by(n, 0);
  std::vector<std::vector<size_t>> dominates(n);
  for (size_t p = 0; p < n; ++p) {
    for (size_t q = p + 1; q < n; ++q) {
      if (Dominates(directions, population[p], population[q])) {
        dominates[p].push_back(q);
        ++dominated_by[q];
      } else if (Dominates(directions, population[q], population[p])) {
        dominates[q].push_back(p);
        ++dominated_by[p];
      }
    }
  }
  std::vector<size_t> elite;
  std::vector<bool> placed(n, false);
  while (elite.size() < size) {
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (!placed[i] && dominated_by[i] == 0) front.push_back(i);
    }
    if (front.empty()) break;
    for (size_t i : front) {
      placed[i] = true;
      for (size_t j : dominates[i]) --dominated_by[j];
    }
    if (elite.size() + front.size() <= size) {
      elite.insert(elite.end(), front.begin(), front.end());
      continue;
    }
    // The last front that fits only in part: the most isolated first.
    const std::vector<double> distance = CrowdingDistance(population, front);
    std::vector<size_t> order(front.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return distance[a] > distance[b]; });
    for (size_t i = 0; elite.size() < size; ++i) elite.push_back(front[order[i]]);
  }
  return elite;
}

// The parent population after replaying every full generation, and the
// COMPLETE trials each generation had: a later history whose generations
// hold the same trials resumes from here.
struct Nsga2Sampler::Population {
  std::vector<std::vector<int64_t>> generations;
  std::vector<int64_t> parents;  // trial numbers
};

Nsga2Sampler::Nsga2Sampler(const v1::Nsga2SamplerConfig& options) : options_(options) {}
Nsga2Sampler::~Nsga2Sampler() = default;

std::shared_ptr<const Nsga2Sampler::Population> Nsga2Sampler::Parents(
    const StudyHistory& study) const {
  std::vector<std::vector<int64_t>> by_generation;
  for (int64_t n = 0; n < study.num_trials(); ++n) {
    const FrozenTrial& t = study.trial(n);
    if (t.state != TrialState::kComplete || t.values.size() != study.directions().size()) continue;
    auto it = t.system_attrs.find(kGenerationAttr);
    if (it == t.system_attrs.end()) continue;
    std::optional<int64_t> g = ParseInt(it->second);
    if (!g || *g < 0 || *g > study.num_trials()) continue;
    if (static_cast<size_t>(*g) >= by_generation.size()) by_generation.resize(*g + 1);
    by_generation[*g].push_back(n);
  }
  std::shared_ptr<const Population> cached;
  {
    absl::MutexLock lock(&mu_);
    cached = last_;
  }
  auto out = std::make_shared<Population>();
  if (cached && cached->generations.size() <= by_generation.size() &&
      std::equal(cached->generations.begin(), cached->generations.end(), by_generation.begin())) {
    *out = *cached;
  }
  const size_t resumed_at = out->generations.size();
  const auto size = static_cast<size_t>(options_.population_size());
  for (size_t g = out->generations.size(); g < by_generation.size(); ++g) {
    // Under several workers a generation may hold more than its size.
    if (by_generation[g].size() < size) break;
    std::vector<int64_t> candidates = by_generation[g];
    candidates.insert(candidates.end(), out->parents.begin(), out->parents.end());
    std::vector<std::vector<double>> values;
    for (int64_t n : candidates) values.push_back(study.trial(n).values);
    out->parents.clear();
    for (size_t i : SelectElite(study.directions(), values, size)) {
      out->parents.push_back(candidates[i]);
    }
    out->generations.push_back(by_generation[g]);
  }
  if (out->generations.size() != resumed_at || !cached) {
    absl::MutexLock lock(&mu_);
    last_ = out;
  }
  return out;
}

double Nsga2Sampler::Child(const StudyHistory& study, int64_t number,
                           const std::vector<int64_t>& parents, const std::string& name,
                           const Distribution& distribution) const {
  uint64_t state = DrawSeed(options_.seed(), number, name);
  const double random = SampleUniform(distribution, SplitMix64(state));
  Rng rng(SplitMix64(state));
  if (parents.empty() || parents[0] < 0 || parents[0] >= study.num_trials()) return random;
  const FrozenTrial& first = study.trial(parents[0]);
  const double mutation_prob = options_.has_mutation_prob()
                                   ? options_.mutation_prob()
                                   : 1.0 / std::max<double>(1.0, static_cast<double>(first.params.size()));
  if (rng.Uniform() < mutation_prob) return random;
  // Uniform crossover: the second parent's value with swapping_prob.
  const bool swap = parents.size() > 1 && rng.Uniform() < options_.swapping_prob();
  for (size_t k = 0; k < parents.size(); ++k) {
    const int64_t p = parents[swap ? parents.size() - 1 - k : k];
    if (p < 0 || p >= study.num_trials()) continue;
    const TrialParam* inherited = study.trial(p).FindParam(name);
    if (inherited != nullptr && inherited->distribution == distribution &&
        Contains(distribution, inherited->internal_value)) {
      return inherited->internal_value;
    }
  }
  return random;
}

absl::StatusOr<RelativeSample> Nsga2Sampler::SampleRelative(const StudyHistory& study,
                                                            const FrozenTrial& trial,
                                                            const SearchSpace& space) const {
  std::shared_ptr<const Population> population = Parents(study);
  RelativeSample out;
  out.system_attrs[kGenerationAttr] = std::to_string(population->generations.size());
  if (population->parents.empty()) return out;
  Rng rng(DrawSeed(options_.seed(), trial.number, "nsga2 parents"));
  // Binary tournament: the first unless the second dominates it.
  auto tournament = [&] {
    const auto& parents = population->parents;
    const int64_t a = parents[rng.Below(parents.size())];
    const int64_t b = parents[rng.Below(parents.size())];
    return Dominates(study.directions(), study.trial(a).values, study.trial(b).values) ? a : b;
  };
  std::vector<int64_t> parents = {tournament()};
  if (rng.Uniform() < options_.crossover_prob()) parents.push_back(tournament());
  out.system_attrs[kParentsAttr] = ParentsJson(parents);
  for (const SearchSpaceEntry& entry : space) {
    out.params[entry.name] = Child(study, trial.number, parents, entry.name, entry.distribution);
  }
  return out;
}

absl::StatusOr<double> Nsga2Sampler::SampleIndependent(const StudyHistory& study,
                                                       const FrozenTrial& trial,
                                                       const std::string& name,
                                                       const Distribution& distribution) const {
  std::vector<int64_t> parents;
  if (auto it = trial.system_attrs.find(kParentsAttr); it != trial.system_attrs.end()) {
    parents = ParseParents(it->second).value_or(std::vector<int64_t>{});
  }
  return Child(study, trial.number, parents, name, distribution);
}

Plugin<Sampler> Nsga2SamplerPlugin() {
  return MakePlugin<Sampler, v1::Nsga2SamplerConfig>(
      "nsga2",
      [](v1::Nsga2SamplerConfig& o, uint64_t seed) -> absl::Status {
        if (!o.has_seed()) o.set_seed(seed);
        if (o.population_size() < 2 || o.population_size() > 100'000) {
          return absl::InvalidArgumentError(absl::StrCat(
              "population_size must lie between 2 and 100000, got ", o.population_size()));
        }
        auto probability = [](const char* name, double p) -> absl::Status {
          if (p >= 0 && p <= 1) return absl::OkStatus();
          return absl::InvalidArgumentError(absl::StrCat(name, " must lie in [0, 1], got ", p));
        };
        if (o.has_mutation_prob()) PARZEN_RETURN_IF_ERROR(probability("mutation_prob", o.mutation_prob()));
        PARZEN_RETURN_IF_ERROR(probability("crossover_prob", o.crossover_prob()));
        PARZEN_RETURN_IF_ERROR(probability("swapping_prob", o.swapping_prob()));
        return absl::OkStatus();
      },
      [](const v1::Nsga2SamplerConfig& o) { return std::make_unique<Nsga2Sampler>(o); });
}

}  // namespace parzen
