// The Report use case: the value stored, the lease renewed, the pruner
// asked off the lock, and what it records kept on the trial.
#include "server/core/ops/report.h"

#include <gtest/gtest.h>

#include "server/core/ops/ask.h"
#include "server/core/ops/read.h"
#include "server/core/ops/tell.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

// Prunes above 1.0 and records, each time, which step it judged; checks
// that the history it gets already holds the value it judges.
class ThresholdPruner final : public Pruner {
 public:
  std::string_view Name() const override { return "threshold"; }
  PruneDecision Prune(const StudyHistory& study, const FrozenTrial& trial) const override {
    PruneDecision d;
    const int64_t step = *trial.last_step();
    if (study.trial(trial.number).intermediate_values.count(step) == 0) return d;  // never prunes
    d.prune = trial.intermediate_values.at(step) > 1.0;
    d.system_attrs["judged_step"] = std::to_string(step);
    return d;
  }
};

StudyFixture ThresholdStudy() {
  Algorithms a;
  EXPECT_OK(a.pruners.Add(MakePlugin<Pruner, v1::NopPrunerConfig>(
      "threshold", [](v1::NopPrunerConfig&, uint64_t) { return absl::OkStatus(); },
      [](const v1::NopPrunerConfig&) { return std::make_unique<ThresholdPruner>(); })));
  v1::PrunerConfig threshold;
  threshold.mutable_named()->set_name("threshold");
  AlgorithmSpec spec = *a.pruners.Resolve(threshold, 1);
  return StudyFixture([&](StudyConfig& c) { c.pruner = spec; }, std::move(a));
}

TEST(ReportTest, ThePrunersDecisionAndAttributesComeBackAndStay) {
  StudyFixture fx = ThresholdStudy();
  ASSERT_OK_AND_ASSIGN(auto t, Ask(fx.study(), {{}, "w", ""}));
  ASSERT_OK_AND_ASSIGN(Written<ReportOutcome> low, Report(fx.study(), 0, 0, 0.5));
  EXPECT_FALSE(low.value.should_prune);
  ASSERT_OK_AND_ASSIGN(Written<ReportOutcome> high, Report(fx.study(), 0, 1, 2.0));
  EXPECT_TRUE(high.value.should_prune);
  EXPECT_FALSE(high.value.duplicate_step);
  ASSERT_OK_AND_ASSIGN(FrozenTrial trial, GetTrial(fx.study(), 0));
  EXPECT_EQ(trial.intermediate_values.size(), 2u);
  EXPECT_EQ(trial.system_attrs.at("judged_step"), "1");
  EXPECT_EQ(fx.storage().Count<mutation::InsertIntermediate>(), 2u);
  EXPECT_EQ(fx.storage().Count<mutation::SetTrialSystemAttr>(), 2u);
  // The answer waits for the attribute too.
  EXPECT_EQ(high.ticket, fx.storage().log().size());
}

TEST(ReportTest, ASecondReportOfAStepKeepsTheFirstValue) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK(Report(fx.study(), 0, 3, 0.5).status());
  const size_t changes = fx.storage().log().size();
  ASSERT_OK_AND_ASSIGN(Written<ReportOutcome> again, Report(fx.study(), 0, 3, 0.9));
  EXPECT_TRUE(again.value.duplicate_step);
  EXPECT_EQ(fx.storage().log().size(), changes);
  EXPECT_EQ(again.ticket, changes);  // waits for the first report
  ASSERT_OK_AND_ASSIGN(FrozenTrial trial, GetTrial(fx.study(), 0));
  EXPECT_EQ(trial.intermediate_values.at(3), 0.5);
}

TEST(ReportTest, AReportRenewsTheLease) {
  StudyFixture fx([](StudyConfig& c) { c.heartbeat_grace_seconds = 10; });
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  fx.clock().Advance(8'000'000);
  ASSERT_OK(Report(fx.study(), 0, 0, 1.0).status());
  fx.clock().Advance(8'000'000);
  absl::MutexLock lock(&fx.study().mu());
  EXPECT_TRUE(fx.study().ExpiredLeases().empty());
  fx.clock().Advance(3'000'000);
  EXPECT_EQ(fx.study().ExpiredLeases(), std::vector<int64_t>{0});
}

TEST(ReportTest, RefusedReportsChangeNothing) {
  StudyFixture multi([](StudyConfig& c) {
    c.directions = {Direction::kMinimize, Direction::kMaximize};
  });
  ASSERT_OK(Ask(multi.study(), {{}, "w", ""}).status());
  EXPECT_EQ(Report(multi.study(), 0, 0, 1.0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Report(multi.study(), 0, -1, 1.0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Report(multi.study(), 7, 0, 1.0).status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK(Tell(multi.study(), 0, TrialState::kComplete, {1, 2}, "").status());
  EXPECT_EQ(Report(multi.study(), 0, 0, 1.0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(multi.storage().Count<mutation::InsertIntermediate>(), 0u);
}

}  // namespace
}  // namespace parzen::ops
