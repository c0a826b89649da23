// parzen-worker processes tuning MNIST together through one parzen-server:
// a whole study with pruning, and a worker killed mid-trial.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/integration/worker_cluster.h"
#include "tests/testing/requests.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

double NumberAttr(const v1::Trial& t, const std::string& key) {
  auto it = t.user_attrs().find(key);
  return it == t.user_attrs().end() ? -1 : it->second.number_value();
}

std::map<std::string, double> Params(const v1::Trial& t) {
  std::map<std::string, double> out;
  for (const v1::Parameter& p : t.params()) out[p.name()] = p.internal_value();
  return out;
}

TEST(WorkerStudyTest, ThreeWorkersRunTwelveTrialsWithPruning) {
  WorkerCluster cluster("three-workers");
  ASSERT_TRUE(cluster.StartServer());
  const std::vector<std::string> study = {"--max-trials", "12", "--pruner",
                                          "median:n_startup_trials=2", "--heartbeat-grace", "30"};
  std::vector<ChildProcess*> workers;
  for (const char* id : {"w1", "w2", "w3"}) workers.push_back(&cluster.StartWorker(id, study));
  for (ChildProcess* w : workers) {
    const std::optional<int> code = w->WaitFor(seconds(400));
    ASSERT_TRUE(code.has_value()) << "a worker did not finish\n" << cluster.Logs();
    ASSERT_EQ(*code, 0) << cluster.Logs();
  }

  const std::vector<v1::Trial> trials = cluster.Trials();
  int finished = 0;
  int pruned = 0;
  double best_accuracy = 0;
  std::set<std::string> workers_seen;
  for (size_t i = 0; i < trials.size(); ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.number(), static_cast<int64_t>(i));
    if (t.state() == v1::FAIL) {
      // A diverged trial (NaN loss) is the only failure a healthy study has;
      // it gives its budget slot back.
      EXPECT_EQ(t.fail_reason(), "objective value is NaN") << cluster.Logs();
      continue;
    }
    ASSERT_TRUE(t.state() == v1::COMPLETE || t.state() == v1::PRUNED)
        << "trial " << t.number() << " is " << v1::TrialState_Name(t.state()) << "\n"
        << cluster.Logs();
    ++finished;
    EXPECT_EQ(t.params_size(), 10) << "trial " << t.number();
    workers_seen.insert(t.worker_id());
    if (t.state() == v1::PRUNED) {
      ++pruned;
      // Stopped at the report the pruner judged, whose value it keeps.
      ASSERT_GE(t.intermediate_values_size(), 1) << "trial " << t.number();
      EXPECT_EQ(t.values(0), t.intermediate_values(t.intermediate_values_size() - 1).value());
      continue;
    }
    // Reported the validation loss after each of the 2 epochs (steps 0, 1),
    // and told the last one.
    ASSERT_EQ(t.intermediate_values_size(), 2) << "trial " << t.number();
    EXPECT_EQ(t.intermediate_values(1).step(), 1);
    EXPECT_EQ(t.values(0), t.intermediate_values(1).value());
    EXPECT_DOUBLE_EQ(NumberAttr(t, "val_loss"), t.values(0));
    EXPECT_GT(NumberAttr(t, "test_accuracy"), 0) << "trial " << t.number();
    best_accuracy = std::max(best_accuracy, NumberAttr(t, "val_accuracy"));
  }
  EXPECT_EQ(finished, 12) << cluster.Logs();
  EXPECT_GE(pruned, 1) << cluster.Logs();
  EXPECT_GT(best_accuracy, 0.90) << cluster.Logs();
  // A worker that started late may find the work gone; at least two shared it.
  EXPECT_GE(workers_seen.size(), 2u) << "the workers should have shared the study";
}

TEST(WorkerStudyTest, KilledWorkersTrialIsReapedAndRerunElsewhere) {
  constexpr double kGraceSeconds = 2;
  WorkerCluster cluster("killed-worker");
  ASSERT_TRUE(cluster.StartServer());
  const std::vector<std::string> study = {"--max-trials", "6", "--pruner", "nop",
                                          "--heartbeat-grace", "2", "--max-retries", "1"};
  ChildProcess& doomed = cluster.StartWorker("doomed", study);
  ChildProcess& survivor = cluster.StartWorker("survivor", study);

  const std::optional<int64_t> killed = cluster.WaitForRunningTrial("doomed", seconds(60));
  ASSERT_TRUE(killed.has_value()) << cluster.Logs();
  doomed.Signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(doomed.WaitFor(seconds(10)).has_value());

  const std::optional<v1::Trial> finished_trial = cluster.WaitForFinished(*killed, seconds(30));
  ASSERT_TRUE(finished_trial.has_value()) << cluster.Logs();
  const v1::Trial& reaped = *finished_trial;
  const double reaped_after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_EQ(reaped.state(), v1::FAIL) << cluster.Logs();
  EXPECT_EQ(reaped.fail_reason(), "heartbeat lost");
  // The lease ran from the last heartbeat, at most one grace before the kill;
  // the rest is the reaper's 100 ms period and polling.
  EXPECT_LT(reaped_after, kGraceSeconds + 1.5);

  const std::optional<int> code = survivor.WaitFor(seconds(300));
  ASSERT_TRUE(code.has_value()) << cluster.Logs();
  EXPECT_EQ(*code, 0) << cluster.Logs();

  const std::vector<v1::Trial> trials = cluster.Trials();
  int finished = 0;
  const v1::Trial* retry = nullptr;
  for (const v1::Trial& t : trials) {
    if (t.state() == v1::COMPLETE || t.state() == v1::PRUNED) ++finished;
    if (t.has_retry_of() && t.retry_of() == *killed) retry = &t;
  }
  EXPECT_EQ(finished, 6) << cluster.Logs();
  ASSERT_NE(retry, nullptr) << "trial " << *killed << " was not re-run\n" << cluster.Logs();
  EXPECT_EQ(retry->worker_id(), "survivor");
  EXPECT_TRUE(retry->state() == v1::COMPLETE || retry->state() == v1::PRUNED);
  EXPECT_EQ(Params(*retry), Params(reaped));
}

TEST(WorkerStudyTest, AServerRestartWhileThreeWorkersRunMeetsTheBudgetExactly) {
  constexpr int kBudget = 9;
  WorkerCluster cluster("restart");
  ASSERT_TRUE(cluster.StartServer());
  const std::vector<std::string> study = {"--max-trials", std::to_string(kBudget), "--pruner",
                                          "nop", "--heartbeat-grace", "30"};
  std::vector<ChildProcess*> workers;
  for (const char* id : {"w1", "w2", "w3"}) workers.push_back(&cluster.StartWorker(id, study));
  // Mid-study: trials finished and others running.
  ASSERT_TRUE(WaitUntil(
      [&] {
        int finished = 0, running = 0;
        for (const v1::Trial& t : cluster.Trials()) {
          finished += t.state() == v1::COMPLETE;
          running += t.state() == v1::RUNNING;
        }
        return finished >= 2 && running >= 1;
      },
      seconds(300), milliseconds(50)))
      << cluster.Logs();
  ASSERT_TRUE(cluster.RestartServer());
  for (ChildProcess* w : workers) {
    const std::optional<int> code = w->WaitFor(seconds(400));
    ASSERT_TRUE(code.has_value()) << "a worker did not finish\n" << cluster.Logs();
    EXPECT_EQ(*code, 0) << cluster.Logs();
  }
  const std::vector<v1::Trial> trials = cluster.Trials();
  int finished = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.number(), static_cast<int64_t>(i)) << "numbering has a gap";
    if (t.state() == v1::COMPLETE) {
      ++finished;
      continue;
    }
    // A diverged trial gives its budget slot back; nothing else may fail,
    // and nothing stays RUNNING.
    EXPECT_EQ(t.state(), v1::FAIL) << "trial " << t.number() << "\n" << cluster.Logs();
    EXPECT_EQ(t.fail_reason(), "objective value is NaN") << cluster.Logs();
  }
  EXPECT_EQ(finished, kBudget) << cluster.Logs();
}

TEST(WorkerStudyTest, SigtermStopsWithinABatchTellsFailAndExitsZero) {
  WorkerCluster cluster("sigterm");
  ASSERT_TRUE(cluster.StartServer());
  ChildProcess& worker = cluster.StartWorker("stopped", {"--pruner", "nop"});
  const std::optional<int64_t> running = cluster.WaitForRunningTrial("stopped", seconds(60));
  ASSERT_TRUE(running.has_value()) << cluster.Logs();
  worker.Signal(SIGTERM);
  // One batch is milliseconds here; the bound leaves room for a loaded CI
  // machine and the Tell, not for another epoch (about 2 s).
  const std::optional<int> code = worker.WaitFor(seconds(5));
  ASSERT_TRUE(code.has_value()) << "the worker did not stop\n" << cluster.Logs();
  EXPECT_EQ(*code, 0) << cluster.Logs();
  const v1::Trial stopped = cluster.Trial(*running);
  EXPECT_EQ(stopped.state(), v1::FAIL);
  EXPECT_EQ(stopped.fail_reason(), "worker stopped by SIGTERM");
  EXPECT_EQ(cluster.Trials().size(), 1u) << "no trial may start after the signal";
}

TEST(WorkerStudyTest, UnknownParameterInTheSpaceFailsBeforeAnyTrial) {
  WorkerCluster cluster("bad-space");
  ASSERT_TRUE(cluster.StartServer());
  const std::string space = cluster.WriteFile(
      "bad.json", R"({"lr": {"type": "float", "low": 0.001, "high": 0.1},
                      "learning_rate_typo": {"type": "float", "low": 0.001, "high": 0.1}})");
  ChildProcess& worker = cluster.StartWorker("w", {"--space", space});
  const std::optional<int> code = worker.WaitFor(seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(worker.Log().find("no parameter \"learning_rate_typo\""), std::string::npos)
      << worker.Log();
  EXPECT_FALSE(cluster.StudyExists()) << "the space is checked before the study is touched";
}

TEST(WorkerStudyTest, ObjectiveMustMatchTheStudysDirection) {
  WorkerCluster cluster("direction");
  ASSERT_TRUE(cluster.StartServer());
  // A flag that contradicts the objective is refused before any study
  // exists, so it leaves nothing wrong behind for the next worker.
  ChildProcess& flagged =
      cluster.StartWorker("flagged", {"--objective", "val_accuracy", "--direction", "minimize"});
  std::optional<int> code = flagged.WaitFor(seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(flagged.Log().find("--direction does not maximize"), std::string::npos)
      << flagged.Log();
  EXPECT_FALSE(cluster.StudyExists());
  // An existing minimizing study: a worker that would report accuracy to
  // it refuses rather than have the pruner stop the best trials.
  {
    v1::CreateStudyRequest request;
    request.set_name("direction");
    v1::CreateStudyResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(cluster.stub().CreateStudy(&context, request, &response).ok());
  }
  ChildProcess& loaded = cluster.StartWorker("loaded", {"--objective", "val_accuracy"});
  code = loaded.WaitFor(seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(loaded.Log().find("study \"direction\" does not maximize"), std::string::npos)
      << loaded.Log();
  EXPECT_TRUE(cluster.Trials().empty());
}

TEST(WorkerStudyTest, StudyFlagsThatCannotChangeAnExistingStudyAreReported) {
  WorkerCluster cluster("existing");
  ASSERT_TRUE(cluster.StartServer());
  // A study whose one-trial budget is already spent: a worker joining it
  // finds nothing to do and exits at once.
  {
    v1::CreateStudyRequest request;
    request.set_name("existing");
    request.set_max_trials(1);
    request.mutable_pruner()->mutable_nop();
    v1::CreateStudyResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(cluster.stub().CreateStudy(&context, request, &response).ok());
    v1::AskResponse ask;
    ASSERT_TRUE(Ask(cluster.stub(), "existing", {}, &ask).ok());
    ASSERT_TRUE(Tell(cluster.stub(), ask.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
  }
  ChildProcess& worker =
      cluster.StartWorker("late", {"--max-trials", "20", "--pruner", "median"});
  std::optional<int> code = worker.WaitFor(seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << worker.Log();
  // (The cluster passes --sampler to every worker.)
  EXPECT_NE(worker.Log().find("study \"existing\" already exists, so --sampler, --pruner, "
                              "--max-trials did not change it"),
            std::string::npos)
      << worker.Log();
  EXPECT_EQ(cluster.Trials().size(), 1u);
}

TEST(WorkerStudyTest, ReportsEveryNBatchesWithTheBatchCountAsStep) {
  WorkerCluster cluster("report-every");
  ASSERT_TRUE(cluster.StartServer());
  // 1,000 images in batches of 50: 20 batches an epoch, a report every 5.
  const std::string space = cluster.WriteFile(
      "fixed-batch.json", R"({"lr": {"type": "float", "low": 0.01, "high": 0.05},
                              "batch_size": {"type": "categorical", "choices": [50]}})");
  ChildProcess& worker =
      cluster.StartWorker("w", {"--space", space, "--train-size", "1000", "--report-every", "5",
                                "--pruner", "nop", "--max-trials", "1"});
  const std::optional<int> code = worker.WaitFor(seconds(120));
  ASSERT_TRUE(code.has_value()) << cluster.Logs();
  ASSERT_EQ(*code, 0) << cluster.Logs();
  const std::vector<v1::Trial> trials = cluster.Trials();
  ASSERT_EQ(trials.size(), 1u);
  const v1::Trial& t = trials[0];
  ASSERT_EQ(t.state(), v1::COMPLETE) << cluster.Logs();
  std::vector<int64_t> steps;
  for (const v1::IntermediateValue& iv : t.intermediate_values()) steps.push_back(iv.step());
  EXPECT_EQ(steps, (std::vector<int64_t>{5, 10, 15, 20, 25, 30, 35, 40}));
  // The last report point is the end of training: the told value is its loss.
  EXPECT_EQ(t.values(0), t.intermediate_values(7).value());
}

}  // namespace
}  // namespace parzen::testing
