// The Ask use case on one study kernel, with a fake storage and clock.
#include "server/core/ops/ask.h"

#include <gtest/gtest.h>

#include "server/core/ops/enqueue.h"
#include "server/core/ops/read.h"
#include "server/core/ops/tell.h"
#include "server/samplers/registry.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen::ops {
namespace {

using testing::StudyFixture;

const SearchSpace kSpace = {{"x", FloatDistribution{0, 1, false, std::nullopt}},
                            {"n", IntDistribution{1, 9, false, 2}}};

// Every value the lowest its distribution holds, and a system attribute
// naming the trial number it was sampled for.
class LowestSampler final : public Sampler {
 public:
  std::string_view Name() const override { return "lowest"; }
  absl::StatusOr<RelativeSample> SampleRelative(const StudyHistory&, const FrozenTrial& trial,
                                                const SearchSpace& space) const override {
    RelativeSample out;
    for (const auto& [name, d, condition] : space) {
      if (const auto* f = std::get_if<FloatDistribution>(&d)) out.params[name] = f->low;
    }
    out.system_attrs["sampled_for"] = std::to_string(trial.number);
    return out;
  }
  absl::StatusOr<double> SampleIndependent(const StudyHistory&, const FrozenTrial&,
                                           const std::string&,
                                           const Distribution& d) const override {
    if (const auto* i = std::get_if<IntDistribution>(&d)) return static_cast<double>(i->low);
    return 0.0;
  }
};

Algorithms WithLowest() {
  Algorithms a;
  EXPECT_OK(a.samplers.Add(MakePlugin<Sampler, v1::RandomSamplerConfig>(
      "lowest", [](v1::RandomSamplerConfig&, uint64_t) { return absl::OkStatus(); },
      [](const v1::RandomSamplerConfig&) { return std::make_unique<LowestSampler>(); })));
  return a;
}

StudyFixture LowestStudy(const std::function<void(StudyConfig&)>& tweak = {}) {
  Algorithms a = WithLowest();
  v1::SamplerConfig lowest;
  lowest.mutable_named()->set_name("lowest");
  AlgorithmSpec spec = *a.samplers.Resolve(lowest, 1);
  return StudyFixture(
      [&](StudyConfig& c) {
        c.sampler = spec;
        if (tweak) tweak(c);
      },
      std::move(a));
}

TEST(AskTest, TrialsAreNumberedInOrderWithEveryParameterInside) {
  StudyFixture fx;
  for (int64_t n = 0; n < 5; ++n) {
    ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> asked, Ask(fx.study(), {kSpace, "w", ""}));
    EXPECT_EQ(asked.value.number, n);
    EXPECT_EQ(asked.value.state, TrialState::kRunning);
    EXPECT_EQ(asked.value.worker_id, "w");
    ASSERT_EQ(asked.value.params.size(), 2u);
    for (const TrialParam& p : asked.value.params) EXPECT_TRUE(Contains(p.distribution, p.internal_value));
    EXPECT_EQ(asked.ticket, static_cast<Storage::Ticket>(n + 1));
  }
  EXPECT_EQ(fx.storage().Count<mutation::InsertTrial>(), 5u);
}

TEST(AskTest, TheSamplersSystemAttributesAreStoredWithTheTrial) {
  StudyFixture fx = LowestStudy();
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> fresh, Ask(fx.study(), {kSpace, "w", ""}));
  EXPECT_EQ(fresh.value.params[0].internal_value, 0.0);  // relative
  EXPECT_EQ(fresh.value.params[1].internal_value, 1.0);  // independent
  EXPECT_EQ(fresh.value.system_attrs.at("sampled_for"), "0");
  const auto inserted = std::get<mutation::InsertTrial>(fx.storage().log().back());
  EXPECT_EQ(inserted.trial.system_attrs.at("sampled_for"), "0");

  // An enqueued trial gets them as changes of its own.
  ASSERT_OK(Enqueue(fx.study(), {{"n", int64_t{7}}}, {}).status());
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> queued, Ask(fx.study(), {kSpace, "w", ""}));
  EXPECT_EQ(queued.value.number, 1);
  EXPECT_EQ(queued.value.params[1].internal_value, 7.0);
  EXPECT_EQ(queued.value.system_attrs.at("sampled_for"), "1");
  EXPECT_EQ(fx.storage().Count<mutation::SetTrialSystemAttr>(), 1u);
  EXPECT_EQ(fx.storage().Count<mutation::InsertParam>(), 2u);
}

// A parameter with a condition is sampled only when its parent's value
// enables it; a repeated Ask then names it without the trial holding it.
TEST(AskTest, AConditionalParameterExistsOnlyWhenItsParentEnablesIt) {
  StudyFixture fx;
  const SearchSpace space = {
      {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}},
      {"momentum", FloatDistribution{0, 0.99, false, std::nullopt},
       Condition{"opt", {std::string("sgd")}}}};
  int with = 0, without = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_OK_AND_ASSIGN(auto asked, Ask(fx.study(), {space, "w", "r" + std::to_string(i)}));
    const FrozenTrial& t = asked.value;
    const bool sgd = t.params[0].internal_value == 0;
    ASSERT_EQ(t.params.size(), sgd ? 2u : 1u) << i;
    (sgd ? with : without) += 1;
    ASSERT_OK_AND_ASSIGN(auto again, Ask(fx.study(), {space, "w", "r" + std::to_string(i)}));
    EXPECT_EQ(again.value.number, t.number);
  }
  EXPECT_GT(with, 5);
  EXPECT_GT(without, 5);
  const SearchSpace orphan = {{"momentum", FloatDistribution{0, 0.99, false, std::nullopt},
                               Condition{"opt", {std::string("sgd")}}}};
  EXPECT_EQ(Ask(fx.study(), {orphan, "w", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Two Asks sampling at once: each its own reserved number, and whichever
// commits first takes the next number.
TEST(AskTest, AsksInFlightCommitInAnyOrderWithoutGaps) {
  StudyFixture fx = LowestStudy();
  ASSERT_OK_AND_ASSIGN(AskStart first, PlanAsk(fx.study(), {kSpace, "a", ""}));
  ASSERT_OK_AND_ASSIGN(AskStart second, PlanAsk(fx.study(), {kSpace, "b", ""}));
  ASSERT_TRUE(first.plan && second.plan);
  EXPECT_EQ(first.plan->trial.number, 0);
  EXPECT_EQ(second.plan->trial.number, 1);
  ASSERT_OK_AND_ASSIGN(auto b, CommitAsk(fx.study(), *second.plan,
                                         SampleAsk(fx.study(), *second.plan)));
  ASSERT_OK_AND_ASSIGN(auto a, CommitAsk(fx.study(), *first.plan,
                                         SampleAsk(fx.study(), *first.plan)));
  EXPECT_EQ(b.value.number, 0);
  EXPECT_EQ(b.value.worker_id, "b");
  EXPECT_EQ(a.value.number, 1);
  // With none in flight the next reservation is the next number again.
  ASSERT_OK_AND_ASSIGN(AskStart third, PlanAsk(fx.study(), {kSpace, "c", ""}));
  EXPECT_EQ(third.plan->trial.number, 2);
}

TEST(AskTest, AsksInFlightHoldTheirSlotOfTheBudget) {
  StudyFixture fx([](StudyConfig& c) { c.max_trials = 1; });
  ASSERT_OK_AND_ASSIGN(AskStart first, PlanAsk(fx.study(), {kSpace, "a", ""}));
  EXPECT_EQ(PlanAsk(fx.study(), {kSpace, "b", ""}).status().code(),
            absl::StatusCode::kOutOfRange);
  // A plan given up gives its slot back.
  EXPECT_EQ(CommitAsk(fx.study(), *first.plan, absl::InternalError("sampler broke"))
                .status()
                .code(),
            absl::StatusCode::kInternal);
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> asked, Ask(fx.study(), {kSpace, "b", ""}));
  EXPECT_EQ(asked.value.number, 0);
}

TEST(AskTest, AFailedSampleReturnsTheEnqueuedTrialToTheFront) {
  StudyFixture fx;
  ASSERT_OK(Enqueue(fx.study(), {{"x", 0.25}}, {}).status());
  ASSERT_OK_AND_ASSIGN(AskStart plan, PlanAsk(fx.study(), {kSpace, "a", ""}));
  ASSERT_TRUE(plan.plan->from_queue);
  ASSERT_FALSE(CommitAsk(fx.study(), *plan.plan, absl::InternalError("no")).ok());
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> asked, Ask(fx.study(), {kSpace, "b", ""}));
  EXPECT_EQ(asked.value.number, 0);
  EXPECT_EQ(asked.value.params[0].internal_value, 0.25);
  ASSERT_OK_AND_ASSIGN(StudySnapshot s, GetStudy(fx.study(), false));
  EXPECT_EQ(s.summary.n_trials, 1);
}

// An Ask that committed meanwhile may have used a name another way: the
// later commit is refused and leaves no trial.
TEST(AskTest, ACommitRechecksHowItsNamesWereUsedMeanwhile) {
  StudyFixture fx;
  ASSERT_OK_AND_ASSIGN(AskStart plan, PlanAsk(fx.study(), {kSpace, "a", ""}));
  const SearchSpace other = {{"x", CategoricalDistribution{{std::string("u")}}}};
  ASSERT_OK(Ask(fx.study(), {other, "b", ""}).status());
  auto committed = CommitAsk(fx.study(), *plan.plan, SampleAsk(fx.study(), *plan.plan));
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(StudySnapshot s, GetStudy(fx.study(), false));
  EXPECT_EQ(s.summary.n_trials, 1);
}

TEST(AskTest, ARepeatWhileTheFirstIsStillSamplingIsToldToRetry) {
  StudyFixture fx;
  ASSERT_OK_AND_ASSIGN(AskStart first, PlanAsk(fx.study(), {kSpace, "w", "req"}));
  EXPECT_EQ(PlanAsk(fx.study(), {kSpace, "w", "req"}).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_OK_AND_ASSIGN(auto done, CommitAsk(fx.study(), *first.plan,
                                            SampleAsk(fx.study(), *first.plan)));
  // Now the repeat is answered with the same trial.
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> again, Ask(fx.study(), {kSpace, "w", "req"}));
  EXPECT_EQ(again.value.number, done.value.number);
  EXPECT_EQ(again.value.params[0].internal_value, done.value.params[0].internal_value);
}

TEST(AskTest, ADeletedStudyRefusesTheCommit) {
  StudyFixture fx;
  ASSERT_OK_AND_ASSIGN(AskStart plan, PlanAsk(fx.study(), {kSpace, "a", ""}));
  {
    absl::MutexLock lock(&fx.study().mu());
    fx.study().MarkDeleted();
  }
  EXPECT_EQ(CommitAsk(fx.study(), *plan.plan, SampleAsk(fx.study(), *plan.plan)).status().code(),
            absl::StatusCode::kNotFound);
}

// The sampler reads a snapshot: what the study does meanwhile is not in it.
TEST(AskTest, ThePlansHistoryIsASnapshot) {
  StudyFixture fx;
  ASSERT_OK_AND_ASSIGN(Written<FrozenTrial> done, Ask(fx.study(), {kSpace, "a", ""}));
  ASSERT_OK_AND_ASSIGN(AskStart plan, PlanAsk(fx.study(), {kSpace, "b", ""}));
  ASSERT_OK(Tell(fx.study(), done.value.number, TrialState::kComplete, {0.5}, "").status());
  ASSERT_OK(Ask(fx.study(), {kSpace, "c", ""}).status());
  const History& h = *plan.plan->history;
  ASSERT_EQ(h.num_trials(), 1);
  EXPECT_EQ(h.trial(0).state, TrialState::kRunning);
  EXPECT_EQ(h.num_complete(), 0);
  absl::MutexLock lock(&fx.study().mu());
  EXPECT_EQ(fx.study().trial(0).state, TrialState::kComplete);
  EXPECT_GT(fx.study().Snapshot()->version(), h.version());
}

// Two Asks sampled from one snapshot claim the same grid point: the first
// to commit has it; the other is refused with Aborted (the RPC then draws
// again) and nothing of it is stored.
TEST(AskTest, AClaimTakenByAnEarlierCommitIsRefused) {
  v1::SamplerConfig grid;
  grid.mutable_named()->set_name("grid");
  (*grid.mutable_named()->mutable_args())["search_space"] = R"({"x":[0.25],"n":[3]})";
  StudyFixture fx([&](StudyConfig& c) { c.sampler = *BuiltinSamplers().Resolve(grid, 1); });
  ASSERT_OK_AND_ASSIGN(AskStart a, PlanAsk(fx.study(), {kSpace, "a", ""}));
  ASSERT_OK_AND_ASSIGN(AskStart b, PlanAsk(fx.study(), {kSpace, "b", ""}));
  absl::StatusOr<SampledTrial> sampled_a = SampleAsk(fx.study(), *a.plan);
  absl::StatusOr<SampledTrial> sampled_b = SampleAsk(fx.study(), *b.plan);
  ASSERT_OK(sampled_a.status());
  ASSERT_OK(sampled_b.status());
  EXPECT_EQ(sampled_a->system_attrs, sampled_b->system_attrs);
  ASSERT_OK(CommitAsk(fx.study(), *a.plan, std::move(sampled_a)).status());
  EXPECT_EQ(CommitAsk(fx.study(), *b.plan, std::move(sampled_b)).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(fx.storage().Count<mutation::InsertTrial>(), 1u);
  // The grid's one point is gone: the study is done.
  EXPECT_EQ(Ask(fx.study(), {kSpace, "c", ""}).status().code(), absl::StatusCode::kOutOfRange);
  absl::MutexLock lock(&fx.study().mu());
  EXPECT_EQ(fx.study().asks_in_flight(), 0);
}

}  // namespace
}  // namespace parzen::ops
