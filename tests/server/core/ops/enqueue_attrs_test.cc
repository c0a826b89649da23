// Enqueue and the user attributes of trials and studies.
#include <gtest/gtest.h>

#include <cmath>

#include "server/core/limits.h"
#include "server/core/ops/ask.h"
#include "server/core/ops/attrs.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/read.h"
#include "server/core/ops/tell.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

TEST(EnqueueTest, EnqueuedTrialsWaitAndGoOutOldestFirst) {
  StudyFixture fx;
  ASSERT_OK_AND_ASSIGN(auto a, Enqueue(fx.study(), {{"x", 0.1}}, {{"tag", "\"a\""}}));
  ASSERT_OK_AND_ASSIGN(auto b, Enqueue(fx.study(), {{"x", 0.2}}, {}));
  EXPECT_EQ(a.value.state, TrialState::kWaiting);
  EXPECT_EQ(b.value.number, 1);
  const SearchSpace space = {{"x", FloatDistribution{0, 1, false, std::nullopt}}};
  ASSERT_OK_AND_ASSIGN(auto first, Ask(fx.study(), {space, "w", ""}));
  EXPECT_EQ(first.value.number, 0);
  EXPECT_EQ(first.value.params[0].internal_value, 0.1);
  EXPECT_EQ(first.value.user_attrs.at("tag"), "\"a\"");
  EXPECT_TRUE(first.value.fixed_params.empty());
  ASSERT_OK_AND_ASSIGN(auto second, Ask(fx.study(), {space, "w", ""}));
  EXPECT_EQ(second.value.number, 1);
  ASSERT_OK_AND_ASSIGN(auto fresh, Ask(fx.study(), {space, "w", ""}));
  EXPECT_EQ(fresh.value.number, 2);
}

TEST(EnqueueTest, ValuesNoDistributionCouldHoldAreRefused) {
  StudyFixture fx;
  for (const ParamValue& v : {ParamValue(std::nan("")), ParamValue(int64_t{1} << 54),
                              ParamValue(std::string("\xff")),
                              ParamValue(std::string(70'000, 'x'))}) {
    EXPECT_EQ(Enqueue(fx.study(), {{"x", v}}, {}).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  ASSERT_OK(Ask(fx.study(), {{{"c", CategoricalDistribution{{std::string("a")}}}}, "w", ""})
                .status());
  auto unfit = Enqueue(fx.study(), {{"c", std::string("b")}}, {});
  EXPECT_EQ(unfit.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.storage().Count<mutation::InsertTrial>(), 1u);
}

TEST(AttrsTest, TrialAttributesChangeUntilTheTrialFinishes) {
  StudyFixture fx;
  ASSERT_OK(Enqueue(fx.study(), {}, {}).status());
  ASSERT_OK(SetTrialUserAttr(fx.study(), 0, "k", "1").status());  // WAITING
  ASSERT_OK(Ask(fx.study(), {{}, "w", ""}).status());
  ASSERT_OK(SetTrialUserAttr(fx.study(), 0, "k", "2").status());  // RUNNING
  ASSERT_OK(Tell(fx.study(), 0, TrialState::kComplete, {1}, "").status());
  EXPECT_EQ(SetTrialUserAttr(fx.study(), 0, "k", "3").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, GetTrial(fx.study(), 0));
  EXPECT_EQ(t.user_attrs.at("k"), "2");
  EXPECT_EQ(fx.storage().Count<mutation::SetTrialUserAttr>(), 2u);
}

TEST(AttrsTest, AttributesStopAtTheLimitButMayBeReplaced) {
  StudyFixture fx;
  for (size_t i = 0; i < kMaxUserAttrs; ++i) {
    ASSERT_OK(SetStudyUserAttr(fx.study(), "k" + std::to_string(i), "1").status());
  }
  EXPECT_EQ(SetStudyUserAttr(fx.study(), "one more", "1").status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_OK(SetStudyUserAttr(fx.study(), "k5", "\"five\"").status());
  ASSERT_OK_AND_ASSIGN(StudySnapshot s, GetStudy(fx.study(), false));
  EXPECT_EQ(s.record.user_attrs.size(), kMaxUserAttrs);
  EXPECT_EQ(s.record.user_attrs.at("k5"), "\"five\"");
}

}  // namespace
}  // namespace parzen::ops
