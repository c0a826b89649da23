// Reads: trials by state and page, and a watch's snapshot then events.
#include "server/core/ops/read.h"

#include <gtest/gtest.h>

#include "server/core/ops/ask.h"
#include "server/core/ops/report.h"
#include "server/core/ops/tell.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

TEST(ReadTest, TrialsComeByStateInPages) {
  StudyFixture fx;
  for (int i = 0; i < 5; ++i) ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  for (int n : {1, 3, 4}) ASSERT_OK(Tell(fx.study(), n, TrialState::kComplete, {1}, "").status());
  int64_t next = 0;
  ASSERT_OK_AND_ASSIGN(auto page, ListTrials(fx.study(), {TrialState::kComplete}, 0, 2, &next));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].number, 1);
  EXPECT_EQ(page[1].number, 3);
  EXPECT_EQ(next, 4);
  ASSERT_OK_AND_ASSIGN(auto rest, ListTrials(fx.study(), {TrialState::kComplete}, next, 2, &next));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].number, 4);
  EXPECT_EQ(next, -1);
  ASSERT_OK_AND_ASSIGN(auto all, ListTrials(fx.study(), {}, 0, 100, &next));
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(GetTrial(fx.study(), 5).status().code(), absl::StatusCode::kNotFound);
}

TEST(ReadTest, AWatchGetsEveryTrialThenEveryChangeWithItsStep) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK(Report(fx.study(), 0, 0, 0.5).status());
  auto queue = std::make_shared<WatchQueue>(100);
  Watch(fx.study(), queue);
  ASSERT_OK(Report(fx.study(), 0, 1, 0.4).status());
  ASSERT_OK(Tell(fx.study(), 0, TrialState::kComplete, {0.4}, "").status());
  std::optional<TrialEvent> snapshot = queue->Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(snapshot && snapshot->snapshot);
  EXPECT_EQ(snapshot->trial.intermediate_values.size(), 1u);
  std::optional<TrialEvent> report = queue->Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(report && !report->snapshot);
  ASSERT_EQ(report->trial.intermediate_values.size(), 1u);  // only the step reported
  EXPECT_EQ(report->trial.intermediate_values.begin()->first, 1);
  std::optional<TrialEvent> told = queue->Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->trial.state, TrialState::kComplete);
  EXPECT_EQ(told->ticket, fx.storage().log().size());
  EXPECT_FALSE(queue->Pop(std::chrono::milliseconds(0)).has_value());
}

TEST(ReadTest, ADeletedStudyClosesItsWatchesAndAnswersNotFound) {
  StudyFixture fx;
  auto queue = std::make_shared<WatchQueue>(100);
  Watch(fx.study(), queue);
  {
    absl::MutexLock lock(&fx.study().mu());
    fx.study().MarkDeleted();
  }
  EXPECT_TRUE(queue->closed());
  EXPECT_EQ(GetStudy(fx.study(), false).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Ask(fx.study(), {{}, "w", ""}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace parzen::ops
