#include "server/core/study_manager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "server/storage/sqlite_storage.h"
#include "tests/testing/core_calls.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using ops::ReportOutcome;
using ops::TellOutcome;
using testing::CoreCalls;

class StudyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(":memory:"));
    ASSERT_OK_AND_ASSIGN(manager_, StudyManager::Open(std::move(storage), &clock_));
    calls_ = std::make_unique<CoreCalls>(manager_.get());
  }
  StudyConfig Config(const std::string& name, uint64_t seed = 1) {
    return testing::DefaultConfig(name, manager_->algorithms(), seed);
  }
  void Create(StudyConfig c) {
    bool created = false;
    ASSERT_OK(Await(manager_->CreateStudy(std::move(c), StudyManager::CreateMode::kCreate, &created)).status());
    ASSERT_TRUE(created);
  }

  template <typename T>
  absl::StatusOr<T> Await(absl::StatusOr<Written<T>> written) {
    return AwaitDurable(*manager_, std::move(written));
  }

  FakeClock clock_;
  std::unique_ptr<StudyManager> manager_;
  std::unique_ptr<CoreCalls> calls_;
};

TEST_F(StudyManagerTest, ConcurrentAsksGetGapFreeUniqueNumbers) {
  Create(Config("c"));
  constexpr int kThreads = 16, kPerThread = 100;
  std::vector<std::vector<int64_t>> numbers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        auto t = Await(calls_->Ask("c", {{"x", FloatDistribution{0, 1, false, std::nullopt}}}, ""));
        if (t.ok()) numbers[i].push_back(t->number);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : numbers) all.insert(v.begin(), v.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread - 1);
}

TEST_F(StudyManagerTest, ReaperFailsSilentTrialsAndRetriesUpToTheLimit) {
  StudyConfig c = Config("r");
  c.heartbeat_grace_seconds = 10;
  c.max_retries = 1;
  Create(c);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("r", {{"x", FloatDistribution{0, 1, false, std::nullopt}}}, "w")));
  clock_.Advance(8'000'000);
  calls_->ReapExpired();
  ASSERT_OK(calls_->Heartbeat(t.trial_id, "w"));  // still alive at 8 s
  clock_.Advance(8'000'000);
  calls_->ReapExpired();
  ASSERT_OK_AND_ASSIGN(FrozenTrial still, calls_->GetTrial(t.trial_id));
  EXPECT_EQ(still.state, TrialState::kRunning);  // the beat at 8 s renewed the lease
  clock_.Advance(11'000'000);
  calls_->ReapExpired();
  ASSERT_OK_AND_ASSIGN(FrozenTrial reaped, calls_->GetTrial(t.trial_id));
  EXPECT_EQ(reaped.state, TrialState::kFail);
  EXPECT_EQ(reaped.fail_reason, "heartbeat lost");
  // The worker learns it lost the trial.
  absl::Status late = calls_->Heartbeat(t.trial_id, "w");
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<TellOutcome> tell = Await(calls_->Tell(t.trial_id, TrialState::kComplete, {1.0}, ""));
  EXPECT_EQ(tell.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(tell.status().message().find("heartbeat lost"), std::string::npos);

  // One retry with the same value; once that is lost too, no more.
  ASSERT_OK_AND_ASSIGN(FrozenTrial retry, Await(calls_->Ask("r", {{"x", FloatDistribution{0, 1, false, std::nullopt}}}, "w2")));
  EXPECT_EQ(retry.retry_of, t.number);
  EXPECT_EQ(retry.params[0].internal_value, t.params[0].internal_value);
  clock_.Advance(11'000'000);
  calls_->ReapExpired();
  ASSERT_OK_AND_ASSIGN(auto snapshot, calls_->GetStudy("r", true));
  EXPECT_EQ(snapshot.summary.counts[TrialState::kFail], 2);
  EXPECT_EQ(snapshot.summary.counts[TrialState::kWaiting], 0);
  EXPECT_EQ(snapshot.summary.n_trials, 2);
}

TEST_F(StudyManagerTest, SameSeedReplaysTheSameParameters) {
  Create(Config("a"));
  Create(Config("b"));
  Create(Config("other seed", /*seed=*/2));
  SearchSpace space = {{"lr", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
                       {"units", IntDistribution{16, 256, false, 16}},
                       {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}}};
  std::set<double> lrs;
  int same_as_other_seed = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(FrozenTrial a, Await(calls_->Ask("a", space, "")));
    ASSERT_OK_AND_ASSIGN(FrozenTrial b, Await(calls_->Ask("b", space, "")));
    ASSERT_OK_AND_ASSIGN(FrozenTrial c, Await(calls_->Ask("other seed", space, "")));
    for (size_t p = 0; p < space.size(); ++p) {
      EXPECT_EQ(a.params[p].internal_value, b.params[p].internal_value);
    }
    lrs.insert(a.params[0].internal_value);
    same_as_other_seed += a.params[0].internal_value == c.params[0].internal_value;
  }
  // A constant sampler would replay too: the draws must also differ from
  // trial to trial and from another seed's.
  EXPECT_EQ(lrs.size(), 20u);
  EXPECT_EQ(same_as_other_seed, 0);
}

TEST_F(StudyManagerTest, ReportAtTheSameStepKeepsTheFirstValue) {
  Create(Config("rep"));
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("rep", {}, "")));
  ASSERT_OK_AND_ASSIGN(ReportOutcome first, Await(calls_->Report(t.trial_id, 3, 0.5)));
  EXPECT_FALSE(first.duplicate_step);
  ASSERT_OK_AND_ASSIGN(ReportOutcome second, Await(calls_->Report(t.trial_id, 3, 0.9)));
  EXPECT_TRUE(second.duplicate_step);
  ASSERT_OK_AND_ASSIGN(FrozenTrial after, calls_->GetTrial(t.trial_id));
  EXPECT_EQ(after.intermediate_values.at(3), 0.5);
}

// Equal values: the best trial is the first to reach the value, before a
// restart and after it (trials load in number order, not completion order).
TEST(StudyManagerRestartTest, TheBestOfTwoEqualTrialsIsTheFirstToCompleteAfterARestart) {
  testing::TempDir dir;
  const std::string db = dir.File("best.db");
  FakeClock clock;
  auto open = [&]() -> std::unique_ptr<StudyManager> {
    auto storage = OpenSqliteStorage(db);
    EXPECT_OK(storage.status());
    auto manager = StudyManager::Open(*std::move(storage), &clock);
    EXPECT_OK(manager.status());
    return *std::move(manager);
  };
  auto best_number = [](StudyManager& manager) -> int64_t {
    absl::StatusOr<StudySnapshot> s = CoreCalls(&manager).GetStudy("ties", false);
    return s.ok() && s->summary.best_trial ? s->summary.best_trial->number : -1;
  };
  {
    std::unique_ptr<StudyManager> manager = open();
    StudyConfig config = testing::DefaultConfig("ties", manager->algorithms());
    CoreCalls calls(manager.get());
    bool created = false;
    ASSERT_OK(AwaitDurable(*manager, manager->CreateStudy(config, StudyManager::CreateMode::kCreate, &created)).status());
    ASSERT_OK_AND_ASSIGN(FrozenTrial first, AwaitDurable(*manager, calls.Ask("ties", {}, "")));
    ASSERT_OK_AND_ASSIGN(FrozenTrial second, AwaitDurable(*manager, calls.Ask("ties", {}, "")));
    clock.Advance(1000);
    ASSERT_OK(AwaitDurable(*manager,
                           calls.Tell(second.trial_id, TrialState::kComplete, {0.5}, ""))
                  .status());
    clock.Advance(1000);
    ASSERT_OK(AwaitDurable(*manager,
                           calls.Tell(first.trial_id, TrialState::kComplete, {0.5}, ""))
                  .status());
    EXPECT_EQ(best_number(*manager), 1);
  }
  std::unique_ptr<StudyManager> reopened = open();
  EXPECT_EQ(best_number(*reopened), 1);
}

TEST_F(StudyManagerTest, MultiObjectiveStudiesTakeSeveralValuesAndNoReports) {
  StudyConfig c = Config("mo");
  c.directions = {Direction::kMinimize, Direction::kMaximize};
  Create(c);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("mo", {}, "")));
  EXPECT_EQ(Await(calls_->Report(t.trial_id, 0, 1.0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(TellOutcome told, Await(calls_->Tell(t.trial_id, TrialState::kComplete, {1, 2}, "")));
  EXPECT_EQ(told.trial.values, (std::vector<double>{1, 2}));
  ASSERT_OK_AND_ASSIGN(auto snapshot, calls_->GetStudy("mo", true));
  EXPECT_FALSE(snapshot.summary.best_trial.has_value());  // no single best for several objectives
}

TEST_F(StudyManagerTest, DeletedStudyIsGoneAndItsNameReusable) {
  Create(Config("d"));
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("d", {}, "")));
  ASSERT_OK(Await(calls_->DeleteStudy("d")).status());
  EXPECT_EQ(calls_->GetTrial(t.trial_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls_->GetStudy("d", true).status().code(), absl::StatusCode::kNotFound);
  Create(Config("d"));
  ASSERT_OK_AND_ASSIGN(FrozenTrial fresh, Await(calls_->Ask("d", {}, "")));
  EXPECT_EQ(fresh.number, 0);
  EXPECT_NE(fresh.trial_id, t.trial_id);
}

TEST_F(StudyManagerTest, SingleValueDistributionsReturnTheirValue) {
  Create(Config("single"));
  SearchSpace space = {{"f", FloatDistribution{5, 5, false, std::nullopt}},
                       {"flog", FloatDistribution{2, 2, true, std::nullopt}},
                       {"i", IntDistribution{3, 3, false, 1}},
                       {"istep", IntDistribution{3, 4, false, 2}},
                       {"c", CategoricalDistribution{{std::string("only")}}}};
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("single", space, "")));
  ASSERT_EQ(t.params.size(), 5u);
  EXPECT_EQ(t.params[0].internal_value, 5.0);
  EXPECT_EQ(t.params[1].internal_value, 2.0);
  EXPECT_EQ(t.params[2].internal_value, 3.0);
  EXPECT_EQ(t.params[3].internal_value, 3.0);
  EXPECT_EQ(t.params[4].internal_value, 0.0);
  ASSERT_OK_AND_ASSIGN(TrialParam p, Await(calls_->Suggest(
                                         t.trial_id, "g", FloatDistribution{7, 7, false, std::nullopt})));
  EXPECT_EQ(p.internal_value, 7.0);
}

TEST_F(StudyManagerTest, SteppedFloatFarFromZeroSamplesOnItsGrid) {
  Create(Config("offset"));
  const Distribution d = FloatDistribution{1e7, 1e7 + 1, false, 0.01};
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("offset", {{"x", d}}, "")));
    const double k = (t.params[0].internal_value - 1e7) / 0.01;
    EXPECT_NEAR(k, std::round(k), 1e-6);
  }
}

TEST_F(StudyManagerTest, EnqueuedNonFiniteValuesAreRejected) {
  Create(Config("enq"));
  auto nan = calls_->Enqueue("enq", {{"x", std::nan("")}}, {});
  EXPECT_EQ(nan.status().code(), absl::StatusCode::kInvalidArgument);
  auto inf = calls_->Enqueue("enq", {{"x", std::numeric_limits<double>::infinity()}}, {});
  EXPECT_EQ(inf.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto snapshot, calls_->GetStudy("enq", true));
  EXPECT_EQ(snapshot.summary.n_trials, 0);
}

// Optuna: suggest raises for an enqueued value its distribution cannot
// hold, which fails that trial. Ask fails it and hands out the next one;
// Suggest refuses, naming the value.
TEST_F(StudyManagerTest, EnqueuedValueThatDoesNotFitFailsItsTrial) {
  Create(Config("fit"));
  ASSERT_OK(Await(calls_->Enqueue("fit", {{"opt", std::string("lbfgs")}}, {})).status());
  ASSERT_OK(Await(calls_->Enqueue("fit", {{"opt", std::string("adam")}}, {})).status());
  const SearchSpace space = {
      {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}}};
  ASSERT_OK_AND_ASSIGN(FrozenTrial asked, Await(calls_->Ask("fit", space, "w1")));
  EXPECT_EQ(asked.number, 1);
  ASSERT_EQ(asked.params.size(), 1u);
  EXPECT_EQ(asked.params[0].internal_value, 1.0);  // "adam", as enqueued
  ASSERT_OK_AND_ASSIGN(FrozenTrial failed, calls_->GetTrial(MakeTrialId(asked.study_id, 0)));
  EXPECT_EQ(failed.state, TrialState::kFail);
  EXPECT_NE(failed.fail_reason.find("enqueued value \"lbfgs\" for 'opt'"), std::string::npos)
      << failed.fail_reason;
  EXPECT_NE(failed.complete_time_us, 0);

  // Define-by-run: the trial is handed out, the suggest is refused.
  ASSERT_OK(Await(calls_->Enqueue("fit", {{"lr", std::string("fast")}}, {})).status());
  ASSERT_OK_AND_ASSIGN(FrozenTrial plain, Await(calls_->Ask("fit", {}, "w2")));
  EXPECT_EQ(plain.number, 2);
  auto suggested = calls_->Suggest(plain.trial_id, "lr", FloatDistribution{0, 1, false, {}});
  EXPECT_EQ(suggested.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(suggested.status().message().find("enqueued value \"fast\" for 'lr'"),
            std::string::npos)
      << suggested.status();
}

TEST_F(StudyManagerTest, ReapedTrialCannotBeToldCompleteEvenWithNan) {
  StudyConfig c = Config("nanreap");
  c.heartbeat_grace_seconds = 1;
  Create(c);
  ASSERT_OK_AND_ASSIGN(FrozenTrial t, Await(calls_->Ask("nanreap", {}, "")));
  clock_.Advance(2'000'000);
  calls_->ReapExpired();
  auto tell = Await(calls_->Tell(t.trial_id, TrialState::kComplete, {std::nan("")}, ""));
  EXPECT_EQ(tell.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(tell.status().message().find("heartbeat lost"), std::string::npos);
}

TEST(WatchQueueTest, SnapshotDoesNotCountAgainstTheLiveCapacity) {
  WatchQueue queue(10);
  for (int i = 0; i < 100; ++i) queue.PushSnapshot(TrialEvent{0, FrozenTrial{}});
  for (int i = 0; i < 10; ++i) queue.Push(TrialEvent{1, FrozenTrial{}});
  EXPECT_FALSE(queue.overflowed());
  queue.Push(TrialEvent{1, FrozenTrial{}});  // the eleventh live event behind
  EXPECT_TRUE(queue.overflowed());
}

TEST_F(StudyManagerTest, EveryRetryRecordsTheOriginalTrial) {
  StudyConfig c = Config("chain");
  c.heartbeat_grace_seconds = 10;
  c.max_retries = 3;
  Create(c);
  ASSERT_OK_AND_ASSIGN(FrozenTrial original, Await(calls_->Ask("chain", {}, "w")));
  for (int retry = 1; retry <= 3; ++retry) {
    clock_.Advance(11'000'000);
    calls_->ReapExpired();
    ASSERT_OK_AND_ASSIGN(FrozenTrial next, Await(calls_->Ask("chain", {}, "w")));
    EXPECT_EQ(next.retry_of, original.number) << "retry " << retry;
  }
}

TEST_F(StudyManagerTest, RepeatedAskWithARequestIdGetsTheSameTrial) {
  StudyConfig c = Config("idem");
  c.max_trials = 2;
  c.heartbeat_grace_seconds = 10;
  Create(c);
  const SearchSpace space = {{"x", FloatDistribution{0, 1, false, std::nullopt}}};
  ASSERT_OK_AND_ASSIGN(FrozenTrial first, Await(calls_->Ask("idem", space, "w", "req-1")));
  ASSERT_OK_AND_ASSIGN(FrozenTrial second, Await(calls_->Ask("idem", space, "w", "req-2")));
  EXPECT_EQ(second.number, 1);
  // The budget is used up, yet a retry of either Ask gets its own trial.
  ASSERT_OK_AND_ASSIGN(FrozenTrial again, Await(calls_->Ask("idem", space, "w", "req-1")));
  EXPECT_EQ(again.number, first.number);
  EXPECT_EQ(again.params[0].internal_value, first.params[0].internal_value);
  EXPECT_EQ(calls_->Ask("idem", space, "w", "req-3").status().code(),
            absl::StatusCode::kOutOfRange);
  // Another worker cannot take over the trial by reusing the id.
  absl::StatusOr<Written<FrozenTrial>> stolen = calls_->Ask("idem", space, "other", "req-1");
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stolen.status().message().find("worker w"), std::string::npos) << stolen.status();
  ASSERT_OK_AND_ASSIGN(auto snapshot, calls_->GetStudy("idem", true));
  EXPECT_EQ(snapshot.summary.n_trials, 2);

  // A repeat counts as a sign of life: the trial outlives its first grace.
  clock_.Advance(8'000'000);
  ASSERT_OK(Await(calls_->Ask("idem", space, "w", "req-1")).status());
  clock_.Advance(8'000'000);
  calls_->ReapExpired();
  ASSERT_OK_AND_ASSIGN(FrozenTrial alive, calls_->GetTrial(first.trial_id));
  EXPECT_EQ(alive.state, TrialState::kRunning);
  ASSERT_OK_AND_ASSIGN(FrozenTrial silent, calls_->GetTrial(second.trial_id));
  EXPECT_EQ(silent.state, TrialState::kFail);

  // Once the trial is finished the id is forgotten, so it starts a new trial.
  ASSERT_OK(Await(calls_->Tell(first.trial_id, TrialState::kComplete, {0.5}, "")).status());
  ASSERT_OK_AND_ASSIGN(FrozenTrial fresh, Await(calls_->Ask("idem", space, "w", "req-1")));
  EXPECT_EQ(fresh.number, 2);
}

}  // namespace
}  // namespace parzen
