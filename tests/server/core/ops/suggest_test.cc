// The Suggest use case: stored, enqueued and single values need no
// sampler; a drawn one is committed unless the trial got the name meanwhile.
#include "server/core/ops/suggest.h"

#include <gtest/gtest.h>

#include "server/core/ops/ask.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/read.h"
#include "server/core/ops/tell.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

const Distribution kUnit = FloatDistribution{0, 1, false, std::nullopt};

TEST(SuggestTest, ASecondSuggestOfANameAnswersTheStoredValue) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(Written<TrialParam> first, Suggest(fx.study(), 0, "x", kUnit));
  EXPECT_TRUE(Contains(kUnit, first.value.internal_value));
  ASSERT_OK_AND_ASSIGN(Written<TrialParam> again, Suggest(fx.study(), 0, "x", kUnit));
  EXPECT_EQ(again.value.internal_value, first.value.internal_value);
  EXPECT_EQ(again.ticket, first.ticket);
  EXPECT_EQ(fx.storage().Count<mutation::InsertParam>(), 1u);
  EXPECT_EQ(Suggest(fx.study(), 0, "x", FloatDistribution{0, 2, false, std::nullopt})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SuggestTest, EnqueuedAndSingleValuesNeedNoSampler) {
  StudyFixture fx;
  ASSERT_OK(Enqueue(fx.study(), {{"x", 0.125}}, {}).status());
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(SuggestStart fixed, PlanSuggest(fx.study(), 0, "x", kUnit));
  ASSERT_TRUE(fixed.answer.has_value());
  EXPECT_EQ(fixed.answer->value.internal_value, 0.125);
  ASSERT_OK_AND_ASSIGN(SuggestStart single,
                       PlanSuggest(fx.study(), 0, "one", IntDistribution{4, 4, false, 1}));
  ASSERT_TRUE(single.answer.has_value());
  EXPECT_EQ(single.answer->value.internal_value, 4.0);
  ASSERT_OK_AND_ASSIGN(SuggestStart drawn, PlanSuggest(fx.study(), 0, "y", kUnit));
  EXPECT_FALSE(drawn.answer.has_value());
  ASSERT_NE(drawn.plan, nullptr);
}

// Two Suggests of one name sampled at once: the first to commit wins, the
// other answers its value.
TEST(SuggestTest, TheFirstOfTwoConcurrentSuggestsOfANameWins) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(SuggestStart a, PlanSuggest(fx.study(), 0, "x", kUnit));
  ASSERT_OK_AND_ASSIGN(SuggestStart b, PlanSuggest(fx.study(), 0, "x", kUnit));
  ASSERT_OK_AND_ASSIGN(auto first, CommitSuggest(fx.study(), *b.plan, 0.75));
  ASSERT_OK_AND_ASSIGN(auto second, CommitSuggest(fx.study(), *a.plan, 0.25));
  EXPECT_EQ(first.value.internal_value, 0.75);
  EXPECT_EQ(second.value.internal_value, 0.75);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, GetTrial(fx.study(), 0));
  ASSERT_EQ(t.params.size(), 1u);
  EXPECT_EQ(fx.storage().Count<mutation::InsertParam>(), 1u);
}

TEST(SuggestTest, ATrialThatFinishedWhileSamplingGetsNoParameter) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK_AND_ASSIGN(SuggestStart plan, PlanSuggest(fx.study(), 0, "x", kUnit));
  ASSERT_OK(Tell(fx.study(), 0, TrialState::kFail, {}, "").status());
  EXPECT_EQ(CommitSuggest(fx.study(), *plan.plan, 0.5).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fx.storage().Count<mutation::InsertParam>(), 0u);
}

TEST(SuggestTest, BadNamesAndDistributionsAreRefusedFirst) {
  StudyFixture fx;
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  EXPECT_EQ(Suggest(fx.study(), 0, "", kUnit).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = Suggest(fx.study(), 0, "lr", FloatDistribution{1, 0, false, std::nullopt});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("parameter 'lr'"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace parzen::ops
