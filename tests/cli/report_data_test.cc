// The report's numbers without a browser: the importances of a study where
// one parameter decides the objective, and the pairs its contours show.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cli/report/importance.h"
#include "cli/report/report.h"

namespace parzen::cli {
namespace {

// `a` decides the objective; `b` (log) and `c` (categorical) are noise.
std::vector<FrozenTrial> OneParameterDecides(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const Distribution a = FloatDistribution{0, 1, false, std::nullopt};
  const Distribution b = FloatDistribution{1e-3, 1, true, std::nullopt};
  const Distribution c = CategoricalDistribution{{std::string("u"), std::string("v"), std::string("w")}};
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    FrozenTrial t;
    t.number = i;
    t.state = TrialState::kComplete;
    const double x = u(rng);
    t.params = {{"a", a, x}, {"b", b, std::exp(std::log(1e-3) * u(rng))}, {"c", c, std::floor(3 * u(rng))}};
    t.values = {10 * (x - 0.3) * (x - 0.3) + 0.01 * u(rng)};
    trials.push_back(t);
  }
  FrozenTrial failed;  // left out of the importances
  failed.number = n;
  failed.state = TrialState::kFail;
  failed.params = {{"b", b, 0.5}};
  trials.push_back(failed);
  return trials;
}

TEST(ImportanceTest, TheParameterThatDecidesRanksFirstOnEverySeed) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(seed);
    const std::vector<Importance> importances = ParameterImportances(OneParameterDecides(60, seed));
    ASSERT_EQ(importances.size(), 3u);
    EXPECT_EQ(importances[0].name, "a");
    EXPECT_GT(importances[0].importance, 0.5) << "more than the two noise parameters together";
    double sum = 0;
    for (const Importance& i : importances) sum += i.importance;
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

// Chance alone lets k bins explain about (k - 1) / (n - 1) of the variance:
// a noise categorical of 40 choices over 60 trials must not outrank the
// parameter that decides.
TEST(ImportanceTest, ANoiseParameterWithManyChoicesScoresAboutNothing) {
  std::vector<ParamValue> choices;
  for (int c = 0; c < 40; ++c) choices.push_back(std::string("s") + std::to_string(c));
  const Distribution seed = CategoricalDistribution{choices};
  for (uint64_t s = 1; s <= 10; ++s) {
    SCOPED_TRACE(s);
    std::vector<FrozenTrial> trials = OneParameterDecides(60, s);
    std::mt19937_64 rng(100 + s);
    for (FrozenTrial& t : trials) t.params.push_back({"seed", seed, static_cast<double>(rng() % 40)});
    const std::vector<Importance> importances = ParameterImportances(trials);
    ASSERT_EQ(importances.size(), 4u);
    EXPECT_EQ(importances[0].name, "a");
    for (const Importance& i : importances) {
      if (i.name == "seed") {
        EXPECT_LT(i.importance, 0.25);  // eta squared without the correction: 0.3 and more
      }
    }
  }
}

TEST(ImportanceTest, NothingToRankWithoutTwoCompleteTrialsOrAnyVariance) {
  std::vector<FrozenTrial> trials = OneParameterDecides(1, 1);
  EXPECT_TRUE(ParameterImportances(trials).empty());
  trials = OneParameterDecides(20, 2);
  for (FrozenTrial& t : trials) t.values = {1.0};
  EXPECT_TRUE(ParameterImportances(trials).empty());
}

TEST(ReportDataTest, ContoursPairTheMostImportantParameter) {
  const nlohmann::json data =
      ReportData({"s", {Direction::kMinimize}, OneParameterDecides(60, 3)}, 0);
  EXPECT_EQ(data["importance"]["values"][0]["name"], "a");
  ASSERT_EQ(data["contour_pairs"].size(), 3u);
  EXPECT_EQ(data["contour_pairs"][0][0], "a");
  EXPECT_EQ(data["contour_pairs"][1][0], "a");
  EXPECT_EQ(data["trials"]["number"].size(), 61u);
  EXPECT_EQ(data["trials"]["params"]["c"][0].is_string(), true);
  EXPECT_TRUE(data["trials"]["params"]["a"][60].is_null()) << "the FAIL trial has no a";
}

}  // namespace
}  // namespace parzen::cli
