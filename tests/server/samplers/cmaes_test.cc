// CMA-ES: the optimizer converges, and the sampler built on it keeps its
// values inside their distributions, replays the same from any history and
// restarts with a larger population under IPOP.
#include "server/samplers/cmaes/cmaes_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "server/samplers/registry.h"
#include "tests/testing/sampler_driver.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using testing::RunStudy;
using testing::SampleTrial;

std::unique_ptr<Sampler> CmaEs(uint64_t seed, const std::function<void(v1::CmaEsSamplerConfig&)>& tweak = {}) {
  v1::SamplerConfig config;
  config.mutable_cmaes()->set_seed(seed);
  if (tweak) tweak(*config.mutable_cmaes());
  SamplerRegistry registry = BuiltinSamplers();
  absl::StatusOr<AlgorithmSpec> spec = registry.Resolve(config, seed);
  EXPECT_OK(spec.status());
  return *registry.Make(*spec);
}

SearchSpace Box(int dims, double low, double high) {
  SearchSpace space;
  for (int i = 0; i < dims; ++i) {
    space.push_back({"x" + std::to_string(i), FloatDistribution{low, high, false, std::nullopt}});
  }
  return space;
}

double Sphere(const std::map<std::string, double>& p) {
  double s = 0;
  for (const auto& [name, v] : p) s += (v - 1) * (v - 1);
  return s;
}

double Best(const std::vector<FrozenTrial>& trials) {
  double best = INFINITY;
  for (const FrozenTrial& t : trials) best = std::min(best, t.values[0]);
  return best;
}

TEST(SymmetricEigenTest, RebuildsTheMatrix) {
  const std::vector<double> a = {4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 2};
  std::vector<double> values, vectors;
  cmaes::SymmetricEigen(3, a, values, vectors);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += vectors[i * 3 + k] * values[k] * vectors[j * 3 + k];
      EXPECT_NEAR(s, a[i * 3 + j], 1e-12);
    }
  }
}

TEST(CmaTest, ConvergesOnASphereAndThenStops) {
  for (bool separable : {false, true}) {
    cmaes::Cma cma({3, 3, 3, 3}, 2.0, std::vector<cmaes::Bounds>(4, {-5, 10}), 8, separable);
    Rng rng(1);
    double best = INFINITY;
    int generations = 0;
    while (!cma.ShouldStop() && generations < 2000) {
      std::vector<std::pair<std::vector<double>, double>> solutions;
      for (int k = 0; k < cma.popsize(); ++k) {
        std::vector<double> x = cma.Ask(rng);
        double f = 0;
        for (double xi : x) f += (xi - 1) * (xi - 1);
        best = std::min(best, f);
        solutions.emplace_back(std::move(x), f);
      }
      cma.Tell(std::move(solutions));
      ++generations;
    }
    EXPECT_LT(best, 1e-12) << "separable " << separable;
    EXPECT_LT(generations, 2000) << "never stopped; separable " << separable;
  }
}

// The Done-when check: the sampler, through Ask's path, on a 4-D sphere.
TEST(CmaEsSamplerTest, ConvergesOnAFourDimensionalSphere) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto trials = RunStudy(*CmaEs(seed), Box(4, -5, 10), Sphere, 400);
    EXPECT_LT(Best(trials), 1e-4) << "seed " << seed;
    // Far better than random search's ~1 at this budget.
    EXPECT_LT(Best(trials), Best(RunStudy(*CmaEs(seed, [](auto& o) { o.set_n_startup_trials(1000); }),
                                          Box(4, -5, 10), Sphere, 400)) / 100);
  }
}

TEST(CmaEsSamplerTest, EveryValueLiesInsideItsDistribution) {
  const SearchSpace space = {
      {"lr", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
      {"q", FloatDistribution{0, 1, false, 0.25}},
      {"units", IntDistribution{16, 256, false, 16}},
      {"layers", IntDistribution{1, 64, true, 1}},
      {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}},
      {"momentum", FloatDistribution{0.5, 0.99, false, std::nullopt},
       Condition{"opt", {std::string("sgd")}}},
  };
  auto objective = [](const std::map<std::string, double>& p) {
    return std::pow(std::log10(p.at("lr")) + 3, 2) + std::fabs(p.at("q") - 0.5) +
           std::fabs(p.at("units") - 100) / 50 + std::fabs(std::log(p.at("layers") / 8));
  };
  const auto trials = RunStudy(*CmaEs(4), space, objective, 120);
  int from_cma = 0;
  for (const FrozenTrial& t : trials) {
    from_cma += t.system_attrs.contains("cma:generation");
    for (const TrialParam& p : t.params) {
      EXPECT_TRUE(Contains(p.distribution, p.internal_value)) << p.name << "=" << p.internal_value;
    }
  }
  EXPECT_EQ(from_cma, 119);  // all but the random first (n_startup_trials 1)
}

// The replay cache changes nothing: a fresh sampler on the same history
// proposes what the one that saw every Ask does.
TEST(CmaEsSamplerTest, TheSameSeedAndHistoryGiveTheSameParameters) {
  auto a = CmaEs(9);
  const auto trials = RunStudy(*a, Box(3, -2, 2), Sphere, 60);
  const auto again = RunStudy(*CmaEs(9), Box(3, -2, 2), Sphere, 60);
  const auto other = RunStudy(*CmaEs(10), Box(3, -2, 2), Sphere, 60);
  int differs = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    for (size_t j = 0; j < 3; ++j) {
      ASSERT_EQ(trials[i].params[j].internal_value, again[i].params[j].internal_value) << i;
      differs += trials[i].params[j].internal_value != other[i].params[j].internal_value;
    }
  }
  EXPECT_GT(differs, 0);
  VectorStudyHistory history({Direction::kMinimize}, trials);
  const FrozenTrial warm = SampleTrial(*a, history, Box(3, -2, 2));
  const FrozenTrial cold = SampleTrial(*CmaEs(9), history, Box(3, -2, 2));
  ASSERT_EQ(warm.params.size(), 3u);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(warm.params[j].internal_value, cold.params[j].internal_value);
  EXPECT_EQ(warm.system_attrs, cold.system_attrs);
}

TEST(CmaEsSamplerTest, IpopRestartsWithADoubledPopulationOnceConverged) {
  auto ipop = CmaEs(5, [](auto& o) {
    o.set_restart_strategy("ipop");
    o.set_popsize(4);
  });
  const auto trials = RunStudy(*ipop, Box(2, -1, 3), Sphere, 700);
  std::map<std::string, std::set<std::string>> generations_by_restart;
  for (const FrozenTrial& t : trials) {
    if (!t.system_attrs.contains("cma:restart")) continue;
    generations_by_restart[t.system_attrs.at("cma:restart")].insert(t.system_attrs.at("cma:generation"));
  }
  ASSERT_GE(generations_by_restart.size(), 2u);
  // Restart 1 runs generations of 8: count its trials of generation 0.
  int first_generation = 0;
  for (const FrozenTrial& t : trials) {
    first_generation += t.system_attrs.contains("cma:restart") &&
                        t.system_attrs.at("cma:restart") == "1" &&
                        t.system_attrs.at("cma:generation") == "0";
  }
  EXPECT_EQ(first_generation, 8);
}

TEST(CmaEsSamplerTest, BadOptionsAreRefused) {
  SamplerRegistry registry = BuiltinSamplers();
  for (const auto& tweak : std::vector<std::function<void(v1::CmaEsSamplerConfig&)>>{
           [](auto& o) { o.set_sigma0(0); }, [](auto& o) { o.set_popsize(1); },
           [](auto& o) { o.set_restart_strategy("bipop"); },
           [](auto& o) { o.set_n_startup_trials(-1); },
           [](auto& o) { (*o.mutable_x0())["x"] = NAN; }}) {
    v1::SamplerConfig config;
    tweak(*config.mutable_cmaes());
    EXPECT_EQ(registry.Resolve(config, 1).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace parzen
