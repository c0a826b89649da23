#include "server/core/pareto_front.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

namespace parzen {
namespace {

constexpr Direction kMin = Direction::kMinimize;
constexpr Direction kMax = Direction::kMaximize;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<int64_t> FrontOf(const std::vector<Direction>& directions,
                             const std::vector<std::vector<double>>& values) {
  ParetoFront front(directions);
  for (size_t i = 0; i < values.size(); ++i) front.Add(static_cast<int64_t>(i), values[i]);
  return front.numbers();
}

// Expected fronts worked out by hand from Optuna's rule: a trial is on the
// front unless another is no worse in every objective and not equal. Each
// was then checked against Optuna 3.1's study.best_trials (Debian's
// python3-optuna), which agreed on all of them.
TEST(ParetoFrontTest, Cases) {
  struct Case {
    const char* what;
    std::vector<Direction> directions;
    std::vector<std::vector<double>> values;
    std::vector<int64_t> front;
  } cases[] = {
      {"trade-offs all stay; (3,3) is beaten by (2,2)",
       {kMin, kMin}, {{1, 4}, {2, 2}, {4, 1}, {3, 3}}, {0, 1, 2}},
      {"equal values dominate neither way", {kMin, kMin}, {{2, 2}, {2, 2}, {1, 4}}, {0, 1, 2}},
      {"better in one, equal in the other dominates", {kMin, kMin}, {{2, 2}, {2, 1}}, {1}},
      {"a later trial removes earlier ones", {kMin, kMin}, {{3, 3}, {2, 4}, {4, 2}, {1, 1}}, {3}},
      {"maximize flips the comparison", {kMax, kMin}, {{1, 1}, {2, 1}, {2, 0}, {3, 5}}, {2, 3}},
      {"infinite values compare as numbers", {kMin, kMin}, {{kInf, 0}, {0, kInf}, {1, 1}},
       {0, 1, 2}},
      {"-inf under maximize loses to anything", {kMax, kMax}, {{-kInf, 5}, {0, 5}}, {1}},
      {"one objective: every trial tied at the best", {kMin}, {{3}, {2}, {2}, {5}}, {1, 2}},
      {"one objective, maximize", {kMax}, {{3}, {7}, {1}, {7}}, {1, 3}},
      {"three objectives", {kMin, kMin, kMin}, {{1, 2, 3}, {3, 2, 1}, {2, 2, 2}, {2, 3, 2}},
       {0, 1, 2}},
      {"a value list of the wrong length is ignored", {kMin, kMin}, {{1}, {2, 2}}, {1}},
  };
  for (const Case& c : cases) EXPECT_EQ(FrontOf(c.directions, c.values), c.front) << c.what;
}

// Added one at a time in any order, the front is the set of trials no
// other trial dominates, checked against every pair.
TEST(ParetoFrontTest, MatchesThePairwiseDefinitionInAnyOrder) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> grid(0, 6);  // coarse, so ties happen
  const std::vector<Direction> directions = {kMin, kMax, kMin};
  for (int round = 0; round < 50; ++round) {
    std::vector<std::vector<double>> values(40);
    for (auto& v : values) v = {double(grid(rng)), double(grid(rng)), double(grid(rng))};
    std::vector<int64_t> expected;
    for (size_t i = 0; i < values.size(); ++i) {
      bool dominated = false;
      for (size_t j = 0; j < values.size(); ++j) {
        dominated = dominated || Dominates(directions, values[j], values[i]);
      }
      if (!dominated) expected.push_back(static_cast<int64_t>(i));
    }
    std::vector<size_t> order(values.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    ParetoFront front(directions);
    for (size_t i : order) front.Add(static_cast<int64_t>(i), values[i]);
    EXPECT_EQ(front.numbers(), expected) << "round " << round;
  }
}

TEST(ParetoFrontTest, DominatesFollowsOptuna) {
  EXPECT_TRUE(Dominates({kMin, kMin}, {1, 1}, {1, 2}));
  EXPECT_FALSE(Dominates({kMin, kMin}, {1, 2}, {1, 1}));
  EXPECT_FALSE(Dominates({kMin, kMin}, {1, 1}, {1, 1}));
  EXPECT_FALSE(Dominates({kMin, kMin}, {0, 2}, {1, 1}));
  EXPECT_TRUE(Dominates({kMax, kMin}, {2, 1}, {1, 1}));
}

}  // namespace
}  // namespace parzen
