// Drives whole studies through the real parzen-server binary over gRPC.
#include <gtest/gtest.h>

#include <map>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <grpcpp/generic/generic_stub.h>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

using ::parzen::v1::StudyService;

class StudyLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("studies.db"), {"--reaper-period-ms", "50"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    if (!server_ || !server_->running()) return;
    stub_.reset();
    const int code = server_->Terminate();
    EXPECT_EQ(code, 0) << "parzen-server did not shut down cleanly";
    if (HasFailure() || getenv("PARZEN_TEST_SHOW_LOG")) std::cerr << server_->Log();
  }

  // Collects WatchStudy events on a thread until told to stop.
  class Watcher {
   public:
    Watcher(StudyService::Stub& stub, const std::string& study) {
      v1::WatchStudyRequest req;
      req.set_study(study);
      reader_ = stub.WatchStudy(&ctx_, req);
      // Returns once the server has registered the watch, so no later
      // change can be missed and nothing made after this is a snapshot.
      reader_->WaitForInitialMetadata();
      thread_ = std::thread([this] {
        v1::WatchStudyResponse resp;
        while (reader_->Read(&resp)) {
          std::lock_guard lock(mu_);
          events_.push_back(resp);
          cv_.notify_all();
        }
      });
    }
    ~Watcher() {
      ctx_.TryCancel();
      thread_.join();
    }
    // Waits until an event satisfies `pred`; false after 10 s.
    template <typename Pred>
    bool WaitFor(Pred pred) {
      std::unique_lock lock(mu_);
      return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
        for (const auto& e : events_) {
          if (pred(e)) return true;
        }
        return false;
      });
    }
    std::vector<v1::WatchStudyResponse> events() {
      std::lock_guard lock(mu_);
      return events_;
    }

   private:
    grpc::ClientContext ctx_;
    std::unique_ptr<grpc::ClientReader<v1::WatchStudyResponse>> reader_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<v1::WatchStudyResponse> events_;
    std::thread thread_;
  };

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<StudyService::Stub> stub_;
};

v1::CreateStudyRequest MedianStudy(const std::string& name, int n_startup) {
  v1::CreateStudyRequest req;
  req.set_name(name);
  req.add_directions(v1::MINIMIZE);
  req.mutable_sampler()->mutable_random()->set_seed(7);
  req.mutable_pruner()->mutable_median()->set_n_startup_trials(n_startup);
  return req;
}

const v1::Parameter* FindParam(const v1::Trial& t, const std::string& name) {
  for (const auto& p : t.params()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

TEST_F(StudyLifecycleTest, WholeStudyWithPruningListingAndWatching) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("mnist", 2)).ok());
  Watcher watcher(*stub_, "mnist");

  // Two finished trials form the pruner's reference; the third reports a
  // much worse first value and must be pruned; the fourth is fine.
  const std::vector<std::vector<double>> curves = {
      {1.0, 0.8, 0.6, 0.4}, {1.2, 1.0, 0.8, 0.6}, {5.0}, {0.9, 0.5, 0.3, 0.1}};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < curves.size(); ++i) {
    v1::AskResponse ask;
    ASSERT_TRUE(Ask(*stub_, "mnist",
                    {FloatSpec("lr", 1e-4, 1e-1, /*log=*/true), IntSpec("units", 16, 128, false, 16),
                     CategoricalSpec("optimizer", {"sgd", "adam"})},
                    &ask)
                    .ok());
    const v1::Trial& t = ask.trial();
    EXPECT_EQ(t.number(), static_cast<int64_t>(i));
    EXPECT_EQ(t.state(), v1::RUNNING);
    ASSERT_EQ(t.params_size(), 3);
    const double lr = FindParam(t, "lr")->value().double_value();
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1e-1);
    const int64_t units = FindParam(t, "units")->value().int_value();
    EXPECT_TRUE(units >= 16 && units <= 128 && units % 16 == 0) << units;
    const std::string opt = FindParam(t, "optimizer")->value().string_value();
    EXPECT_TRUE(opt == "sgd" || opt == "adam") << opt;
    ids.push_back(t.trial_id());

    // Define-by-run: a new parameter, then the same one again.
    v1::SuggestRequest sreq;
    sreq.set_trial_id(t.trial_id());
    sreq.set_name("dropout");
    auto* f = sreq.mutable_distribution()->mutable_float_distribution();
    f->set_low(0.0);
    f->set_high(0.5);
    v1::SuggestResponse first, second;
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub_->Suggest(&ctx, sreq, &first).ok());
    }
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub_->Suggest(&ctx, sreq, &second).ok());
    }
    EXPECT_EQ(first.parameter().value().double_value(), second.parameter().value().double_value());
    EXPECT_GE(first.parameter().value().double_value(), 0.0);
    EXPECT_LE(first.parameter().value().double_value(), 0.5);

    bool pruned = false;
    for (size_t step = 0; step < curves[i].size(); ++step) {
      v1::ReportIntermediateResponse rep;
      ASSERT_TRUE(Report(*stub_, t.trial_id(), static_cast<int64_t>(step), curves[i][step], &rep).ok());
      if (rep.should_prune()) {
        pruned = true;
        break;
      }
    }
    // Trials 0 and 1 are within n_startup_trials; trial 2's 5.0 is above the
    // median (1.1) of the completed trials at step 0; trial 3's 0.9 is below.
    EXPECT_EQ(pruned, i == 2) << "trial " << i;
    if (pruned) {
      ASSERT_TRUE(Tell(*stub_, t.trial_id(), v1::PRUNED, {}).ok());
    } else {
      ASSERT_TRUE(Tell(*stub_, t.trial_id(), v1::COMPLETE, {curves[i].back()}).ok());
    }
  }

  v1::Trial pruned_trial;
  ASSERT_TRUE(GetTrial(*stub_, ids[2], &pruned_trial).ok());
  EXPECT_EQ(pruned_trial.state(), v1::PRUNED);
  ASSERT_EQ(pruned_trial.values_size(), 1);
  EXPECT_EQ(pruned_trial.values(0), 5.0);  // Optuna stores the last intermediate value

  v1::GetStudyResponse study;
  ASSERT_TRUE(GetStudy(*stub_, "mnist", &study).ok());
  EXPECT_EQ(study.summary().n_trials(), 4);
  EXPECT_EQ(study.summary().n_complete(), 3);
  EXPECT_EQ(study.summary().n_pruned(), 1);
  ASSERT_TRUE(study.summary().has_best_trial());
  EXPECT_EQ(study.summary().best_trial().number(), 3);
  EXPECT_EQ(study.summary().best_trial().values(0), 0.1);
  EXPECT_EQ(study.study().pruner().median().n_startup_trials(), 2);
  EXPECT_EQ(study.study().sampler().random().seed(), 7u);

  // Paging: 4 trials in pages of 3, and a state filter.
  {
    grpc::ClientContext ctx;
    v1::ListTrialsRequest req;
    req.set_study("mnist");
    req.set_page_size(3);
    v1::ListTrialsResponse page1;
    ASSERT_TRUE(stub_->ListTrials(&ctx, req, &page1).ok());
    ASSERT_EQ(page1.trials_size(), 3);
    ASSERT_FALSE(page1.next_page_token().empty());
    grpc::ClientContext ctx2;
    req.set_page_token(page1.next_page_token());
    v1::ListTrialsResponse page2;
    ASSERT_TRUE(stub_->ListTrials(&ctx2, req, &page2).ok());
    ASSERT_EQ(page2.trials_size(), 1);
    EXPECT_EQ(page2.trials(0).number(), 3);
    EXPECT_TRUE(page2.next_page_token().empty());
  }
  {
    grpc::ClientContext ctx;
    v1::ListTrialsRequest req;
    req.set_study("mnist");
    req.add_states(v1::PRUNED);
    v1::ListTrialsResponse resp;
    ASSERT_TRUE(stub_->ListTrials(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.trials_size(), 1);
    EXPECT_EQ(resp.trials(0).number(), 2);
  }

  // The watcher saw every trial finish, in order, with the right states.
  ASSERT_TRUE(watcher.WaitFor([](const v1::WatchStudyResponse& e) {
    return e.trial().number() == 3 && e.trial().state() == v1::COMPLETE;
  }));
  std::vector<int64_t> finished_order;
  std::map<int64_t, std::vector<int64_t>> steps_seen;  // trial number -> steps, in event order
  for (const auto& e : watcher.events()) {
    EXPECT_FALSE(e.snapshot());  // the study was empty when the watch began
    // Live events carry only the latest step, never the history.
    EXPECT_LE(e.trial().intermediate_values_size(), 1) << e.DebugString();
    if (e.trial().intermediate_values_size() == 1) {
      std::vector<int64_t>& seen = steps_seen[e.trial().number()];
      const int64_t step = e.trial().intermediate_values(0).step();
      if (seen.empty() || seen.back() != step) seen.push_back(step);
    }
    if (e.trial().state() == v1::COMPLETE || e.trial().state() == v1::PRUNED) {
      finished_order.push_back(e.trial().number());
    }
  }
  EXPECT_EQ(finished_order, (std::vector<int64_t>{0, 1, 2, 3}));
  // Yet each step arrived once, in order: the history adds up.
  const std::vector<int64_t> four = {0, 1, 2, 3};
  EXPECT_EQ(steps_seen, (std::map<int64_t, std::vector<int64_t>>{
                            {0, four}, {1, four}, {2, {0}}, {3, four}}));

  // A watch that begins later gets every trial whole in its snapshot.
  Watcher late(*stub_, "mnist");
  ASSERT_TRUE(late.WaitFor([](const v1::WatchStudyResponse& e) {
    return e.snapshot() && e.trial().number() == 3;
  }));
  for (const auto& e : late.events()) {
    EXPECT_EQ(e.trial().intermediate_values_size(),
              static_cast<int>(curves[e.trial().number()].size()))
        << e.DebugString();
  }
}

// Steps need not come in order: each report's event carries its own step.
TEST_F(StudyLifecycleTest, WatchSeesAnEarlierStepReportedLate) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("late", 5)).ok());
  Watcher watcher(*stub_, "late");
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "late", {}, &ask).ok());
  v1::ReportIntermediateResponse rep;
  ASSERT_TRUE(Report(*stub_, ask.trial().trial_id(), 10, 0.5, &rep).ok());
  ASSERT_TRUE(Report(*stub_, ask.trial().trial_id(), 5, 0.7, &rep).ok());
  EXPECT_TRUE(watcher.WaitFor([](const v1::WatchStudyResponse& e) {
    return e.trial().intermediate_values_size() == 1 &&
           e.trial().intermediate_values(0).step() == 5 &&
           e.trial().intermediate_values(0).value() == 0.7;
  }));
}

TEST_F(StudyLifecycleTest, AskRepeatedWithItsRequestIdGetsTheSameTrial) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("retry-ask", 5)).ok());
  auto ask = [this](const std::string& request_id, v1::AskResponse* out) {
    grpc::ClientContext ctx;
    v1::AskRequest req;
    req.set_study("retry-ask");
    req.set_worker_id("w1");
    req.set_request_id(request_id);
    *req.add_search_space() = FloatSpec("lr", 1e-4, 1e-1, /*log=*/true);
    return stub_->Ask(&ctx, req, out);
  };
  v1::AskResponse first, repeat, other;
  ASSERT_TRUE(ask("a", &first).ok());
  ASSERT_TRUE(ask("a", &repeat).ok());  // as after a lost reply
  ASSERT_TRUE(ask("b", &other).ok());
  EXPECT_EQ(repeat.trial().trial_id(), first.trial().trial_id());
  EXPECT_EQ(repeat.trial().params(0).value().double_value(),
            first.trial().params(0).value().double_value());
  EXPECT_EQ(other.trial().number(), 1);
  v1::GetStudyResponse study;
  ASSERT_TRUE(GetStudy(*stub_, "retry-ask", &study).ok());
  EXPECT_EQ(study.summary().n_trials(), 2);
  EXPECT_EQ(study.summary().n_running(), 2);
}

TEST_F(StudyLifecycleTest, EnqueuedParametersAreHandedOutFirst) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("enq", 5)).ok());
  grpc::ClientContext ctx;
  v1::EnqueueTrialRequest req;
  req.set_study("enq");
  (*req.mutable_params())["lr"].set_double_value(0.0123);
  (*req.mutable_params())["optimizer"] = StringValue("adam");
  v1::EnqueueTrialResponse enq;
  ASSERT_TRUE(stub_->EnqueueTrial(&ctx, req, &enq).ok());
  EXPECT_EQ(enq.trial().state(), v1::WAITING);
  EXPECT_EQ(enq.trial().number(), 0);

  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "enq",
                  {FloatSpec("lr", 1e-4, 1e-1, true), CategoricalSpec("optimizer", {"sgd", "adam"})},
                  &ask)
                  .ok());
  EXPECT_EQ(ask.trial().number(), 0);
  EXPECT_EQ(FindParam(ask.trial(), "lr")->value().double_value(), 0.0123);
  EXPECT_EQ(FindParam(ask.trial(), "optimizer")->value().string_value(), "adam");
  EXPECT_EQ(FindParam(ask.trial(), "optimizer")->internal_value(), 1.0);
  // The queue is empty now: the next Ask is a new, sampled trial.
  v1::AskResponse next;
  ASSERT_TRUE(Ask(*stub_, "enq", {FloatSpec("lr", 1e-4, 1e-1, true)}, &next).ok());
  EXPECT_EQ(next.trial().number(), 1);
}

TEST_F(StudyLifecycleTest, BudgetCountsRunningAndFinishedButNotFailed) {
  v1::CreateStudyRequest req = MedianStudy("budget", 5);
  req.set_max_trials(2);
  ASSERT_TRUE(CreateStudy(*stub_, req).ok());
  v1::AskResponse a, b, c;
  ASSERT_TRUE(Ask(*stub_, "budget", {}, &a).ok());
  ASSERT_TRUE(Ask(*stub_, "budget", {}, &b).ok());
  grpc::Status over = Ask(*stub_, "budget", {}, &c);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(over.error_message().find("study budget reached"), std::string::npos)
      << over.error_message();
  // A failed trial gives its slot back.
  ASSERT_TRUE(Tell(*stub_, a.trial().trial_id(), v1::FAIL, {}).ok());
  ASSERT_TRUE(Ask(*stub_, "budget", {}, &c).ok());
  EXPECT_EQ(c.trial().number(), 2);
  ASSERT_TRUE(Tell(*stub_, b.trial().trial_id(), v1::COMPLETE, {1.0}).ok());
  EXPECT_EQ(Ask(*stub_, "budget", {}, &c).error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(StudyLifecycleTest, TellIsIdempotentAndNanCompletesAsFail) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("tell", 5)).ok());
  v1::AskResponse a, b;
  ASSERT_TRUE(Ask(*stub_, "tell", {}, &a).ok());
  ASSERT_TRUE(Ask(*stub_, "tell", {}, &b).ok());
  v1::TellResponse first, again;
  ASSERT_TRUE(Tell(*stub_, a.trial().trial_id(), v1::COMPLETE, {0.25}, &first).ok());
  ASSERT_TRUE(Tell(*stub_, a.trial().trial_id(), v1::COMPLETE, {0.25}, &again).ok());
  EXPECT_EQ(again.trial().state(), v1::COMPLETE);
  EXPECT_NE(again.message().find("already"), std::string::npos);
  EXPECT_EQ(Tell(*stub_, a.trial().trial_id(), v1::COMPLETE, {0.5}).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::TellResponse nan_reply;
  ASSERT_TRUE(Tell(*stub_, b.trial().trial_id(), v1::COMPLETE, {std::nan("")}, &nan_reply).ok());
  EXPECT_EQ(nan_reply.trial().state(), v1::FAIL);
  EXPECT_NE(nan_reply.message().find("NaN"), std::string::npos) << nan_reply.message();
  // Retrying the same NaN Tell is still the same outcome, not a conflict.
  ASSERT_TRUE(Tell(*stub_, b.trial().trial_id(), v1::COMPLETE, {std::nan("")}).ok());
}

TEST_F(StudyLifecycleTest, LostHeartbeatFailsTrialAndRetriesItsParameters) {
  v1::CreateStudyRequest req = MedianStudy("beats", 5);
  req.set_heartbeat_grace_seconds(0.3);
  req.set_max_retries(1);
  ASSERT_TRUE(CreateStudy(*stub_, req).ok());
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "beats", {FloatSpec("x", 0, 1)}, &ask).ok());
  const int64_t id = ask.trial().trial_id();

  v1::Trial t;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    ASSERT_TRUE(GetTrial(*stub_, id, &t).ok());
    if (t.state() != v1::RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling the condition
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(t.state(), v1::FAIL);
  EXPECT_EQ(t.fail_reason(), "heartbeat lost");

  grpc::ClientContext ctx;
  v1::HeartbeatRequest hb;
  hb.set_trial_id(id);
  v1::HeartbeatResponse hb_resp;
  grpc::Status late = stub_->Heartbeat(&ctx, hb, &hb_resp);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(late.error_message().find("heartbeat lost"), std::string::npos) << late.error_message();

  // The retry waits in the queue with the same value and its origin.
  v1::AskResponse retry;
  ASSERT_TRUE(Ask(*stub_, "beats", {FloatSpec("x", 0, 1)}, &retry).ok());
  EXPECT_EQ(retry.trial().number(), 1);
  EXPECT_EQ(retry.trial().retry_of(), 0);
  EXPECT_EQ(retry.trial().params(0).value().double_value(), ask.trial().params(0).value().double_value());
}

TEST_F(StudyLifecycleTest, StudiesSurviveRestart) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("persist", 5)).ok());
  v1::AskResponse a;
  ASSERT_TRUE(Ask(*stub_, "persist", {FloatSpec("lr", 1e-4, 1e-1, true)}, &a).ok());
  v1::ReportIntermediateResponse rep;
  ASSERT_TRUE(Report(*stub_, a.trial().trial_id(), 0, std::nan(""), &rep).ok());
  ASSERT_TRUE(Report(*stub_, a.trial().trial_id(), 1, 0.5, &rep).ok());
  ASSERT_TRUE(Tell(*stub_, a.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
  stub_.reset();
  EXPECT_EQ(server_->Terminate(), 0);

  auto restarted = ServerProcess::Start(dir_.File("studies.db"));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto stub = (*restarted)->NewStub();
  v1::Trial t;
  ASSERT_TRUE(GetTrial(*stub, a.trial().trial_id(), &t).ok());
  EXPECT_EQ(t.state(), v1::COMPLETE);
  EXPECT_EQ(t.values(0), 0.5);
  ASSERT_EQ(t.intermediate_values_size(), 2);
  EXPECT_TRUE(std::isnan(t.intermediate_values(0).value()));
  EXPECT_EQ(t.params(0).value().double_value(), a.trial().params(0).value().double_value());
  v1::AskResponse b;
  ASSERT_TRUE(Ask(*stub, "persist", {}, &b).ok());
  EXPECT_EQ(b.trial().number(), 1);
}

TEST_F(StudyLifecycleTest, TrialIdsOfADeletedStudyNeverReachANewOne) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("keep", 5)).ok());
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("doomed", 5)).ok());
  v1::AskResponse old_trial;
  ASSERT_TRUE(Ask(*stub_, "doomed", {}, &old_trial).ok());
  {
    grpc::ClientContext ctx;
    v1::DeleteStudyRequest req;
    req.set_name("doomed");
    v1::DeleteStudyResponse resp;
    ASSERT_TRUE(stub_->DeleteStudy(&ctx, req, &resp).ok());
  }
  // Deleting the newest study and restarting must not hand its id out again.
  stub_.reset();
  ASSERT_EQ(server_->Terminate(), 0);
  auto restarted = ServerProcess::Start(dir_.File("studies.db"));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  stub_ = server_->NewStub();
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("newcomer", 5)).ok());
  v1::AskResponse fresh;
  ASSERT_TRUE(Ask(*stub_, "newcomer", {}, &fresh).ok());
  EXPECT_NE(fresh.trial().trial_id(), old_trial.trial().trial_id());
  EXPECT_EQ(Tell(*stub_, old_trial.trial().trial_id(), v1::COMPLETE, {1.0}).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::Trial t;
  ASSERT_TRUE(GetTrial(*stub_, fresh.trial().trial_id(), &t).ok());
  EXPECT_EQ(t.state(), v1::RUNNING);
  EXPECT_EQ(t.study(), "newcomer");
}

TEST_F(StudyLifecycleTest, ShutdownEndsOpenWatchStreamsAndExitsCleanly) {
  ASSERT_TRUE(CreateStudy(*stub_, MedianStudy("watched", 5)).ok());
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "watched", {}, &ask).ok());
  grpc::ClientContext ctx;
  v1::WatchStudyRequest req;
  req.set_study("watched");
  auto reader = stub_->WatchStudy(&ctx, req);
  v1::WatchStudyResponse first;
  ASSERT_TRUE(reader->Read(&first));  // the stream is open and serving
  EXPECT_TRUE(first.snapshot());
  // Keep reading, as a live view would, while the server shuts down.
  std::thread drain([&reader] {
    v1::WatchStudyResponse more;
    while (reader->Read(&more)) {
    }
  });
  stub_.reset();
  EXPECT_EQ(server_->Terminate(), 0);
  drain.join();
  const grpc::Status end = reader->Finish();
  EXPECT_TRUE(end.ok() || end.error_code() == grpc::StatusCode::UNAVAILABLE) << end.error_message();
}

TEST_F(StudyLifecycleTest, StandardHealthServiceAnswersServing) {
  // HealthCheckResponse{status: SERVING} encodes as bytes 08 01.
  std::string reply;
  const grpc::Status s = CheckHealth(server_->channel(), &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply, std::string("\x08\x01", 2));
}

TEST_F(StudyLifecycleTest, ServerReflectionListsTheStudyService) {
  // grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo with
  // ServerReflectionRequest{list_services: ""} (field 7, empty string:
  // bytes 3a 00); the answer names every registered service.
  grpc::GenericStub generic(server_->channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  auto call = generic.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                  &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](int expected) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(static_cast<intptr_t>(expected)));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  const char request_bytes[] = {0x3a, 0x00};
  grpc::Slice slice(request_bytes, sizeof request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(2));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(3));
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_NE(bytes.find("parzen.v1.StudyService"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
}

}  // namespace
}  // namespace parzen::testing
