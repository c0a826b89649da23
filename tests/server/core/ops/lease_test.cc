// Heartbeats and reaping: leases run on the monotonic clock; a lost trial
// fails and comes back as a retry while the study allows.
#include <gtest/gtest.h>

#include "server/core/ops/ask.h"
#include "server/core/ops/heartbeat.h"
#include "server/core/ops/read.h"
#include "server/core/ops/reap.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

StudyFixture WithLeases(int64_t max_retries) {
  return StudyFixture([max_retries](StudyConfig& c) {
    c.heartbeat_grace_seconds = 10;
    c.max_retries = max_retries;
  });
}

TEST(HeartbeatTest, ABeatRenewsTheLeaseOfItsOwnWorkersTrial) {
  StudyFixture fx = WithLeases(0);
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  fx.clock().Advance(9'000'000);
  ASSERT_OK(Heartbeat(fx.study(), 0, "w"));
  EXPECT_EQ(Heartbeat(fx.study(), 0, "thief").code(), absl::StatusCode::kFailedPrecondition);
  fx.clock().Advance(9'000'000);
  EXPECT_EQ(ReapExpired(fx.study()), 0u);
  fx.clock().Advance(2'000'000);
  EXPECT_NE(ReapExpired(fx.study()), 0u);
  absl::Status late = Heartbeat(fx.study(), 0, "w");
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(late.message().find("heartbeat lost"), std::string::npos) << late;
}

TEST(ReapTest, AReapedTrialComesBackWithItsValuesUpToTheRetries) {
  StudyFixture fx = WithLeases(1);
  const SearchSpace space = {{"x", FloatDistribution{0, 1, false, std::nullopt}}};
  ASSERT_OK_AND_ASSIGN(auto first, Ask(fx.study(), {space, "w", ""}));
  fx.clock().Advance(11'000'000);
  ReapExpired(fx.study());
  ASSERT_OK_AND_ASSIGN(FrozenTrial failed, GetTrial(fx.study(), 0));
  EXPECT_EQ(failed.state, TrialState::kFail);
  EXPECT_EQ(failed.fail_reason, "heartbeat lost");
  ASSERT_OK_AND_ASSIGN(auto retry, Ask(fx.study(), {space, "w2", ""}));
  EXPECT_EQ(retry.value.number, 1);
  EXPECT_EQ(retry.value.retry_of, 0);
  EXPECT_EQ(retry.value.params[0].internal_value, first.value.params[0].internal_value);
  fx.clock().Advance(11'000'000);
  ReapExpired(fx.study());
  ASSERT_OK_AND_ASSIGN(StudySnapshot s, GetStudy(fx.study(), false));
  EXPECT_EQ(s.summary.n_trials, 2);  // the retry was the last
  EXPECT_EQ(s.summary.counts[TrialState::kFail], 2);
}

TEST(ReapTest, WithoutAGracePeriodNothingIsReaped) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  fx.clock().Advance(int64_t{1'000'000} * 3600 * 24 * 365);
  EXPECT_EQ(ReapExpired(fx.study()), 0u);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, GetTrial(fx.study(), 0));
  EXPECT_EQ(t.state, TrialState::kRunning);
}

}  // namespace
}  // namespace parzen::ops
