// The kernel's snapshots: immutable whatever the study does afterwards,
// and sharing its storage until then.
#include "server/core/study.h"

#include <gtest/gtest.h>

#include <thread>

#include "server/core/ops/ask.h"
#include "server/core/ops/report.h"
#include "server/core/ops/tell.h"
#include "server/core/persistent_vector.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/study_fixture.h"

namespace parzen {
namespace {

using testing::StudyFixture;

TEST(PersistentVectorTest, ACopyNeverSeesLaterWrites) {
  PersistentVector<int> v;
  for (int i = 0; i < 200; ++i) v.push_back(i);
  const PersistentVector<int> copy = v;
  v.mutable_at(3) = -3;
  v.mutable_at(130) = -130;
  for (int i = 0; i < 100; ++i) v.push_back(1000 + i);
  ASSERT_EQ(copy.size(), 200u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(copy[i], i) << i;
  EXPECT_EQ(v.size(), 300u);
  EXPECT_EQ(v[3], -3);
  EXPECT_EQ(v[130], -130);
  EXPECT_EQ(v[299], 1099);
  // Writes to the copy-of-a-copy stay there too.
  PersistentVector<int> second = copy;
  second.mutable_at(0) = 7;
  EXPECT_EQ(copy[0], 0);
  EXPECT_EQ(v[0], 0);
}

TEST(PersistentVectorTest, ReadersOnOtherThreadsSeeTheirCopyWhileItIsWritten) {
  PersistentVector<int> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  std::vector<std::thread> readers;
  std::atomic<int> wrong{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([copy = v, &wrong] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = 0; i < copy.size(); ++i) wrong += copy[i] != static_cast<int>(i);
      }
    });
  }
  for (int round = 0; round < 200; ++round) {
    for (size_t i = 0; i < v.size(); i += 7) v.mutable_at(i) = -round;
    v.push_back(round);
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(StudyTest, ASnapshotKeepsItsTrialsWhateverHappensLater) {
  StudyFixture fx;
  const SearchSpace space = {{"x", FloatDistribution{0, 1, false, std::nullopt}}};
  ASSERT_OK(ops::Ask(fx.study(), {space, "w", ""}).status());
  ASSERT_OK(ops::Report(fx.study(), 0, 0, 1.5).status());
  std::shared_ptr<const History> before;
  {
    absl::MutexLock lock(&fx.study().mu());
    before = fx.study().Snapshot();
  }
  ASSERT_OK(ops::Report(fx.study(), 0, 1, 1.0).status());
  ASSERT_OK(ops::Tell(fx.study(), 0, TrialState::kComplete, {1.0}, "").status());
  for (int i = 0; i < 100; ++i) ASSERT_OK(ops::Ask(fx.study(), {space, "w", ""}).status());
  EXPECT_EQ(before->num_trials(), 1);
  EXPECT_EQ(before->trial(0).state, TrialState::kRunning);
  EXPECT_EQ(before->trial(0).intermediate_values.size(), 1u);
  EXPECT_EQ(before->num_complete(), 0);
  EXPECT_TRUE(before->CompletedValuesAt(0).empty());
  absl::MutexLock lock(&fx.study().mu());
  std::shared_ptr<const History> after = fx.study().Snapshot();
  EXPECT_EQ(after->num_trials(), 101);
  EXPECT_EQ(after->num_complete(), 1);
  EXPECT_EQ(after->CompletedValuesAt(0), std::vector<double>{1.5});
  EXPECT_GT(after->version(), before->version());
  EXPECT_EQ(after->Trials({TrialState::kComplete}).size(), 1u);
}

// The study loads what storage held, indexes included.
TEST(StudyTest, LoadedTrialsAreIndexed) {
  FrozenTrial done;
  done.number = 0;
  done.state = TrialState::kComplete;
  done.values = {0.5};
  done.intermediate_values = {{0, 0.9}};
  FrozenTrial waiting;
  waiting.number = 1;
  waiting.state = TrialState::kWaiting;
  FrozenTrial running;
  running.number = 2;
  running.state = TrialState::kRunning;
  running.ask_request_id = "r";
  testing::FakeStorage storage;
  FakeClock clock;
  Algorithms a;
  StudyConfig config;
  config.name = "loaded";
  config.sampler = *a.samplers.Resolve(v1::SamplerConfig(), 1);
  config.pruner = *a.pruners.Resolve(v1::PrunerConfig(), 1);
  Study study(StudyRecord{1, "loaded", config.directions, "", {}, 0}, config,
              *a.samplers.Make(config.sampler), *a.pruners.Make(config.pruner), &storage, &clock,
              {done, waiting, running});
  absl::MutexLock lock(&study.mu());
  EXPECT_EQ(study.count(TrialState::kComplete), 1);
  EXPECT_EQ(study.FrontOfQueue(), 1);
  EXPECT_EQ(study.RunningByRequest("r"), 2);
  EXPECT_EQ(study.Summarize(false).summary.best_trial->number, 0);
  EXPECT_EQ(study.Snapshot()->CompletedValuesAt(0), std::vector<double>{0.9});
}

}  // namespace
}  // namespace parzen
