#include "server/samplers/cmaes/cmaes_sampler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "server/samplers/random_sampler.h"
#include "server/samplers/rng.h"

namespace parzen {
namespace {

constexpr char kRestartAttr[] = "cma:restart";
constexpr char kGenerationAttr[] = "cma:generation";

// One searched parameter and how it maps to the optimizer's coordinates.
struct Axis {
  std::string name;
  Distribution distribution;
  bool log = false;
  cmaes::Bounds bounds{};
};

std::optional<Axis> AxisOf(const SearchSpaceEntry& entry) {
  if (entry.condition || IsSingle(entry.distribution)) return std::nullopt;
  Axis axis{entry.name, entry.distribution};
  if (const auto* f = std::get_if<FloatDistribution>(&entry.distribution)) {
    axis.log = f->log;
    const double half = f->step ? *f->step / 2 : 0.0;
    axis.bounds = f->log ? cmaes::Bounds{std::log(f->low), std::log(f->high)}
                         : cmaes::Bounds{f->low - half, f->high + half};
    return axis;
  }
  if (const auto* i = std::get_if<IntDistribution>(&entry.distribution)) {
    axis.log = i->log;
    const double low = static_cast<double>(i->low), high = static_cast<double>(i->high);
    const double half = static_cast<double>(i->step) / 2;
    axis.bounds = i->log ? cmaes::Bounds{std::log(low - 0.5), std::log(high + 0.5)}
                         : cmaes::Bounds{low - half, high + half};
    return axis;
  }
  return std::nullopt;  // categorical
}

double ToCoordinate(const Axis& axis, double internal) {
  return axis.log ? std::log(internal) : internal;
}

// The nearest value the distribution holds.
double FromCoordinate(const Axis& axis, double x) {
  const double v = axis.log ? std::exp(x) : x;
  if (const auto* f = std::get_if<FloatDistribution>(&axis.distribution)) {
    if (f->step) {
      const double k = std::round((v - f->low) / *f->step);
      return std::clamp(f->low + k * *f->step, f->low, f->high);
    }
    return std::clamp(v, f->low, f->high);
  }
  const auto& i = std::get<IntDistribution>(axis.distribution);
  const double low = static_cast<double>(i.low), step = static_cast<double>(i.step);
  return std::clamp(low + std::round((v - low) / step) * step, low, static_cast<double>(i.high));
}

std::optional<int64_t> IntAttr(const FrozenTrial& trial, const char* key) {
  auto it = trial.system_attrs.find(key);
  if (it == trial.system_attrs.end()) return std::nullopt;
  int64_t v;
  const std::string& s = it->second;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A finished trial's solution: its coordinates and the value to minimise.
struct Solution {
  int64_t number;
  std::vector<double> x;
  double value;
};

using Generation = std::pair<int64_t, int64_t>;  // (restart, generation)

}  // namespace

// The optimizer after telling every full generation of a history, and
// which trials each generation told: a later history that starts the same
// resumes from here.
struct CmaEsSampler::Replay {
  std::vector<std::pair<std::string, Distribution>> space;
  std::vector<std::pair<Generation, std::vector<int64_t>>> told;
  int64_t restart = 0;
  cmaes::Cma cma;
};

CmaEsSampler::CmaEsSampler(const v1::CmaEsSamplerConfig& options) : options_(options) {}
CmaEsSampler::~CmaEsSampler() = default;

absl::StatusOr<RelativeSample> CmaEsSampler::SampleRelative(const StudyHistory& study,
                                                            const FrozenTrial& trial,
                                                            const SearchSpace& space) const {
  RelativeSample out;
  if (study.directions().size() != 1) {
    return absl::InvalidArgumentError("the cmaes sampler supports single-objective studies only");
  }
  std::vector<Axis> axes;
  for (const SearchSpaceEntry& entry : space) {
    if (std::optional<Axis> axis = AxisOf(entry)) axes.push_back(*std::move(axis));
  }
  std::sort(axes.begin(), axes.end(), [](const Axis& a, const Axis& b) { return a.name < b.name; });
  // One dimension is left to the independent sampler, as in Optuna.
  if (axes.size() < 2) return out;
  const int dim = static_cast<int>(axes.size());
  const bool maximize = study.directions()[0] == Direction::kMaximize;

  // Finished trials of this space by generation, in number order.
  std::map<Generation, std::vector<Solution>> by_generation;
  int64_t finished = 0;
  for (int64_t n = 0; n < study.num_trials(); ++n) {
    const FrozenTrial& t = study.trial(n);
    std::optional<double> value;
    if (t.state == TrialState::kComplete && !t.values.empty()) {
      value = t.values[0];
    } else if (t.state == TrialState::kPruned && options_.consider_pruned_trials() &&
               !t.intermediate_values.empty()) {
      value = t.intermediate_values.rbegin()->second;
    }
    if (!value || std::isnan(*value)) continue;
    ++finished;
    const std::optional<int64_t> restart = IntAttr(t, kRestartAttr);
    const std::optional<int64_t> generation = IntAttr(t, kGenerationAttr);
    if (!restart || !generation) continue;
    Solution s{n, {}, maximize ? -*value : *value};
    for (const Axis& axis : axes) {
      const TrialParam* p = t.FindParam(axis.name);
      if (p == nullptr || p->distribution != axis.distribution) break;
      s.x.push_back(ToCoordinate(axis, p->internal_value));
    }
    if (static_cast<int>(s.x.size()) != dim) continue;
    by_generation[{*restart, *generation}].push_back(std::move(s));
  }
  if (finished < options_.n_startup_trials()) return out;

  const int base_popsize = options_.has_popsize()
                               ? static_cast<int>(options_.popsize())
                               : 4 + static_cast<int>(std::floor(3 * std::log(dim)));
  double sigma0 = options_.has_sigma0() ? options_.sigma0() : 0;
  if (!options_.has_sigma0()) {
    sigma0 = std::numeric_limits<double>::infinity();
    for (const Axis& axis : axes) {
      double low, high;
      if (const auto* f = std::get_if<FloatDistribution>(&axis.distribution)) {
        low = f->low, high = f->high;
      } else {
        const auto& i = std::get<IntDistribution>(axis.distribution);
        low = static_cast<double>(i.low), high = static_cast<double>(i.high);
      }
      sigma0 = std::min(sigma0, axis.log ? std::log(high) - std::log(low) : high - low);
    }
    sigma0 /= 6;
  }
  auto start = [&](int64_t restart) -> absl::StatusOr<cmaes::Cma> {
    std::vector<double> mean(dim);
    std::vector<cmaes::Bounds> bounds(dim);
    Rng rng(DrawSeed(options_.seed(), restart, "cmaes restart"));
    for (int j = 0; j < dim; ++j) {
      const Axis& axis = axes[j];
      bounds[j] = axis.bounds;
      if (restart > 0) {  // IPOP: a fresh start anywhere
        mean[j] = axis.bounds.low + rng.Uniform() * (axis.bounds.high - axis.bounds.low);
        continue;
      }
      if (auto it = options_.x0().find(axis.name); it != options_.x0().end()) {
        if (axis.log && !(it->second > 0)) {
          return absl::InvalidArgumentError(absl::StrCat("x0 of log parameter '", axis.name,
                                                         "' must be positive, got ", it->second));
        }
        mean[j] = std::clamp(ToCoordinate(axis, it->second), axis.bounds.low, axis.bounds.high);
      } else {
        mean[j] = (ToCoordinate(axis, FromCoordinate(axis, axis.bounds.low)) +
                   ToCoordinate(axis, FromCoordinate(axis, axis.bounds.high))) / 2;
      }
    }
    const int popsize = static_cast<int>(
        base_popsize * std::pow(static_cast<double>(options_.inc_popsize()), restart));
    return cmaes::Cma(std::move(mean), sigma0, std::move(bounds), popsize,
                      options_.use_separable_cma());
  };

  std::vector<std::pair<std::string, Distribution>> key;
  for (const Axis& axis : axes) key.emplace_back(axis.name, axis.distribution);
  auto first_of = [&](const Generation& g, int popsize) -> std::optional<std::vector<int64_t>> {
    auto it = by_generation.find(g);
    if (it == by_generation.end() || static_cast<int>(it->second.size()) < popsize) {
      return std::nullopt;
    }
    std::vector<int64_t> numbers;
    for (int k = 0; k < popsize; ++k) numbers.push_back(it->second[k].number);
    return numbers;
  };

  // Resume from the last replay when this history told the same trials.
  std::shared_ptr<const Replay> cached;
  {
    absl::MutexLock lock(&mu_);
    cached = last_;
  }
  auto replay = std::make_shared<Replay>(Replay{key, {}, 0, cmaes::Cma({0}, 1, {{0, 1}}, 2, false)});
  bool resumed = false;
  if (cached && cached->space == key) {
    resumed = true;
    for (const auto& [g, numbers] : cached->told) {
      const int popsize = static_cast<int>(numbers.size());
      if (first_of(g, popsize) != numbers) {
        resumed = false;
        break;
      }
    }
    if (resumed) *replay = *cached;
  }
  if (!resumed) {
    PARZEN_ASSIGN_OR_RETURN(replay->cma, start(0));
  }
  const size_t told_before = replay->told.size();
  for (;;) {
    const Generation g{replay->restart, replay->cma.generation()};
    std::optional<std::vector<int64_t>> numbers = first_of(g, replay->cma.popsize());
    if (!numbers) break;
    std::vector<std::pair<std::vector<double>, double>> solutions;
    for (int k = 0; k < replay->cma.popsize(); ++k) {
      const Solution& s = by_generation[g][k];
      solutions.emplace_back(s.x, s.value);
    }
    replay->cma.Tell(std::move(solutions));
    replay->told.emplace_back(g, *std::move(numbers));
    if (options_.restart_strategy() == "ipop" && replay->cma.ShouldStop()) {
      ++replay->restart;
      PARZEN_ASSIGN_OR_RETURN(replay->cma, start(replay->restart));
    }
  }
  if (!resumed || replay->told.size() != told_before) {
    absl::MutexLock lock(&mu_);
    last_ = replay;
  }

  Rng rng(DrawSeed(options_.seed(), trial.number, "cmaes"));
  const std::vector<double> x = replay->cma.Ask(rng);
  for (int j = 0; j < dim; ++j) out.params[axes[j].name] = FromCoordinate(axes[j], x[j]);
  out.system_attrs[kRestartAttr] = std::to_string(replay->restart);
  out.system_attrs[kGenerationAttr] = std::to_string(replay->cma.generation());
  return out;
}

absl::StatusOr<double> CmaEsSampler::SampleIndependent(const StudyHistory&, const FrozenTrial& trial,
                                                       const std::string& name,
                                                       const Distribution& distribution) const {
  uint64_t state = DrawSeed(options_.seed(), trial.number, name);
  return SampleUniform(distribution, SplitMix64(state));
}

Plugin<Sampler> CmaEsSamplerPlugin() {
  return MakePlugin<Sampler, v1::CmaEsSamplerConfig>(
      "cmaes",
      [](v1::CmaEsSamplerConfig& o, uint64_t seed) -> absl::Status {
        if (!o.has_seed()) o.set_seed(seed);
        if (o.has_sigma0() && !(o.sigma0() > 0 && std::isfinite(o.sigma0()))) {
          return absl::InvalidArgumentError(absl::StrCat("sigma0 must be positive, got ", o.sigma0()));
        }
        if (o.n_startup_trials() < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("n_startup_trials must be >= 0, got ", o.n_startup_trials()));
        }
        if (o.has_popsize() && (o.popsize() < 2 || o.popsize() > 100'000)) {
          return absl::InvalidArgumentError(
              absl::StrCat("popsize must lie between 2 and 100000, got ", o.popsize()));
        }
        if (o.inc_popsize() < 1 || o.inc_popsize() > 100) {
          return absl::InvalidArgumentError(
              absl::StrCat("inc_popsize must lie between 1 and 100, got ", o.inc_popsize()));
        }
        if (o.restart_strategy() != "none" && o.restart_strategy() != "ipop") {
          return absl::InvalidArgumentError("restart_strategy must be none or ipop, got \"" +
                                            o.restart_strategy() + "\"");
        }
        for (const auto& [name, value] : o.x0()) {
          if (!std::isfinite(value)) {
            return absl::InvalidArgumentError("x0 of '" + name + "' must be finite");
          }
        }
        return absl::OkStatus();
      },
      [](const v1::CmaEsSamplerConfig& o) { return std::make_unique<CmaEsSampler>(o); });
}

}  // namespace parzen
