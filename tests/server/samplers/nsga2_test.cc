// NSGA-II: survivor selection by front and crowding, children inside their
// distributions, reproducible, and a front that moves towards the optimum.
#include "server/samplers/nsga2/nsga2_sampler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "server/samplers/registry.h"
#include "tests/testing/sampler_driver.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using testing::SampleTrial;

const std::vector<Direction> kTwoMin = {Direction::kMinimize, Direction::kMinimize};

std::unique_ptr<Sampler> Nsga2(uint64_t seed, int population = 20) {
  v1::SamplerConfig config;
  config.mutable_nsga2()->set_seed(seed);
  config.mutable_nsga2()->set_population_size(population);
  SamplerRegistry registry = BuiltinSamplers();
  absl::StatusOr<AlgorithmSpec> spec = registry.Resolve(config, seed, 2);
  EXPECT_OK(spec.status());
  return *registry.Make(*spec);
}

using Objectives = std::function<std::vector<double>(const std::map<std::string, double>&)>;

std::vector<FrozenTrial> RunMulti(const Sampler& sampler, const SearchSpace& space,
                                  const Objectives& f, int n_trials) {
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n_trials; ++i) {
    VectorStudyHistory history(kTwoMin, trials);
    FrozenTrial t = SampleTrial(sampler, history, space);
    std::map<std::string, double> p;
    for (const TrialParam& param : t.params) p[param.name] = param.internal_value;
    t.state = TrialState::kComplete;
    t.values = f(p);
    trials.push_back(std::move(t));
  }
  return trials;
}

SearchSpace Unit(int dims) {
  SearchSpace space;
  for (int i = 0; i < dims; ++i) {
    space.push_back({"x" + std::to_string(i), FloatDistribution{0, 1, false, std::nullopt}});
  }
  return space;
}

// ZDT1: the front is f2 = 1 - sqrt(f1), reached when x1.. are 0.
std::vector<double> Zdt1(const std::map<std::string, double>& p) {
  double sum = 0;
  for (const auto& [name, v] : p) sum += name == "x0" ? 0 : v;
  const double g = 1 + 9 * sum / static_cast<double>(p.size() - 1);
  const double f1 = p.at("x0");
  return {f1, g * (1 - std::sqrt(f1 / g))};
}

// Area dominated by the trials inside the box up to (1, 10).
double Hypervolume(const std::vector<FrozenTrial>& trials) {
  std::vector<std::pair<double, double>> points;
  for (const FrozenTrial& t : trials) {
    if (t.values[0] < 1 && t.values[1] < 10) points.emplace_back(t.values[0], t.values[1]);
  }
  std::sort(points.begin(), points.end());
  double area = 0, best_f2 = 10;
  for (size_t i = 0; i < points.size(); ++i) {
    best_f2 = std::min(best_f2, points[i].second);
    const double next_f1 = i + 1 < points.size() ? points[i + 1].first : 1.0;
    area += (next_f1 - points[i].first) * (10 - best_f2);
  }
  return area;
}

TEST(SelectEliteTest, WholeFrontsFirstThenTheMostIsolated) {
  const std::vector<std::vector<double>> population = {
      {4, 4},                   // 0: dominated by everything else
      {0, 3}, {1, 1}, {3, 0},   // 1-3: first front
      {2, 2}, {1.5, 2.8}, {2.5, 1.5}};  // 4-6: second front
  std::vector<size_t> elite = SelectElite(kTwoMin, population, 5);
  ASSERT_EQ(elite.size(), 5u);
  std::sort(elite.begin(), elite.begin() + 3);
  EXPECT_EQ(std::vector<size_t>(elite.begin(), elite.begin() + 3), (std::vector<size_t>{1, 2, 3}));
  // Of the second front (by f1: 5, 4, 6; by f2: 6, 4, 5), the extremes
  // 5 and 6 have infinite crowding distance; 4 lies between.
  std::vector<size_t> rest(elite.begin() + 3, elite.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (std::vector<size_t>{5, 6}));
  EXPECT_EQ(SelectElite(kTwoMin, population, 7).size(), 7u);
}

TEST(Nsga2SamplerTest, EveryValueLiesInsideItsDistribution) {
  const SearchSpace space = {
      {"lr", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
      {"q", FloatDistribution{0, 1, false, 0.25}},
      {"units", IntDistribution{16, 256, false, 16}},
      {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}},
      {"momentum", FloatDistribution{0.5, 0.99, false, std::nullopt},
       Condition{"opt", {std::string("sgd")}}},
  };
  auto f = [](const std::map<std::string, double>& p) {
    return std::vector<double>{std::fabs(std::log10(p.at("lr")) + 3) + p.at("q"),
                               p.at("units") / 256 + p.at("opt")};
  };
  const auto trials = RunMulti(*Nsga2(3, 10), space, f, 80);
  int with_parents = 0;
  for (const FrozenTrial& t : trials) {
    with_parents += t.system_attrs.contains("nsga2:parents");
    for (const TrialParam& p : t.params) {
      EXPECT_TRUE(Contains(p.distribution, p.internal_value)) << p.name << "=" << p.internal_value;
    }
  }
  EXPECT_EQ(with_parents, 70);  // all after the first generation of 10
}

TEST(Nsga2SamplerTest, TheSameSeedGivesTheSameParametersAndSuggestAgreesWithAsk) {
  const auto a = RunMulti(*Nsga2(8), Unit(4), Zdt1, 60);
  const auto b = RunMulti(*Nsga2(8), Unit(4), Zdt1, 60);
  const auto c = RunMulti(*Nsga2(9), Unit(4), Zdt1, 60);
  int differs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < 4; ++j) {
      ASSERT_EQ(a[i].params[j].internal_value, b[i].params[j].internal_value);
      differs += a[i].params[j].internal_value != c[i].params[j].internal_value;
    }
  }
  EXPECT_GT(differs, 0);
  // Define-by-run: each Suggest of the trial Ask would have made.
  std::unique_ptr<Sampler> sampler = Nsga2(8);
  VectorStudyHistory history(kTwoMin, a);
  FrozenTrial asked = SampleTrial(*sampler, history, Unit(4));
  ASSERT_TRUE(asked.system_attrs.contains("nsga2:parents"));
  FrozenTrial running = asked;
  running.params.clear();
  for (const SearchSpaceEntry& e : Unit(4)) {
    ASSERT_OK_AND_ASSIGN(double v, sampler->SampleIndependent(history, running, e.name, e.distribution));
    EXPECT_EQ(v, asked.FindParam(e.name)->internal_value) << e.name;
  }
}

TEST(Nsga2SamplerTest, PushesTheFrontFurtherThanRandomSearchOnZdt1) {
  SamplerRegistry registry = BuiltinSamplers();
  double nsga2 = 0, random = 0;
  for (uint64_t seed : {1, 2, 3}) {
    nsga2 += Hypervolume(RunMulti(*Nsga2(seed), Unit(5), Zdt1, 300));
    v1::SamplerConfig r;
    r.mutable_random()->set_seed(seed);
    random += Hypervolume(RunMulti(**registry.Make(*registry.Resolve(r, seed)), Unit(5), Zdt1, 300));
  }
  EXPECT_GT(nsga2, random * 1.05) << nsga2 / 3 << " vs " << random / 3;
}

TEST(Nsga2SamplerTest, IsTheDefaultForSeveralObjectives) {
  SamplerRegistry registry = BuiltinSamplers();
  EXPECT_EQ(registry.Resolve(v1::SamplerConfig(), 1, 2)->name, "nsga2");
  EXPECT_EQ(registry.Resolve(v1::SamplerConfig(), 1, 1)->name, "tpe");
  for (const auto& tweak : std::vector<std::function<void(v1::Nsga2SamplerConfig&)>>{
           [](auto& o) { o.set_population_size(1); }, [](auto& o) { o.set_mutation_prob(1.5); },
           [](auto& o) { o.set_crossover_prob(-0.1); }, [](auto& o) { o.set_swapping_prob(2); }}) {
    v1::SamplerConfig config;
    tweak(*config.mutable_nsga2());
    EXPECT_EQ(registry.Resolve(config, 1, 2).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace parzen
