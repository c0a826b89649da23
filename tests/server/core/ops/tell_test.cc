// The Tell use case: outcomes, repeats, and the study's indexes after it.
#include "server/core/ops/tell.h"

#include <gtest/gtest.h>

#include <cmath>

#include "server/core/ops/ask.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/read.h"
#include "server/core/ops/report.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

TEST(TellTest, CompleteUpdatesTheCountsAndTheBestTrial) {
  StudyFixture fx;
  for (int i = 0; i < 3; ++i) ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  fx.clock().Advance(5);
  ASSERT_OK(Tell(fx.study(), 0, TrialState::kComplete, {0.7}, "").status());
  ASSERT_OK(Tell(fx.study(), 1, TrialState::kComplete, {0.2}, "").status());
  ASSERT_OK_AND_ASSIGN(Written<TellOutcome> failed,
                       Tell(fx.study(), 2, TrialState::kFail, {}, "out of memory"));
  EXPECT_EQ(failed.value.trial.fail_reason, "out of memory");
  EXPECT_EQ(failed.value.trial.complete_time_us, fx.clock().NowMicros());
  ASSERT_OK_AND_ASSIGN(StudySnapshot s, GetStudy(fx.study(), true));
  EXPECT_EQ(s.summary.counts[TrialState::kComplete], 2);
  EXPECT_EQ(s.summary.counts[TrialState::kFail], 1);
  EXPECT_EQ(s.summary.counts[TrialState::kRunning], 0);
  ASSERT_TRUE(s.summary.best_trial.has_value());
  EXPECT_EQ(s.summary.best_trial->number, 1);
  ASSERT_EQ(s.summary.best_trials.size(), 1u);
  EXPECT_EQ(fx.storage().Count<mutation::UpdateTrial>(), 3u);
}

TEST(TellTest, NanIsStoredAsFailAndPrunedKeepsTheLastReport) {
  StudyFixture fx;
  for (int i = 0; i < 2; ++i) ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(Written<TellOutcome> nan,
                       Tell(fx.study(), 0, TrialState::kComplete, {std::nan("")}, ""));
  EXPECT_EQ(nan.value.trial.state, TrialState::kFail);
  EXPECT_EQ(nan.value.trial.fail_reason, "objective value is NaN");
  EXPECT_FALSE(nan.value.message.empty());
  ASSERT_OK(Report(fx.study(), 1, 4, 0.3).status());
  ASSERT_OK(Report(fx.study(), 1, 2, 0.9).status());
  ASSERT_OK_AND_ASSIGN(Written<TellOutcome> pruned, Tell(fx.study(), 1, TrialState::kPruned, {}, ""));
  EXPECT_EQ(pruned.value.trial.values, std::vector<double>{0.3});  // step 4, the last
}

TEST(TellTest, AnIdenticalRepeatSucceedsAndAnotherOutcomeIsRefused) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(auto first, Tell(fx.study(), 0, TrialState::kComplete, {0.5}, ""));
  ASSERT_OK_AND_ASSIGN(auto again, Tell(fx.study(), 0, TrialState::kComplete, {0.5}, ""));
  EXPECT_EQ(again.ticket, first.ticket);
  EXPECT_NE(again.value.message.find("already told"), std::string::npos);
  auto other = Tell(fx.study(), 0, TrialState::kComplete, {0.6}, "");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("COMPLETE with value 0.5"), std::string::npos);
  EXPECT_EQ(fx.storage().Count<mutation::UpdateTrial>(), 1u);
}

TEST(TellTest, BadRequestsAndWaitingTrialsAreRefused) {
  StudyFixture fx;
  ASSERT_OK(Enqueue(fx.study(), {}, {}).status());
  EXPECT_EQ(Tell(fx.study(), 0, TrialState::kComplete, {1}, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Tell(fx.study(), 0, TrialState::kComplete, {1, 2}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(fx.study(), 0, TrialState::kFail, {1}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(fx.study(), 0, TrialState::kRunning, {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(fx.study(), 0, TrialState::kFail, {}, std::string(5000, 'r')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(fx.study(), 9, TrialState::kFail, {}, "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(fx.storage().Count<mutation::UpdateTrial>(), 0u);
}

}  // namespace
}  // namespace parzen::ops
