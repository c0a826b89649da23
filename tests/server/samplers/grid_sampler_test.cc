// The grid sampler: every point once, the values it hands out inside their
// distributions, and what it refuses.
#include "server/samplers/grid_sampler.h"

#include <gtest/gtest.h>

#include <set>

#include "server/samplers/registry.h"
#include "tests/testing/sampler_driver.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using testing::SampleTrial;

const SearchSpace kSpace = {
    {"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}},
    {"units", IntDistribution{16, 256, false, 16}},
    {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}},
    {"q", FloatDistribution{0, 1, false, 0.25}},
};
const char kGrid[] =
    R"({"lr":[0.0001,0.01,0.1],"units":[16,256],"opt":["adam","sgd"],"q":[0.25,0.75]})";

absl::StatusOr<std::unique_ptr<Sampler>> Grid(const std::string& search_space, uint64_t seed = 1) {
  v1::SamplerConfig config;
  config.mutable_named()->set_name("grid");
  (*config.mutable_named()->mutable_args())["search_space"] = search_space;
  SamplerRegistry registry = BuiltinSamplers();
  PARZEN_ASSIGN_OR_RETURN(AlgorithmSpec spec, registry.Resolve(config, seed));
  return registry.Make(spec);
}

// Runs Asks one after another until the grid says it is done.
std::vector<FrozenTrial> RunGrid(const Sampler& grid, const SearchSpace& space) {
  std::vector<FrozenTrial> trials;
  for (;;) {
    VectorStudyHistory history({Direction::kMinimize}, trials);
    FrozenTrial t;
    t.number = static_cast<int64_t>(trials.size());
    absl::StatusOr<RelativeSample> relative = grid.SampleRelative(history, t, space);
    if (!relative.ok()) {
      EXPECT_EQ(relative.status().code(), absl::StatusCode::kOutOfRange) << relative.status();
      return trials;
    }
    t = SampleTrial(grid, history, space);
    t.state = TrialState::kComplete;
    t.values = {0};
    trials.push_back(std::move(t));
  }
}

TEST(GridSamplerTest, VisitsEveryPointOnceThenReachesTheBudget) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> grid, Grid(kGrid));
  const std::vector<FrozenTrial> trials = RunGrid(*grid, kSpace);
  ASSERT_EQ(trials.size(), 24u);
  std::set<std::vector<double>> points;
  std::set<std::string> ids;
  for (const FrozenTrial& t : trials) {
    ASSERT_EQ(t.params.size(), kSpace.size());
    std::vector<double> point;
    for (const TrialParam& p : t.params) {
      EXPECT_TRUE(Contains(p.distribution, p.internal_value)) << p.name;
      point.push_back(p.internal_value);
    }
    points.insert(point);
    ids.insert(t.system_attrs.at(kGridIdAttr));
  }
  EXPECT_EQ(points.size(), 24u);
  EXPECT_EQ(ids.size(), 24u);
}

TEST(GridSamplerTest, TheSameSeedGivesTheSameOrderAndAnotherSeedAnother) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> a, Grid(kGrid, 5));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> b, Grid(kGrid, 5));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> c, Grid(kGrid, 6));
  auto order = [](const std::vector<FrozenTrial>& trials) {
    std::vector<std::string> ids;
    for (const FrozenTrial& t : trials) ids.push_back(t.system_attrs.at(kGridIdAttr));
    return ids;
  };
  EXPECT_EQ(order(RunGrid(*a, kSpace)), order(RunGrid(*b, kSpace)));
  EXPECT_NE(order(RunGrid(*a, kSpace)), order(RunGrid(*c, kSpace)));
}

// The point's values follow Optuna's itertools.product over sorted names.
TEST(GridSamplerTest, APointIsTheProductOfTheSortedAxes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> grid, Grid(R"({"b":[1,2,3],"a":["x","y"]})"));
  const SearchSpace space = {{"a", CategoricalDistribution{{std::string("x"), std::string("y")}}},
                             {"b", IntDistribution{1, 3, false, 1}}};
  for (const FrozenTrial& t : RunGrid(*grid, space)) {
    const int64_t id = std::stoll(t.system_attrs.at(kGridIdAttr));
    EXPECT_EQ(t.params[0].internal_value, static_cast<double>(id / 3));  // a
    EXPECT_EQ(t.params[1].internal_value, static_cast<double>(1 + id % 3));  // b
  }
}

TEST(GridSamplerTest, ConfirmClaimsRefusesAPointAnotherTrialHolds) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> grid, Grid(kGrid));
  FrozenTrial holder;
  holder.state = TrialState::kRunning;
  holder.system_attrs[kGridIdAttr] = "7";
  VectorStudyHistory now({Direction::kMinimize}, {holder});
  EXPECT_EQ(grid->ConfirmClaims(now, {{kGridIdAttr, "7"}}).code(), absl::StatusCode::kAborted);
  EXPECT_OK(grid->ConfirmClaims(now, {{kGridIdAttr, "8"}}));
}

TEST(GridSamplerTest, DefineByRunSuggestReadsTheTrialsPoint) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> grid, Grid(R"({"b":[1,2,3],"a":["x","y"]})"));
  VectorStudyHistory empty({Direction::kMinimize}, {});
  FrozenTrial t;
  ASSERT_OK_AND_ASSIGN(RelativeSample claimed, grid->SampleRelative(empty, t, {}));
  ASSERT_TRUE(claimed.system_attrs.contains(kGridIdAttr));
  t.system_attrs = claimed.system_attrs;
  const int64_t id = std::stoll(t.system_attrs.at(kGridIdAttr));
  ASSERT_OK_AND_ASSIGN(double b, grid->SampleIndependent(empty, t, "b", IntDistribution{1, 3, false, 1}));
  EXPECT_EQ(b, static_cast<double>(1 + id % 3));
  FrozenTrial enqueued;
  EXPECT_EQ(grid->SampleIndependent(empty, enqueued, "b", IntDistribution{1, 3, false, 1})
                .status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GridSamplerTest, RefusesParametersAndValuesTheGridCannotGive) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sampler> grid, Grid(R"({"x":[0.5,2]})"));
  VectorStudyHistory empty({Direction::kMinimize}, {});
  const absl::Status missing =
      grid->SampleRelative(empty, {}, {{"y", FloatDistribution{0, 1, false, std::nullopt}}}).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("'y' is not in the grid"), std::string::npos) << missing;
  const absl::Status outside =
      grid->SampleRelative(empty, {}, {{"x", FloatDistribution{0, 1, false, std::nullopt}}}).status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(outside.message().find("not in its distribution"), std::string::npos) << outside;
}

TEST(GridSamplerTest, BadSearchSpacesAreRefusedAtCreation) {
  for (const char* bad : {"{}", R"({"x":[]})", R"({"x":[null]})", R"({"x":[[1]]})", "[1]",
                          R"({"x":[1,2)", R"({"":[1]})"}) {
    EXPECT_EQ(Grid(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  std::string huge = "{";
  for (int i = 0; i < 8; ++i) huge += std::string(i ? "," : "") + "\"p" + std::to_string(i) + "\":[1,2,3,4,5,6,7,8,9,10]";
  EXPECT_EQ(Grid(huge + "}").status().code(), absl::StatusCode::kInvalidArgument);
  v1::SamplerConfig none;
  none.mutable_grid();
  EXPECT_EQ(BuiltinSamplers().Resolve(none, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parzen
