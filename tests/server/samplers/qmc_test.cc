// Sobol points as SciPy makes them, their stratification kept by the
// scrambling, and the QMC sampler built on them.
#include "server/samplers/qmc/qmc_sampler.h"

#include <gtest/gtest.h>

#include <set>

#include "server/samplers/registry.h"
#include "tests/testing/sampler_driver.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using testing::RunStudy;

double At(const qmc::SobolSequence& s, uint64_t i, int d) {
  return s.Coordinate(i, d) * 0x1.0p-30;
}

// scipy.stats.qmc.Sobol(d=3, scramble=False).random(8)
TEST(SobolTest, PlainPointsAreSciPys) {
  const qmc::SobolSequence s(3, std::nullopt);
  const double expected[8][3] = {{0, 0, 0},         {0.5, 0.5, 0.5},     {0.75, 0.25, 0.25},
                                 {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625}, {0.875, 0.875, 0.125},
                                 {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375}};
  for (int i = 0; i < 8; ++i) {
    for (int d = 0; d < 3; ++d) EXPECT_EQ(At(s, i, d), expected[i][d]) << i << "," << d;
  }
}

// The first 2^m points put one point in each of the 2^m strata of every
// coordinate, and the first two coordinates one in each cell of a 4 x 4
// grid per 16 points; scrambling keeps both.
TEST(SobolTest, ScramblingKeepsTheStrata) {
  for (std::optional<uint64_t> seed : {std::optional<uint64_t>(), std::optional<uint64_t>(7),
                                       std::optional<uint64_t>(8)}) {
    const qmc::SobolSequence s(qmc::kMaxSobolDims, seed);
    for (int d : {0, 1, 2, 10, 100, 1023}) {
      std::set<int> strata;
      for (uint64_t i = 0; i < 64; ++i) strata.insert(static_cast<int>(At(s, i, d) * 64));
      EXPECT_EQ(strata.size(), 64u) << "dimension " << d;
    }
    for (uint64_t block = 0; block < 4; ++block) {
      std::set<std::pair<int, int>> cells;
      for (uint64_t i = 16 * block; i < 16 * (block + 1); ++i) {
        cells.emplace(static_cast<int>(At(s, i, 0) * 4), static_cast<int>(At(s, i, 1) * 4));
      }
      EXPECT_EQ(cells.size(), 16u);
    }
  }
  const qmc::SobolSequence a(4, 7), b(4, 8);
  EXPECT_NE(At(a, 0, 0), 0);
  EXPECT_NE(At(a, 3, 2), At(b, 3, 2));
}

std::unique_ptr<Sampler> Qmc(uint64_t seed, bool scramble) {
  v1::SamplerConfig config;
  config.mutable_qmc()->set_seed(seed);
  config.mutable_qmc()->set_scramble(scramble);
  SamplerRegistry registry = BuiltinSamplers();
  return *registry.Make(*registry.Resolve(config, seed));
}

const SearchSpace kMixed = {
    {"lr", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
    {"x", FloatDistribution{-3, 3, false, std::nullopt}},
    {"q", FloatDistribution{0, 1, false, 0.25}},
    {"units", IntDistribution{16, 256, false, 16}},
    {"layers", IntDistribution{1, 64, true, 1}},
    {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam"), std::string("rms")}}},
    {"momentum", FloatDistribution{0.5, 0.99, false, std::nullopt},
     Condition{"opt", {std::string("sgd")}}},
};

double Zero(const std::map<std::string, double>&) { return 0; }

TEST(QmcSamplerTest, EveryValueLiesInsideItsDistributionAndSeedsReplay) {
  const auto a = RunStudy(*Qmc(3, true), kMixed, Zero, 64);
  const auto b = RunStudy(*Qmc(3, true), kMixed, Zero, 64);
  const auto c = RunStudy(*Qmc(4, true), kMixed, Zero, 64);
  std::set<double> opt_values;
  int differs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < a[i].params.size(); ++j) {
      const TrialParam& p = a[i].params[j];
      EXPECT_TRUE(Contains(p.distribution, p.internal_value)) << p.name << "=" << p.internal_value;
      ASSERT_EQ(p.internal_value, b[i].params[j].internal_value);
      if (j < c[i].params.size()) differs += p.internal_value != c[i].params[j].internal_value;
      if (p.name == "opt") opt_values.insert(p.internal_value);
    }
  }
  EXPECT_EQ(opt_values.size(), 3u);
  EXPECT_GT(differs, 0);
}

// Unscrambled, as Optuna's default: trial 0 sits on the lower corner, and
// 16 trials cover each quarter of every float range 4 times.
TEST(QmcSamplerTest, TrialsFollowTheSequence) {
  const SearchSpace box = {{"a", FloatDistribution{0, 8, false, std::nullopt}},
                           {"b", FloatDistribution{-1, 1, false, std::nullopt}}};
  const auto trials = RunStudy(*Qmc(1, false), box, Zero, 16);
  EXPECT_EQ(trials[0].params[0].internal_value, 0);
  EXPECT_EQ(trials[0].params[1].internal_value, -1);
  std::map<int, int> quarters_a, quarters_b;
  for (const FrozenTrial& t : trials) {
    ++quarters_a[static_cast<int>(t.params[0].internal_value / 2)];
    ++quarters_b[static_cast<int>((t.params[1].internal_value + 1) * 2)];
  }
  for (int q = 0; q < 4; ++q) {
    EXPECT_EQ(quarters_a[q], 4);
    EXPECT_EQ(quarters_b[q], 4);
  }
}

TEST(QmcSamplerTest, OnlySobolIsOffered) {
  v1::SamplerConfig config;
  config.mutable_qmc()->set_qmc_type("halton");
  EXPECT_EQ(BuiltinSamplers().Resolve(config, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parzen
