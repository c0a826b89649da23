// Kill -9 the server under concurrent load (Ask, report, Tell, a retried
// Tell), restart it, and check that every acknowledged write survived with
// gap-free, duplicate-free numbering.
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

struct Acked {
  int64_t trial_id = 0;
  int64_t number = 0;
  std::map<std::string, double> params;  // internal values
  bool reported = false;
  bool told = false;
  double value = 0;
};

TEST(CrashRecoveryTest, KillNineUnderEightClientsLosesNothingAcknowledged) {
  constexpr int kClients = 8;
  constexpr int kAcksBeforeKill = 400;
  TempDir dir;
  const std::string db = dir.File("crash.db");
  auto server = ServerProcess::Start(db, {"--log-level", "warning"});
  ASSERT_TRUE(server.ok()) << server.status();
  {
    auto stub = (*server)->NewStub();
    v1::CreateStudyRequest req;
    req.set_name("crash");
    req.mutable_pruner()->mutable_nop();
    ASSERT_TRUE(CreateStudy(*stub, req).ok());
  }

  std::mutex mu;
  std::condition_variable cv;
  int acks = 0;
  int retry_failures = 0;
  std::vector<std::vector<Acked>> per_client(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // Each client has its own connection, as separate workers would.
      grpc::ChannelArguments args;
      args.SetInt("parzen.test.client", c);
      auto stub = v1::StudyService::NewStub(grpc::CreateCustomChannel(
          (*server)->address(), grpc::InsecureChannelCredentials(), args));
      for (;;) {
        v1::AskRequest ask;
        ask.set_study("crash");
        *ask.add_search_space() = FloatSpec("lr", 1e-5, 1e-1, true);
        *ask.add_search_space() = IntSpec("units", 16, 256);
        *ask.add_search_space() = CategoricalSpec("optimizer", {"sgd", "adam", "rmsprop"});
        v1::AskResponse ask_resp;
        grpc::ClientContext ask_ctx;
        ask_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (!stub->Ask(&ask_ctx, ask, &ask_resp).ok()) return;  // the server died
        Acked a;
        a.trial_id = ask_resp.trial().trial_id();
        a.number = ask_resp.trial().number();
        for (const auto& p : ask_resp.trial().params()) a.params[p.name()] = p.internal_value();
        per_client[c].push_back(a);
        {
          std::lock_guard lock(mu);
          ++acks;
        }
        cv.notify_all();

        // An intermediate value, then the result.
        v1::ReportIntermediateRequest report;
        report.set_trial_id(a.trial_id);
        report.set_step(0);
        report.set_value(static_cast<double>(a.number) + 0.25);
        v1::ReportIntermediateResponse report_resp;
        grpc::ClientContext report_ctx;
        report_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (!stub->ReportIntermediate(&report_ctx, report, &report_resp).ok()) return;
        per_client[c].back().reported = true;

        v1::TellRequest tell;
        tell.set_trial_id(a.trial_id);
        tell.set_state(v1::COMPLETE);
        const double value = 0.5 * static_cast<double>(a.number) + a.params["lr"];
        tell.add_values(value);
        v1::TellResponse tell_resp;
        grpc::ClientContext tell_ctx;
        tell_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (!stub->Tell(&tell_ctx, tell, &tell_resp).ok()) return;
        per_client[c].back().told = true;
        per_client[c].back().value = value;
        // A client that lost the reply sends the same Tell again: it must
        // be accepted as the same outcome, never as a conflict.
        grpc::ClientContext retry_ctx;
        retry_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        v1::TellResponse retry_resp;
        const grpc::Status retried = stub->Tell(&retry_ctx, tell, &retry_resp);
        if (retried.error_code() == grpc::StatusCode::UNAVAILABLE) return;  // the kill
        if (!retried.ok() || retry_resp.trial().state() != v1::COMPLETE) {
          std::lock_guard lock(mu);
          ++retry_failures;
        }
        {
          std::lock_guard lock(mu);
          ++acks;
        }
        cv.notify_all();
      }
    });
  }
  // A reader too: what a read shows must be durable, so nothing it saw
  // can be gone after the crash.
  int64_t most_trials_read = 0, most_complete_read = 0;
  std::thread reader([&] {
    auto stub = (*server)->NewStub();
    for (;;) {
      v1::GetStudyRequest req;
      req.set_name("crash");
      req.set_omit_best_trials(true);
      v1::GetStudyResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (!stub->GetStudy(&ctx, req, &resp).ok()) return;  // the server died
      most_trials_read = std::max(most_trials_read, resp.summary().n_trials());
      most_complete_read = std::max(most_complete_read, resp.summary().n_complete());
    }
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return acks >= kAcksBeforeKill; }))
        << "only " << acks << " acknowledged writes";
  }
  (*server)->Kill();  // SIGKILL while the clients are mid-flight
  for (auto& t : clients) t.join();
  reader.join();

  auto restarted = ServerProcess::Start(db);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto stub = (*restarted)->NewStub();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*stub, "crash", &trials).ok());

  EXPECT_GE(static_cast<int64_t>(trials.size()), most_trials_read)
      << "a read showed trials that were never committed";
  EXPECT_GE(std::count_if(trials.begin(), trials.end(),
                          [](const v1::Trial& t) { return t.state() == v1::COMPLETE; }),
            most_complete_read)
      << "a read showed COMPLETE trials that were never committed";

  // Gap-free, duplicate-free numbering.
  std::set<int64_t> ids;
  for (size_t i = 0; i < trials.size(); ++i) {
    ASSERT_EQ(trials[i].number(), static_cast<int64_t>(i));
    EXPECT_TRUE(ids.insert(trials[i].trial_id()).second) << "duplicate id " << trials[i].trial_id();
  }
  std::map<int64_t, const v1::Trial*> by_id;
  for (const auto& t : trials) by_id[t.trial_id()] = &t;

  // Every acknowledged Ask and Tell is there, exactly as acknowledged.
  std::set<int64_t> acked_numbers;
  int n_acked_asks = 0, n_acked_tells = 0;
  for (const auto& client : per_client) {
    for (const Acked& a : client) {
      ++n_acked_asks;
      EXPECT_TRUE(acked_numbers.insert(a.number).second) << "number " << a.number << " handed out twice";
      auto it = by_id.find(a.trial_id);
      ASSERT_NE(it, by_id.end()) << "acknowledged trial " << a.number << " was lost";
      const v1::Trial& t = *it->second;
      EXPECT_EQ(t.number(), a.number);
      ASSERT_EQ(t.params_size(), 3);
      if (a.reported) {
        ASSERT_GE(t.intermediate_values_size(), 1) << "acknowledged report of trial " << a.number;
        EXPECT_EQ(t.intermediate_values(0).step(), 0);
        EXPECT_EQ(t.intermediate_values(0).value(), static_cast<double>(a.number) + 0.25);
      }
      for (const auto& p : t.params()) EXPECT_EQ(p.internal_value(), a.params.at(p.name()));
      if (a.told) {
        ++n_acked_tells;
        EXPECT_EQ(t.state(), v1::COMPLETE) << "trial " << a.number;
        ASSERT_EQ(t.values_size(), 1);
        EXPECT_EQ(t.values(0), a.value);
      } else if (t.state() != v1::RUNNING) {
        // A Tell in flight at the kill may have committed unacknowledged;
        // then it holds exactly what the client sent.
        EXPECT_EQ(t.state(), v1::COMPLETE) << "trial " << a.number;
        ASSERT_EQ(t.values_size(), 1);
        EXPECT_EQ(t.values(0), 0.5 * static_cast<double>(a.number) + a.params.at("lr"));
      }
    }
  }
  EXPECT_GE(n_acked_asks + n_acked_tells, kAcksBeforeKill);
  EXPECT_EQ(retry_failures, 0) << "a repeated identical Tell was refused";
  // Unacknowledged Asks may or may not have committed, never more than one per client.
  EXPECT_LE(static_cast<int>(trials.size()), n_acked_asks + kClients);

  // Numbering continues after the last stored trial.
  v1::AskResponse next;
  ASSERT_TRUE(Ask(*stub, "crash", {}, &next).ok());
  EXPECT_EQ(next.trial().number(), static_cast<int64_t>(trials.size()));
  stub.reset();
}

}  // namespace
}  // namespace parzen::testing

namespace parzen::testing {
namespace {

// The reply to an Ask can be lost in a crash after its commit; the client
// retries with the same request id against the restarted server and must
// get that trial back, not a second one that leaves the first to be reaped.
TEST(CrashRecoveryTest, AskRetriedAfterKillNineGetsTheSameTrial) {
  TempDir dir;
  const std::string db = dir.File("retry.db");
  auto ask = [](ServerProcess& server, const std::string& worker, const std::string& request_id,
                v1::AskResponse* out) {
    auto stub = server.NewStub();
    grpc::ClientContext ctx;
    v1::AskRequest req;
    req.set_study("retry");
    req.set_worker_id(worker);
    req.set_request_id(request_id);
    *req.add_search_space() = FloatSpec("lr", 1e-4, 1e-1, /*log=*/true);
    return stub->Ask(&ctx, req, out);
  };
  v1::AskResponse first;
  {
    auto server = ServerProcess::Start(db, {"--log-level", "warning"});
    ASSERT_TRUE(server.ok()) << server.status();
    v1::CreateStudyRequest create;
    create.set_name("retry");
    ASSERT_TRUE(CreateStudy(*(*server)->NewStub(), create).ok());
    ASSERT_TRUE(ask(**server, "w1", "req-1", &first).ok());
    (*server)->Kill();
  }
  auto server = ServerProcess::Start(db, {"--log-level", "warning"});
  ASSERT_TRUE(server.ok()) << server.status();
  v1::AskResponse repeat;
  ASSERT_TRUE(ask(**server, "w1", "req-1", &repeat).ok());
  EXPECT_EQ(repeat.trial().trial_id(), first.trial().trial_id());
  EXPECT_EQ(repeat.trial().params(0).value().double_value(),
            first.trial().params(0).value().double_value());
  v1::AskResponse stolen;
  const grpc::Status other = ask(**server, "w2", "req-1", &stolen);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << other.error_message();
  v1::GetStudyResponse study;
  ASSERT_TRUE(GetStudy(*(*server)->NewStub(), "retry", &study).ok());
  EXPECT_EQ(study.summary().n_trials(), 1);

  // Once the trial is finished the id is free again: a new Ask, a new trial.
  ASSERT_TRUE(Tell(*(*server)->NewStub(), first.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
  v1::AskResponse next;
  ASSERT_TRUE(ask(**server, "w1", "req-1", &next).ok());
  EXPECT_EQ(next.trial().number(), 1);
}

}  // namespace
}  // namespace parzen::testing

namespace parzen::testing {
namespace {

// A full disk (here: a file-size limit the server cannot write past) fails
// a commit. The server must not answer anything it could not store, must
// stop with a clear reason instead of serving memory that disk lacks, and
// after a restart every acknowledged write is there, numbering unbroken.
TEST(CrashRecoveryTest, DiskFullStopsTheServerAndLosesNothingAcknowledged) {
  constexpr int kClients = 4;
  TempDir dir;
  const std::string db = dir.File("full.db");
  // 2 MiB per file (about 200 trials of WAL); SIGXFSZ ignored, so a write past it fails with EFBIG
  // as on a full disk instead of killing the process.
  ServerLaunch limited;
  limited.prefix = {"bash", "-c", "ulimit -f 2048 && trap '' XFSZ && exec \"$0\" \"$@\""};
  auto server = ServerProcess::Start(db, {"--log-level", "warning"}, limited);
  ASSERT_TRUE(server.ok()) << server.status();
  {
    auto stub = (*server)->NewStub();
    v1::CreateStudyRequest req;
    req.set_name("full");
    req.mutable_pruner()->mutable_nop();
    ASSERT_TRUE(CreateStudy(*stub, req).ok());
  }

  std::vector<std::vector<Acked>> per_client(kClients);
  std::vector<grpc::Status> first_error(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      grpc::ChannelArguments args;
      args.SetInt("parzen.test.client", c);
      auto stub = v1::StudyService::NewStub(grpc::CreateCustomChannel(
          (*server)->address(), grpc::InsecureChannelCredentials(), args));
      // Until the first refusal.
      for (int i = 0; i < 100'000; ++i) {
        v1::AskResponse ask;
        grpc::Status s = Ask(*stub, "full", {FloatSpec("lr", 1e-5, 1e-1, true)}, &ask);
        if (!s.ok()) {
          first_error[c] = s;
          return;
        }
        Acked a;
        a.trial_id = ask.trial().trial_id();
        a.number = ask.trial().number();
        a.params["lr"] = ask.trial().params(0).internal_value();
        per_client[c].push_back(a);
        const double value = static_cast<double>(a.number) / 7;
        s = Tell(*stub, a.trial_id, v1::COMPLETE, {value});
        if (!s.ok()) {
          first_error[c] = s;
          return;
        }
        per_client[c].back().told = true;
        per_client[c].back().value = value;
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) {
    // Refused, never an answer the server could not store: UNAVAILABLE
    // from the server, or CANCELLED from gRPC for a call that arrived as
    // it was shutting down.
    EXPECT_TRUE(first_error[c].error_code() == grpc::StatusCode::UNAVAILABLE ||
                first_error[c].error_code() == grpc::StatusCode::CANCELLED)
        << first_error[c].error_code() << " " << first_error[c].error_message();
  }
  EXPECT_EQ((*server)->Terminate(), 3) << "exit code 3: the database could not be written";
  EXPECT_NE((*server)->Log().find("could not be written"), std::string::npos) << (*server)->Log();

  auto restarted = ServerProcess::Start(db);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto stub = (*restarted)->NewStub();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*stub, "full", &trials).ok());
  for (size_t i = 0; i < trials.size(); ++i) ASSERT_EQ(trials[i].number(), static_cast<int64_t>(i));
  int acked = 0;
  for (const auto& client : per_client) {
    for (const Acked& a : client) {
      ++acked;
      ASSERT_LT(a.number, static_cast<int64_t>(trials.size())) << "acknowledged trial lost";
      const v1::Trial& t = trials[a.number];
      EXPECT_EQ(t.trial_id(), a.trial_id);
      ASSERT_EQ(t.params_size(), 1);
      EXPECT_EQ(t.params(0).internal_value(), a.params.at("lr"));
      if (a.told) {
        EXPECT_EQ(t.state(), v1::COMPLETE) << "trial " << a.number;
        ASSERT_EQ(t.values_size(), 1);
        EXPECT_EQ(t.values(0), a.value);
      }
    }
  }
  EXPECT_GT(acked, 50) << "the limit should have been reached well into the run";
  v1::AskResponse next;
  ASSERT_TRUE(Ask(*stub, "full", {}, &next).ok());
  EXPECT_EQ(next.trial().number(), static_cast<int64_t>(trials.size()));
}

}  // namespace
}  // namespace parzen::testing
