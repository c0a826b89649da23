// Tests for PercentilePruner (MedianPruner), NopPruner and MakePruner.
//
// Every expected answer in the tables below was derived by hand from Optuna's
// rules (notes/optuna-semantics.md, "Pruners"; optuna/pruners/_percentile.py),
// never from this implementation's output, and then verified against
// Optuna 3.1 / numpy 1.24 with tests/server/pruners/optuna_crosscheck.py,
// which reads the tables through the DISABLED_DumpTables test below so the
// two can never drift apart.

#include "server/pruners/percentile_pruner.h"

#include "parzen/v1/algorithms.pb.h"
#include "server/pruners/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/study_history.h"
#include "common/frozen_trial.h"
#include "common/types.h"
#include "server/pruners/nop_pruner.h"
#include "server/pruners/registry.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Steps = std::map<int64_t, double>;  // step -> intermediate value

// `value` at every step in [first, last].
Steps Flat(int64_t first, int64_t last, double value) {
  Steps steps;
  for (int64_t s = first; s <= last; ++s) steps[s] = value;
  return steps;
}

// A finished or running trial other than the one being judged; C/P/F/R
// (COMPLETE, PRUNED, FAIL, RUNNING) keep the table rows short.
struct OtherTrial {
  TrialState state;
  Steps steps;
};
OtherTrial C(Steps s) { return {TrialState::kComplete, std::move(s)}; }
OtherTrial P(Steps s) { return {TrialState::kPruned, std::move(s)}; }
OtherTrial F(Steps s) { return {TrialState::kFail, std::move(s)}; }
OtherTrial R(Steps s) { return {TrialState::kRunning, std::move(s)}; }

// One scenario: a study of `others` plus a RUNNING trial that has reported
// `current`, asked of a pruner configured with `options`.
struct PruneCase {
  std::string name;
  Direction direction;
  PercentilePrunerOptions options;
  std::vector<OtherTrial> others;
  Steps current;
  bool expected;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const PruneCase& c, std::ostream* os) { *os << c.name; }

// Optuna's defaults except n_startup_trials = 0, so that most cases exercise
// one rule without five filler trials.
PercentilePrunerOptions Opts(double percentile = 50) {
  return {.percentile = percentile, .n_startup_trials = 0};
}
PercentilePrunerOptions WithWarmup(int64_t warmup, int64_t interval = 1) {
  PercentilePrunerOptions o = Opts();
  o.n_warmup_steps = warmup;
  o.interval_steps = interval;
  return o;
}
PercentilePrunerOptions WithMinTrials(int64_t n_min_trials) {
  PercentilePrunerOptions o = Opts();
  o.n_min_trials = n_min_trials;
  return o;
}
PercentilePrunerOptions WithStartup(int64_t n_startup_trials) {
  PercentilePrunerOptions o = Opts();
  o.n_startup_trials = n_startup_trials;
  return o;
}

enum class PrunerKind { kNop, kMedian, kPercentile };

struct PrunerSpec {
  PrunerKind kind;
  PercentilePrunerOptions options;
};

PrunerSpec Spec(PrunerKind kind, PercentilePrunerOptions options = {}) {
  PrunerSpec spec;
  spec.kind = kind;
  spec.options = options;
  return spec;
}

// The pruner a server builds for this configuration: sent as the wire's
// options, checked and built by the registry.
absl::StatusOr<std::unique_ptr<Pruner>> MakePruner(const PrunerSpec& spec) {
  v1::PrunerConfig config;
  const PercentilePrunerOptions& o = spec.options;
  auto fill = [&o](auto* m) {
    m->set_n_startup_trials(o.n_startup_trials);
    m->set_n_warmup_steps(o.n_warmup_steps);
    m->set_interval_steps(o.interval_steps);
    m->set_n_min_trials(o.n_min_trials);
  };
  switch (spec.kind) {
    case PrunerKind::kNop: config.mutable_nop(); break;
    case PrunerKind::kMedian: fill(config.mutable_median()); break;
    case PrunerKind::kPercentile:
      fill(config.mutable_percentile());
      config.mutable_percentile()->set_percentile(o.percentile);
      break;
  }
  const PrunerRegistry registry = BuiltinPruners();
  PARZEN_ASSIGN_OR_RETURN(AlgorithmSpec resolved, registry.Resolve(config, /*seed=*/0));
  return registry.Make(resolved);
}

constexpr Direction kMin = Direction::kMinimize;
constexpr Direction kMax = Direction::kMaximize;

// Complete trials that reported a single value each at step 0.
std::vector<OtherTrial> CompleteAtStep0(const std::vector<double>& values) {
  std::vector<OtherTrial> out;
  for (double v : values) out.push_back(C({{0, v}}));
  return out;
}

std::vector<OtherTrial> Concat(std::vector<OtherTrial> a, const std::vector<OtherTrial>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<PruneCase>& PruneCases() {
  // One or two lines per case, so that the cases read as a table.
  // clang-format off
  static const auto* cases = new std::vector<PruneCase>{
      // Rule 1: reference set = COMPLETE trials; n_startup_trials.
      {"EmptyStudyNeverPrunes", kMin, Opts(), {}, {{0, 100}}, false},
      {"OnlyPrunedFailedRunningIsEmptyReference", kMin, Opts(),
       {P({{0, 1}}), F({{0, 1}}), R({{0, 1}})}, {{0, 100}}, false},
      {"PrunedAndFailedDoNotCountTowardStartup", kMin, WithStartup(3),
       {C({{0, 1}}), C({{0, 2}}), P({{0, 1}}), P({{0, 1}}), F({{0, 1}})}, {{0, 100}}, false},
      {"StartupReachedExactlyPrunes", kMin, WithStartup(3), CompleteAtStep0({1, 2, 3}),
       {{0, 100}}, true},
      {"DefaultOptionsWaitForFiveComplete", kMin, PercentilePrunerOptions{},
       CompleteAtStep0({1, 1, 1, 1}), {{0, 100}}, false},
      {"DefaultOptionsPruneAfterFiveComplete", kMin, PercentilePrunerOptions{},
       CompleteAtStep0({1, 1, 1, 1, 1}), {{0, 100}}, true},

      // Rule 2: last_step exists and is >= n_warmup_steps.
      {"NoReportsNeverPrunes", kMin, Opts(), {C({{0, 1}})}, {}, false},
      {"BeforeWarmupNeverPrunes", kMin, WithWarmup(2), {C(Flat(0, 2, 1))}, Flat(0, 1, 100),
       false},
      {"AtWarmupStepPrunes", kMin, WithWarmup(2), {C(Flat(0, 2, 1))}, Flat(0, 2, 100), true},

      // Rule 3: interval gate. Pruning steps are warmup + k * interval.
      {"IntervalSkipsStepsBetweenChecks", kMin, WithWarmup(0, 3), {C(Flat(0, 8, 1))},
       Flat(0, 4, 100), false},
      {"IntervalChecksAtPruningStep", kMin, WithWarmup(0, 3), {C(Flat(0, 8, 1))},
       Flat(0, 3, 100), true},
      {"IntervalMissedStepIsPostponedToNextReport", kMin, WithWarmup(0, 3), {C(Flat(0, 8, 1))},
       {{0, 100}, {1, 100}, {2, 100}, {4, 100}}, true},
      {"IntervalPostponedCheckHappensOnlyOnce", kMin, WithWarmup(0, 3), {C(Flat(0, 8, 1))},
       {{0, 100}, {1, 100}, {2, 100}, {4, 100}, {5, 100}}, false},
      {"IntervalOffsetByWarmupChecksAtStep5", kMin, WithWarmup(2, 3), {C(Flat(0, 8, 1))},
       Flat(0, 5, 100), true},
      {"IntervalOffsetByWarmupSkipsStep4", kMin, WithWarmup(2, 3), {C(Flat(0, 8, 1))},
       Flat(0, 4, 100), false},
      {"IntervalJumpOverSeveralPruningSteps", kMin, WithWarmup(2, 3), {C(Flat(0, 8, 1))},
       {{0, 100}, {7, 100}}, true},

      // Rule 4: the trial's score is its best value over all steps.
      {"EarlierBestValueSavesTrial", kMin, Opts(),
       {C({{0, 5}, {1, 4}}), C({{0, 5}, {1, 5}}), C({{0, 5}, {1, 6}})}, {{0, 1}, {1, 100}},
       false},
      {"AllNanPrunes", kMin, Opts(), {C({{0, 1}})}, {{0, kNan}}, true},
      {"AllNanPrunesEvenWithNoReferenceAtStep", kMin, Opts(), {C({{0, 1}})},
       {{0, kNan}, {3, kNan}}, true},
      {"NanInTrialIgnoredForScore", kMin, Opts(),
       {C({{0, 1}, {1, 1}}), C({{0, 2}, {1, 2}}), C({{0, 3}, {1, 3}})}, {{0, kNan}, {1, 10}},
       true},

      // Rule 5: threshold over COMPLETE values at exactly the step.
      {"NanReferenceValuesDropped", kMin, Opts(), CompleteAtStep0({1, 2, kNan}), {{0, 1.8}},
       true},
      {"AllNanReferenceNeverPrunes", kMin, Opts(), CompleteAtStep0({kNan, kNan}), {{0, 100}},
       false},
      {"TrialsLackingStepSkippedKeeps", kMin, Opts(),
       {C({{0, 1}, {1, 1}}), C({{0, 1}}), C({{0, 10}, {1, 10}})}, {{1, 5}}, false},
      {"TrialsLackingStepSkippedPrunes", kMin, Opts(),
       {C({{0, 1}, {1, 1}}), C({{0, 1}}), C({{0, 10}, {1, 10}})}, {{1, 6}}, true},
      {"NoReferenceValueAtStep", kMin, Opts(), {C(Flat(0, 3, 1))}, Flat(0, 7, 100), false},
      {"FewerThanMinTrialsAtStep", kMin, WithMinTrials(3),
       {C({{0, 1}}), C({{0, 2}}), C({}), C({{1, 1}})}, {{0, 100}}, false},
      {"MinTrialsCountsNanValues", kMin, WithMinTrials(3), CompleteAtStep0({1, 2, kNan}),
       {{0, 100}}, true},
      {"MinTrialsMetExactly", kMin, WithMinTrials(2), CompleteAtStep0({1, 2}), {{0, 1.6}},
       true},
      {"EvenCountMedianIsMeanOfMiddleTwoAbove", kMin, Opts(), CompleteAtStep0({4, 1, 3, 2}),
       {{0, 2.6}}, true},
      {"EvenCountMedianIsMeanOfMiddleTwoBelow", kMin, Opts(), CompleteAtStep0({4, 1, 3, 2}),
       {{0, 2.4}}, false},
      {"Percentile25InterpolatesAbove", kMin, Opts(25), CompleteAtStep0({1, 2, 3, 4}),
       {{0, 1.8}}, true},
      {"Percentile25InterpolatesBelow", kMin, Opts(25), CompleteAtStep0({1, 2, 3, 4}),
       {{0, 1.7}}, false},
      {"Percentile75InterpolatesAbove", kMin, Opts(75), CompleteAtStep0({1, 2, 3, 4}),
       {{0, 3.3}}, true},
      {"Percentile0IsMinimum", kMin, Opts(0), CompleteAtStep0({1, 2, 3}), {{0, 1.0001}}, true},
      {"Percentile100IsMaximum", kMin, Opts(100), CompleteAtStep0({1, 2, 3}), {{0, 3}}, false},
      // numpy interpolates back from the upper value when gamma >= 0.5, which
      // puts 70% of {0.1, 0.7} one ulp below 0.52.
      {"NumpyLerpRoundingDecidesNearTie", kMin, Opts(70), CompleteAtStep0({0.1, 0.7}),
       {{0, 0.52}}, true},
      // numpy: 2 + (inf - 2) * 0 is NaN, so the threshold is NaN.
      {"InfiniteReferenceGivesNanThreshold", kMin, Opts(), CompleteAtStep0({1, 2, kInf}),
       {{0, 100}}, false},

      // Rule 6: strictly worse only.
      {"EqualToMedianNotPruned", kMin, Opts(), CompleteAtStep0({1, 2, 3}), {{0, 2}}, false},
      {"EqualToPercentile75NotPruned", kMin, Opts(75), CompleteAtStep0({1, 2, 3, 4}),
       {{0, 3.25}}, false},

      // Maximize: nanmax score, 100 - q, `<`.
      {"MaximizeUsesMirroredPercentile", kMax, Opts(25), CompleteAtStep0({0, 10, 20, 30, 40}),
       {{0, 25}}, true},
      {"MaximizeAboveThresholdKept", kMax, Opts(25), CompleteAtStep0({0, 10, 20, 30, 40}),
       {{0, 35}}, false},
      {"MaximizeBelowMedianPrunes", kMax, Opts(), CompleteAtStep0({1, 2, 3}), {{0, 1.5}}, true},
      {"MaximizeEqualToMedianNotPruned", kMax, Opts(), CompleteAtStep0({1, 2, 3}), {{0, 2}},
       false},
      {"MaximizeEarlierBestValueSavesTrial", kMax, Opts(),
       {C({{0, 1}, {1, 1}}), C({{0, 2}, {1, 2}}), C({{0, 3}, {1, 3}})}, {{0, 5}, {1, 0}}, false},

      // Non-COMPLETE trials never enter the reference, whichever way they lean.
      {"WorsePrunedFailedRunningExcluded", kMin, Opts(),
       Concat(CompleteAtStep0({1, 2, 3}),
              {P({{0, 100}}), P({{0, 100}}), F({{0, 100}}), R({{0, 100}}), R({{0, 100}})}),
       {{0, 50}}, true},
      {"BetterPrunedRunningExcluded", kMin, Opts(),
       Concat(CompleteAtStep0({1, 2, 3}), {P({{0, -5}}), P({{0, -5}}), P({{0, -5}}),
                                           R({{0, -5}}), F({{0, -5}})}),
       {{0, 1.5}}, false},
  };
  // clang-format on
  return *cases;
}

// The study for `c`, and its current trial (number = others.size()). The
// contract allows the current trial to be listed in the study or not; both
// must give the same answer.
std::pair<VectorStudyHistory, FrozenTrial> BuildStudy(const PruneCase& c, bool list_current) {
  std::vector<FrozenTrial> trials;
  for (const OtherTrial& o : c.others) {
    FrozenTrial t;
    t.number = static_cast<int64_t>(trials.size());
    t.trial_id = t.number + 1;
    t.state = o.state;
    t.intermediate_values = o.steps;
    if (o.state == TrialState::kComplete) t.values = {0.0};
    trials.push_back(std::move(t));
  }
  FrozenTrial current;
  current.number = static_cast<int64_t>(trials.size());
  current.trial_id = current.number + 1;
  current.state = TrialState::kRunning;
  current.intermediate_values = c.current;
  if (list_current) trials.push_back(current);
  return {VectorStudyHistory({c.direction}, std::move(trials)), std::move(current)};
}

class PercentilePrunerTableTest : public ::testing::TestWithParam<PruneCase> {};

TEST_P(PercentilePrunerTableTest, MatchesOptuna) {
  const PruneCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> pruner,
                       MakePruner(Spec(PrunerKind::kPercentile, c.options)));
  for (bool list_current : {false, true}) {
    SCOPED_TRACE(list_current ? "current trial listed in study" : "current trial not listed");
    auto [study, current] = BuildStudy(c, list_current);
    EXPECT_EQ(pruner->ShouldPrune(study, current), c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Optuna, PercentilePrunerTableTest, ::testing::ValuesIn(PruneCases()),
                         [](const ::testing::TestParamInfo<PruneCase>& info) {
                           return info.param.name;
                         });

// kMedian must be the very same pruner as kPercentile at 50.
TEST(PercentilePrunerTest, MedianKindMatchesPercentile50Cases) {
  int checked = 0;
  for (const PruneCase& c : PruneCases()) {
    if (c.options.percentile != 50) continue;
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> pruner,
                         MakePruner(Spec(PrunerKind::kMedian, c.options)));
    auto [study, current] = BuildStudy(c, /*list_current=*/true);
    EXPECT_EQ(pruner->ShouldPrune(study, current), c.expected);
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

TEST(PercentilePrunerTest, MultiObjectiveStudyNeverPrunes) {
  PercentilePruner pruner(Opts());
  FrozenTrial done;
  done.state = TrialState::kComplete;
  done.values = {0, 0};
  done.intermediate_values = {{0, 1}};
  FrozenTrial current;
  current.number = 1;
  current.intermediate_values = {{0, kNan}};  // would prune unconditionally
  VectorStudyHistory study({kMin, kMax}, {done});
  EXPECT_FALSE(pruner.ShouldPrune(study, current));
}

TEST(PercentilePrunerTest, RepeatedCallsGiveTheSameAnswer) {
  PercentilePruner pruner(Opts());
  for (const PruneCase& c : PruneCases()) {
    SCOPED_TRACE(c.name);
    auto [study, current] = BuildStudy(c, /*list_current=*/true);
    const bool first = pruner.ShouldPrune(study, current);
    EXPECT_EQ(pruner.ShouldPrune(study, current), first);
  }
}

// numpy.nanpercentile(values, percentile) for the default linear method.
// Expected values are numpy 1.24's, compared bit for bit.
struct PercentileCase {
  std::vector<double> values;
  double percentile;
  double expected;
};

const std::vector<PercentileCase>& PercentileCases() {
  static const auto* cases = new std::vector<PercentileCase>{
      {{1, 2, 3, 4}, 50, 2.5},
      {{1, 2, 3, 4}, 25, 1.75},
      {{1, 2, 3, 4}, 75, 3.25},
      {{3, 1, 2}, 50, 2},
      {{3, 1, 2}, 0, 1},
      {{3, 1, 2}, 100, 3},
      {{5}, 30, 5},
      {{}, 50, kNan},
      {{kNan, kNan}, 50, kNan},
      {{1, kNan, 2}, 50, 1.5},
      {{0.1, 0.7}, 70, 0.51999999999999991},
      {{0.1, 0.7}, 30, 0.28000000000000003},
      {{0.1, 0.2, 0.7}, 33, 0.16600000000000001},
      {{0.3, 0.1, 0.2}, 90, 0.28000000000000003},
      {{1, 2, kInf}, 50, kNan},
      {{kInf}, 50, kNan},
      {{1, kInf}, 25, kInf},
      {{-kInf, 1}, 75, -kInf},
  };
  return *cases;
}

TEST(NanPercentileTest, MatchesNumpy) {
  for (const PercentileCase& c : PercentileCases()) {
    SCOPED_TRACE(::testing::PrintToString(c.values) + " at " + std::to_string(c.percentile));
    const double got = internal::NanPercentile(c.values, c.percentile);
    if (std::isnan(c.expected)) {
      EXPECT_TRUE(std::isnan(got)) << got;
    } else {
      EXPECT_EQ(got, c.expected);
    }
  }
}

TEST(NopPrunerTest, NeverPrunes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> pruner, MakePruner(Spec(PrunerKind::kNop)));
  EXPECT_EQ(pruner->Name(), "nop");
  for (const PruneCase& c : PruneCases()) {
    SCOPED_TRACE(c.name);
    auto [study, current] = BuildStudy(c, /*list_current=*/true);
    EXPECT_FALSE(pruner->ShouldPrune(study, current));
  }
}

TEST(MakePrunerTest, NamesTellMedianFromPercentile) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> median, MakePruner(Spec(PrunerKind::kMedian)));
  EXPECT_EQ(median->Name(), "median");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> percentile,
                       MakePruner(Spec(PrunerKind::kPercentile)));
  EXPECT_EQ(percentile->Name(), "percentile");
}

TEST(MakePrunerTest, MedianForcesPercentile50) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Pruner> pruner,
                       MakePruner(Spec(PrunerKind::kMedian, Opts(150))));
  auto* percentile = dynamic_cast<PercentilePruner*>(pruner.get());
  ASSERT_NE(percentile, nullptr);
  EXPECT_EQ(percentile->options().percentile, 50);
}

TEST(MakePrunerTest, AcceptsBoundaryValues) {
  for (double percentile : {0.0, 100.0}) {
    PercentilePrunerOptions o{.percentile = percentile,
                              .n_startup_trials = 0,
                              .n_warmup_steps = 0,
                              .interval_steps = 1,
                              .n_min_trials = 1};
    EXPECT_OK(MakePruner(Spec(PrunerKind::kPercentile, o)));
    EXPECT_OK(MakePruner(Spec(PrunerKind::kMedian, o)));
  }
}

struct BadOptionsCase {
  std::string name;
  PercentilePrunerOptions options;
  std::string argument;  // must be named in the message
};

TEST(MakePrunerTest, RejectsInvalidArguments) {
  auto with = [](auto field, auto value) {
    PercentilePrunerOptions o;
    o.*field = value;
    return o;
  };
  const std::vector<BadOptionsCase> cases = {
      {"percentile below 0", with(&PercentilePrunerOptions::percentile, -0.5), "percentile"},
      {"percentile above 100", with(&PercentilePrunerOptions::percentile, 100.5), "percentile"},
      {"percentile NaN", with(&PercentilePrunerOptions::percentile, kNan), "percentile"},
      {"negative startup", with(&PercentilePrunerOptions::n_startup_trials, int64_t{-1}),
       "n_startup_trials"},
      {"negative warmup", with(&PercentilePrunerOptions::n_warmup_steps, int64_t{-1}),
       "n_warmup_steps"},
      {"zero interval", with(&PercentilePrunerOptions::interval_steps, int64_t{0}),
       "interval_steps"},
      {"negative interval", with(&PercentilePrunerOptions::interval_steps, int64_t{-3}),
       "interval_steps"},
      {"zero min trials", with(&PercentilePrunerOptions::n_min_trials, int64_t{0}), "n_min_trials"},
  };
  for (const BadOptionsCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<Pruner>> pruner =
        MakePruner(Spec(PrunerKind::kPercentile, c.options));
    ASSERT_FALSE(pruner.ok());
    EXPECT_EQ(pruner.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(pruner.status().message().find(c.argument), std::string::npos) << pruner.status();
    // Everything but the percentile applies to MedianPruner too.
    absl::StatusOr<std::unique_ptr<Pruner>> median =
        MakePruner(Spec(PrunerKind::kMedian, c.options));
    EXPECT_EQ(median.ok(), c.argument == "percentile") << median.status();
  }
}

TEST(MakePrunerTest, MessageNamesTheValue) {
  PercentilePrunerOptions o;
  o.interval_steps = 0;
  absl::StatusOr<std::unique_ptr<Pruner>> pruner = MakePruner(Spec(PrunerKind::kPercentile, o));
  ASSERT_FALSE(pruner.ok());
  EXPECT_NE(pruner.status().message().find("got 0"), std::string::npos) << pruner.status();
}

// Prints both tables for optuna_crosscheck.py, one JSON object per line.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*DumpTables*'.
std::string Json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string Json(const Steps& steps) {
  std::string out = "[";
  for (const auto& [step, value] : steps) {
    if (out.size() > 1) out += ",";
    out += "[" + std::to_string(step) + "," + Json(value) + "]";
  }
  return out + "]";
}

TEST(OptunaCrosscheck, DISABLED_DumpTables) {
  for (const PruneCase& c : PruneCases()) {
    std::string trials = "[";
    for (const OtherTrial& o : c.others) {
      if (trials.size() > 1) trials += ",";
      trials += "{\"state\":\"" + std::string(TrialStateName(o.state)) +
                "\",\"steps\":" + Json(o.steps) + "}";
    }
    trials += "]";
    std::printf(
        "PRUNE_CASE {\"name\":\"%s\",\"direction\":\"%s\",\"percentile\":%s,"
        "\"n_startup_trials\":%lld,\"n_warmup_steps\":%lld,\"interval_steps\":%lld,"
        "\"n_min_trials\":%lld,\"trials\":%s,\"current\":%s,\"expected\":%s}\n",
        c.name.c_str(), std::string(DirectionName(c.direction)).c_str(),
        Json(c.options.percentile).c_str(), static_cast<long long>(c.options.n_startup_trials),
        static_cast<long long>(c.options.n_warmup_steps),
        static_cast<long long>(c.options.interval_steps),
        static_cast<long long>(c.options.n_min_trials), trials.c_str(), Json(c.current).c_str(),
        c.expected ? "true" : "false");
  }
  for (const PercentileCase& c : PercentileCases()) {
    std::string values = "[";
    for (double v : c.values) {
      if (values.size() > 1) values += ",";
      values += Json(v);
    }
    values += "]";
    std::printf("PERCENTILE_CASE {\"values\":%s,\"percentile\":%s,\"expected\":%s}\n",
                values.c_str(), Json(c.percentile).c_str(), Json(c.expected).c_str());
  }
}

}  // namespace
}  // namespace parzen
