// Malformed requests against the real server: each gets the right code and
// a message a person can act on, and the study is unchanged afterwards.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

using Code = grpc::StatusCode;

struct BadCase {
  const char* what;
  std::function<grpc::Status(v1::StudyService::Stub&)> call;
  Code code;
  const char* message_part;  // the message must contain this
};

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("bad.db"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    v1::CreateStudyRequest req;
    req.set_name("s");
    ASSERT_TRUE(CreateStudy(*stub_, req).ok());
    // One finished and one running trial, with known parameter kinds.
    v1::AskResponse done;
    ASSERT_TRUE(Ask(*stub_, "s",
                    {FloatSpec("lr", 1e-4, 1e-1, true), CategoricalSpec("opt", {"sgd", "adam"})},
                    &done)
                    .ok());
    finished_id_ = done.trial().trial_id();
    v1::ReportIntermediateResponse rep;
    ASSERT_TRUE(Report(*stub_, finished_id_, 0, 0.7, &rep).ok());
    ASSERT_TRUE(Tell(*stub_, finished_id_, v1::COMPLETE, {0.5}).ok());
    // The running trial's Ask carries a request id, so another worker can
    // try to reuse it.
    grpc::ClientContext ctx;
    v1::AskRequest ask;
    ask.set_study("s");
    *ask.add_search_space() = FloatSpec("lr", 1e-4, 1e-1, true);
    ask.set_worker_id("owner");
    ask.set_request_id("owner-ask-1");
    v1::AskResponse running;
    ASSERT_TRUE(stub_->Ask(&ctx, ask, &running).ok());
    running_id_ = running.trial().trial_id();
  }
  void TearDown() override { stub_.reset(); }

  // Everything a client can observe about the server's studies.
  std::string Observe() {
    std::string out;
    grpc::ClientContext ctx;
    v1::ListStudiesRequest req;
    v1::ListStudiesResponse studies;
    EXPECT_TRUE(stub_->ListStudies(&ctx, req, &studies).ok());
    studies.SerializeToString(&out);
    std::vector<v1::Trial> trials;
    EXPECT_TRUE(ListAllTrials(*stub_, "s", &trials).ok());
    for (const auto& t : trials) out += t.SerializeAsString();
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  int64_t finished_id_ = 0;
  int64_t running_id_ = 0;
};

grpc::Status AskWith(v1::StudyService::Stub& stub, const std::string& study,
                     std::vector<v1::ParameterSpec> space, const std::string& worker = "",
                     const std::string& request_id = "") {
  grpc::ClientContext ctx;
  v1::AskRequest req;
  req.set_study(study);
  req.set_worker_id(worker);
  req.set_request_id(request_id);
  for (auto& p : space) *req.add_search_space() = p;
  v1::AskResponse resp;
  return stub.Ask(&ctx, req, &resp);
}

grpc::Status SuggestWith(v1::StudyService::Stub& stub, int64_t trial, const v1::ParameterSpec& p) {
  grpc::ClientContext ctx;
  v1::SuggestRequest req;
  req.set_trial_id(trial);
  req.set_name(p.name());
  *req.mutable_distribution() = p.distribution();
  v1::SuggestResponse resp;
  return stub.Suggest(&ctx, req, &resp);
}

grpc::Status CreateWith(v1::StudyService::Stub& stub,
                        const std::function<void(v1::CreateStudyRequest&)>& edit) {
  v1::CreateStudyRequest req;
  req.set_name("new-study");
  edit(req);
  return CreateStudy(stub, req);
}

v1::ParameterSpec WithoutDistribution(const std::string& name) {
  v1::ParameterSpec p;
  p.set_name(name);
  return p;
}

TEST_F(BadInputTest, EveryMalformedRequestIsRejectedClearlyAndChangesNothing) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  const int64_t fin = finished_id_;
  const int64_t run = running_id_;
  const std::vector<BadCase> cases = {
      {"unknown study", [](auto& s) { return AskWith(s, "nope", {}); }, Code::NOT_FOUND,
       "study 'nope' does not exist"},
      {"low > high", [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 2, 1)}); },
       Code::INVALID_ARGUMENT, "low (2"},
      {"log with low 0", [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 0, 1, true)}); },
       Code::INVALID_ARGUMENT, "log"},
      {"int log with low 0", [](auto& s) { return AskWith(s, "s", {IntSpec("n", 0, 8, true)}); },
       Code::INVALID_ARGUMENT, "log"},
      {"empty choices", [](auto& s) { return AskWith(s, "s", {CategoricalSpec("c", {})}); },
       Code::INVALID_ARGUMENT, "choices"},
      {"duplicate choices",
       [](auto& s) { return AskWith(s, "s", {CategoricalSpec("c", {"a", "a"})}); },
       Code::INVALID_ARGUMENT, "distinct"},
      {"float step 0", [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 0, 1, false, 0.0)}); },
       Code::INVALID_ARGUMENT, "step"},
      {"negative float step",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 0, 1, false, -0.1)}); },
       Code::INVALID_ARGUMENT, "step"},
      {"negative int step", [](auto& s) { return AskWith(s, "s", {IntSpec("n", 0, 8, false, -1)}); },
       Code::INVALID_ARGUMENT, "step"},
      {"log with step",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 1, 2, true, 0.5)}); },
       Code::INVALID_ARGUMENT, "step"},
      {"NaN bound", [nan](auto& s) { return AskWith(s, "s", {FloatSpec("x", nan, 1)}); },
       Code::INVALID_ARGUMENT, "low"},
      {"infinite bound", [inf](auto& s) { return AskWith(s, "s", {FloatSpec("x", 0, inf)}); },
       Code::INVALID_ARGUMENT, "high"},
      {"name too long",
       [](auto& s) { return AskWith(s, "s", {FloatSpec(std::string(600, 'n'), 0, 1)}); },
       Code::INVALID_ARGUMENT, "name"},
      {"empty name", [](auto& s) { return AskWith(s, "s", {FloatSpec("", 0, 1)}); },
       Code::INVALID_ARGUMENT, "name"},
      {"no distribution", [](auto& s) { return AskWith(s, "s", {WithoutDistribution("x")}); },
       Code::INVALID_ARGUMENT, "distribution is empty"},
      {"same name twice",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("x", 0, 1), FloatSpec("x", 0, 2)}); },
       Code::INVALID_ARGUMENT, "twice"},
      {"wrong distribution for a known name",
       [](auto& s) { return AskWith(s, "s", {IntSpec("lr", 1, 10)}); }, Code::INVALID_ARGUMENT,
       "parameter 'lr' was used"},
      {"log flag changed for a known name",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("lr", 1e-4, 1e-1, false)}); },
       Code::INVALID_ARGUMENT, "log"},
      {"worker id too long",
       [](auto& s) { return AskWith(s, "s", {}, std::string(300, 'w')); },
       Code::INVALID_ARGUMENT, "worker_id"},
      {"request id too long",
       [](auto& s) { return AskWith(s, "s", {}, "w", std::string(65, 'r')); },
       Code::INVALID_ARGUMENT, "request_id is longer than 64 bytes"},
      {"a repeated request id with another search space",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("lr", 1e-3, 1e-1, true)}, "owner", "owner-ask-1"); },
       Code::INVALID_ARGUMENT, "was first used by an Ask with another search space"},
      {"a repeated request id with part of the first search space",
       [](auto& s) { return AskWith(s, "s", {}, "owner", "owner-ask-1"); },
       Code::INVALID_ARGUMENT, "(parameter 'lr' is missing)"},
      {"another worker's request id",
       [](auto& s) { return AskWith(s, "s", {}, "intruder", "owner-ask-1"); },
       Code::FAILED_PRECONDITION, "belongs to an Ask of worker owner"},
      {"suggest on unknown trial",
       [](auto& s) { return SuggestWith(s, 987654321, FloatSpec("x", 0, 1)); }, Code::NOT_FOUND,
       "does not exist"},
      {"suggest on finished trial",
       [fin](auto& s) { return SuggestWith(s, fin, FloatSpec("x", 0, 1)); },
       Code::FAILED_PRECONDITION, "already COMPLETE"},
      {"suggest known name with another range in the same trial",
       [run](auto& s) { return SuggestWith(s, run, FloatSpec("lr", 1e-3, 1e-1, true)); },
       Code::INVALID_ARGUMENT, "already suggested"},
      {"categorical choices changed",
       [run](auto& s) { return SuggestWith(s, run, CategoricalSpec("opt", {"sgd", "rmsprop"})); },
       Code::INVALID_ARGUMENT, "opt"},
      {"suggest without a distribution",
       [run](auto& s) {
         v1::ParameterSpec p;
         p.set_name("dropout");
         return SuggestWith(s, run, p);
       },
       Code::INVALID_ARGUMENT, "parameter 'dropout': distribution is empty"},
      {"suggest an empty name without a distribution",
       [run](auto& s) { return SuggestWith(s, run, v1::ParameterSpec()); },
       Code::INVALID_ARGUMENT, "parameter name must not be empty"},
      {"ask with a parameter of 600 bytes and no distribution",
       [](auto& s) {
         v1::ParameterSpec p;
         p.set_name(std::string(600, 'p'));
         return AskWith(s, "s", {p});
       },
       Code::INVALID_ARGUMENT, "parameter name is 600 bytes long"},
      {"report after finish",
       [fin](auto& s) {
         v1::ReportIntermediateResponse r;
         return Report(s, fin, 1, 0.1, &r);
       },
       Code::FAILED_PRECONDITION, "already COMPLETE"},
      {"report negative step",
       [run](auto& s) {
         v1::ReportIntermediateResponse r;
         return Report(s, run, -1, 0.1, &r);
       },
       Code::INVALID_ARGUMENT, "step must be >= 0"},
      {"tell twice with another value",
       [fin](auto& s) { return Tell(s, fin, v1::COMPLETE, {0.6}); }, Code::FAILED_PRECONDITION,
       "already COMPLETE with value 0.5"},
      {"tell another state after finish", [fin](auto& s) { return Tell(s, fin, v1::PRUNED, {}); },
       Code::FAILED_PRECONDITION, "already COMPLETE"},
      {"tell with two values for one objective",
       [run](auto& s) { return Tell(s, run, v1::COMPLETE, {1, 2}); }, Code::INVALID_ARGUMENT,
       "needs 1 value"},
      {"tell without a state",
       [run](auto& s) { return Tell(s, run, v1::TRIAL_STATE_UNSPECIFIED, {1}); },
       Code::INVALID_ARGUMENT, "trial state"},
      {"tell RUNNING", [run](auto& s) { return Tell(s, run, v1::RUNNING, {}); },
       Code::INVALID_ARGUMENT, "COMPLETE, PRUNED or FAIL"},
      {"tell PRUNED with a value", [run](auto& s) { return Tell(s, run, v1::PRUNED, {1}); },
       Code::INVALID_ARGUMENT, "takes no values"},
      {"tell unknown trial", [](auto& s) { return Tell(s, -5, v1::COMPLETE, {1}); },
       Code::NOT_FOUND, "does not exist"},
      {"heartbeat on finished trial",
       [fin](auto& s) {
         grpc::ClientContext ctx;
         v1::HeartbeatRequest req;
         req.set_trial_id(fin);
         v1::HeartbeatResponse resp;
         return s.Heartbeat(&ctx, req, &resp);
       },
       Code::FAILED_PRECONDITION, "already COMPLETE"},
      {"duplicate study",
       [](auto& s) { return CreateWith(s, [](auto& r) { r.set_name("s"); }); },
       Code::ALREADY_EXISTS, "load_if_exists"},
      {"empty study name", [](auto& s) { return CreateWith(s, [](auto& r) { r.set_name(""); }); },
       Code::INVALID_ARGUMENT, "study name"},
      {"study name too long",
       [](auto& s) { return CreateWith(s, [](auto& r) { r.set_name(std::string(600, 's')); }); },
       Code::INVALID_ARGUMENT, "study name"},
      {"unspecified direction",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { r.add_directions(v1::DIRECTION_UNSPECIFIED); });
       },
       Code::INVALID_ARGUMENT, "MINIMIZE or MAXIMIZE"},
      {"pruner interval_steps 0",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { r.mutable_pruner()->mutable_median()->set_interval_steps(0); });
       },
       Code::INVALID_ARGUMENT, "interval_steps"},
      {"percentile 150",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { r.mutable_pruner()->mutable_percentile()->set_percentile(150); });
       },
       Code::INVALID_ARGUMENT, "percentile"},
      {"negative max_trials",
       [](auto& s) { return CreateWith(s, [](auto& r) { r.set_max_trials(-1); }); },
       Code::INVALID_ARGUMENT, "max_trials"},
      {"retries without heartbeats",
       [](auto& s) { return CreateWith(s, [](auto& r) { r.set_max_retries(2); }); },
       Code::INVALID_ARGUMENT, "heartbeat_grace_seconds"},
      {"get unknown trial",
       [](auto& s) {
         v1::Trial t;
         return GetTrial(s, 123456789012, &t);
       },
       Code::NOT_FOUND, "does not exist"},
      {"list with a forged page token",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::ListTrialsRequest req;
         req.set_study("s");
         req.set_page_token("abc");
         v1::ListTrialsResponse resp;
         return s.ListTrials(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "page_token"},
      {"enqueue a value that is not a choice",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::EnqueueTrialRequest req;
         req.set_study("s");
         (*req.mutable_params())["opt"] = StringValue("lbfgs");
         v1::EnqueueTrialResponse resp;
         return s.EnqueueTrial(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "lbfgs"},
      {"user attribute on finished trial",
       [fin](auto& s) {
         grpc::ClientContext ctx;
         v1::SetTrialUserAttrRequest req;
         req.set_trial_id(fin);
         req.set_key("k");
         req.mutable_value()->set_number_value(1);
         v1::SetTrialUserAttrResponse resp;
         return s.SetTrialUserAttr(&ctx, req, &resp);
       },
       Code::FAILED_PRECONDITION, "already COMPLETE"},
      {"enqueue NaN",
       [nan](auto& s) {
         grpc::ClientContext ctx;
         v1::EnqueueTrialRequest req;
         req.set_study("s");
         (*req.mutable_params())["fresh"].set_double_value(nan);
         v1::EnqueueTrialResponse resp;
         return s.EnqueueTrial(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "finite"},
      {"int bounds beyond 2^53",
       [](auto& s) {
         return AskWith(s, "s", {IntSpec("big", 0, std::numeric_limits<int64_t>::max())});
       },
       Code::INVALID_ARGUMENT, "2^53"},
      {"float range wider than a double",
       [](auto& s) { return AskWith(s, "s", {FloatSpec("wide", -1e308, 1e308)}); },
       Code::INVALID_ARGUMENT, "wider"},
      {"negative page size",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::ListTrialsRequest req;
         req.set_study("s");
         req.set_page_size(-3);
         v1::ListTrialsResponse resp;
         return s.ListTrials(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "page_size"},
      {"huge heartbeat grace",
       [](auto& s) { return CreateWith(s, [](auto& r) { r.set_heartbeat_grace_seconds(1e300); }); },
       Code::INVALID_ARGUMENT, "heartbeat_grace_seconds"},
      {"delete unknown study",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::DeleteStudyRequest req;
         req.set_name("ghost");
         v1::DeleteStudyResponse resp;
         return s.DeleteStudy(&ctx, req, &resp);
       },
       Code::NOT_FOUND, "ghost"},
      {"delete a study without a name",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::DeleteStudyResponse resp;
         return s.DeleteStudy(&ctx, v1::DeleteStudyRequest(), &resp);
       },
       Code::INVALID_ARGUMENT, "study name must not be empty"},
      {"a study name that would forge a log line",
       [](auto& s) { return AskWith(s, "x\n[error] FORGED", {}); }, Code::NOT_FOUND,
       "does not exist"},
      {"empty study name in Ask", [](auto& s) { return AskWith(s, "", {}); },
       Code::INVALID_ARGUMENT, "study name must not be empty"},
      {"a 4000-byte study name is not echoed",
       [](auto& s) { return AskWith(s, std::string(4000, 'q'), {}); }, Code::INVALID_ARGUMENT,
       "study name is 4000 bytes; the limit is 512"},
      {"percentile pruner without its percentile",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { r.mutable_pruner()->mutable_percentile(); });
       },
       Code::INVALID_ARGUMENT, "percentile needs its percentile"},
      {"a pruner kind this server does not know",
       [](auto& s) {
         return CreateWith(s, [](auto& r) {
           v1::PrunerConfig* p = r.mutable_pruner();
           p->GetReflection()->MutableUnknownFields(p)->AddLengthDelimited(99, "");
         });
       },
       Code::INVALID_ARGUMENT, "pruner: unknown kind"},
      {"study user attribute with an empty key",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { (*r.mutable_user_attrs())[""].set_number_value(1); });
       },
       Code::INVALID_ARGUMENT, "keys must be 1-512 bytes"},
      {"study user attribute without a value",
       [](auto& s) {
         return CreateWith(s, [](auto& r) { (*r.mutable_user_attrs())["k"]; });
       },
       Code::INVALID_ARGUMENT, "user attribute 'k': the value is empty"},
      {"user attribute NaN",
       [run, nan](auto& s) {
         grpc::ClientContext ctx;
         v1::SetTrialUserAttrRequest req;
         req.set_trial_id(run);
         req.set_key("loss");
         req.mutable_value()->set_number_value(nan);
         v1::SetTrialUserAttrResponse resp;
         return s.SetTrialUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "user attribute 'loss': a number is NaN or infinite"},
      {"study attribute of an unknown study",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("nope");
         req.set_key("owner");
         req.mutable_value()->set_string_value("alice");
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::NOT_FOUND, "study 'nope' does not exist"},
      {"study attribute with an empty key",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("s");
         req.mutable_value()->set_string_value("alice");
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "user attribute keys must be 1-512 bytes"},
      {"study attribute infinite",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("s");
         req.set_key("budget");
         req.mutable_value()->set_number_value(std::numeric_limits<double>::infinity());
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "user attribute 'budget': a number is NaN or infinite"},
      {"study attribute without a value",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("s");
         req.set_key("owner");
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "user attribute 'owner': the value is empty"},
      {"study attribute key with a control character",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("s");
         req.set_key("owner\x1b[31m");
         req.mutable_value()->set_string_value("alice");
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "must not contain control characters"},
      {"study attribute over 64 KiB",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::SetStudyUserAttrRequest req;
         req.set_study("s");
         req.set_key("notes");
         req.mutable_value()->set_string_value(std::string(70'000, 'n'));
         v1::SetStudyUserAttrResponse resp;
         return s.SetStudyUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "user attribute 'notes' is 70002 bytes as JSON; the limit is 65536"},
      {"user attribute key with a newline",
       [run](auto& s) {
         grpc::ClientContext ctx;
         v1::SetTrialUserAttrRequest req;
         req.set_trial_id(run);
         req.set_key("a\nINFO forged line");
         req.mutable_value()->set_number_value(1);
         v1::SetTrialUserAttrResponse resp;
         return s.SetTrialUserAttr(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "control characters"},
      {"categorical choices over 64 KiB",
       [](auto& s) {
         v1::ParameterSpec p;
         p.set_name("big");
         auto* c = p.mutable_distribution()->mutable_categorical_distribution();
         for (int i = 0; i < 70; ++i) *c->add_choices() = StringValue(std::to_string(i) + std::string(1000, 'c'));
         return AskWith(s, "s", {p});
       },
       Code::INVALID_ARGUMENT, "choices add up to"},
      {"report a negative step to a finished trial",
       [fin](auto& s) {
         v1::ReportIntermediateResponse r;
         return Report(s, fin, -1, 0.1, &r);
       },
       Code::INVALID_ARGUMENT, "step must be >= 0"},
      {"heartbeat with a worker id too long",
       [run](auto& s) {
         grpc::ClientContext ctx;
         v1::HeartbeatRequest req;
         req.set_trial_id(run);
         req.set_worker_id(std::string(300, 'w'));
         v1::HeartbeatResponse resp;
         return s.Heartbeat(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "worker_id"},
      {"enqueue an integer beyond 2^53",
       [](auto& s) {
         grpc::ClientContext ctx;
         v1::EnqueueTrialRequest req;
         req.set_study("s");
         (*req.mutable_params())["n"].set_int_value((int64_t{1} << 53) + 1);
         v1::EnqueueTrialResponse resp;
         return s.EnqueueTrial(&ctx, req, &resp);
       },
       Code::INVALID_ARGUMENT, "2^53"},
  };
  ASSERT_GE(cases.size(), 25u);

  const std::string before = Observe();
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    grpc::Status s = c.call(*stub_);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_NE(s.error_message().find(c.message_part), std::string::npos)
        << "message: " << s.error_message();
  }
  EXPECT_EQ(Observe(), before) << "a rejected request changed a study";
  // Client text is escaped in the server's log: one line per rejection.
  const std::string log = server_->Log();
  EXPECT_NE(log.find("x\\x0a[error] FORGED"), std::string::npos) << log;
  EXPECT_EQ(log.find("\n[error] FORGED"), std::string::npos) << log;

  // Nothing they did keeps the database from loading again.
  stub_.reset();
  ASSERT_EQ(server_->Terminate(), 0);
  auto restarted = ServerProcess::Start(dir_.File("bad.db"));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  stub_ = server_->NewStub();
  EXPECT_EQ(Observe(), before) << "the study changed across a restart";

  // And the server still serves the study normally.
  v1::AskResponse ok;
  ASSERT_TRUE(Ask(*stub_, "s", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ok).ok());
  EXPECT_EQ(ok.trial().number(), 2);
}

// A trial stops growing at its limits with a clear status; what it holds
// stays readable; ListTrials pages stay under gRPC's 4 MiB default however
// large the trials are.
TEST_F(BadInputTest, TrialsStopGrowingAtTheirLimitsAndStayReadable) {
  auto set_attr = [&](const std::string& key, const std::string& text) {
    grpc::ClientContext ctx;
    v1::SetTrialUserAttrRequest req;
    req.set_trial_id(running_id_);
    req.set_key(key);
    req.mutable_value()->set_string_value(text);
    v1::SetTrialUserAttrResponse resp;
    return stub_->SetTrialUserAttr(&ctx, req, &resp);
  };
  const std::string big(60 * 1024, 'x');
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(set_attr("k" + std::to_string(i), i < 64 ? big : "v").ok()) << i;
  }
  grpc::Status over = set_attr("one-more", "v");
  EXPECT_EQ(over.error_code(), Code::RESOURCE_EXHAUSTED);
  EXPECT_NE(over.error_message().find("already has 1024 user attributes; the limit is 1024"),
            std::string::npos)
      << over.error_message();
  EXPECT_TRUE(set_attr("k5", "replaced").ok()) << "an existing key can still change";

  for (int i = 0; i < 1023; ++i) {  // "lr" is the first of 1024
    ASSERT_TRUE(SuggestWith(*stub_, running_id_, FloatSpec("p" + std::to_string(i), 0, 1)).ok())
        << i;
  }
  grpc::Status too_many = SuggestWith(*stub_, running_id_, FloatSpec("p-last", 0, 1));
  EXPECT_EQ(too_many.error_code(), Code::RESOURCE_EXHAUSTED);
  EXPECT_NE(too_many.error_message().find("already has 1024 parameters"), std::string::npos)
      << too_many.error_message();
  EXPECT_TRUE(SuggestWith(*stub_, running_id_, FloatSpec("p7", 0, 1)).ok())
      << "a known name is answered from the trial";

  // The trial holds ~4 MiB of attributes: more than a default client
  // accepts in one message, yet a page of ListTrials stops before it
  // and the next page carries it alone.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ListTrialsRequest req;
  req.set_study("s");
  v1::ListTrialsResponse first;
  ASSERT_TRUE(stub_->ListTrials(&ctx, req, &first).ok());
  ASSERT_EQ(first.trials_size(), 1);
  EXPECT_EQ(first.trials(0).trial_id(), finished_id_);
  ASSERT_EQ(first.next_page_token(), "1");
  grpc::ClientContext ctx2;
  req.set_page_token(first.next_page_token());
  v1::ListTrialsResponse second;
  ASSERT_TRUE(stub_->ListTrials(&ctx2, req, &second).ok());
  ASSERT_EQ(second.trials_size(), 1);
  EXPECT_EQ(second.trials(0).trial_id(), running_id_);
  EXPECT_EQ(second.trials(0).user_attrs_size(), 1024);
  EXPECT_EQ(second.trials(0).params_size(), 1024);
  EXPECT_TRUE(second.next_page_token().empty());
}

TEST_F(BadInputTest, StudyAttributesStopAtTheirLimitAndSurviveARestart) {
  auto set_attr = [&](const std::string& study, const std::string& key, double value) {
    grpc::ClientContext ctx;
    v1::SetStudyUserAttrRequest req;
    req.set_study(study);
    req.set_key(key);
    req.mutable_value()->set_number_value(value);
    v1::SetStudyUserAttrResponse resp;
    return stub_->SetStudyUserAttr(&ctx, req, &resp);
  };
  for (int i = 0; i < 1024; ++i) ASSERT_TRUE(set_attr("s", "k" + std::to_string(i), i).ok()) << i;
  grpc::Status over = set_attr("s", "one-more", 1);
  EXPECT_EQ(over.error_code(), Code::RESOURCE_EXHAUSTED);
  EXPECT_NE(over.error_message().find("study 's' already has 1024 user attributes"),
            std::string::npos)
      << over.error_message();
  EXPECT_TRUE(set_attr("s", "k5", -5).ok()) << "an existing key can still change";

  v1::CreateStudyRequest gone;
  gone.set_name("gone");
  ASSERT_TRUE(CreateStudy(*stub_, gone).ok());
  {
    grpc::ClientContext ctx;
    v1::DeleteStudyRequest req;
    req.set_name("gone");
    v1::DeleteStudyResponse resp;
    ASSERT_TRUE(stub_->DeleteStudy(&ctx, req, &resp).ok());
  }
  grpc::Status deleted = set_attr("gone", "owner", 1);
  EXPECT_EQ(deleted.error_code(), Code::NOT_FOUND);
  EXPECT_NE(deleted.error_message().find("study 'gone' does not exist"), std::string::npos)
      << deleted.error_message();

  // Each attribute is its own row: all of them, the replaced one as
  // replaced, come back from the file.
  stub_.reset();  // its channel would hold the shutdown up
  ASSERT_EQ(server_->Terminate(), 0);
  auto restarted = ServerProcess::Start(dir_.File("bad.db"));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  stub_ = server_->NewStub();
  grpc::ClientContext ctx;
  v1::GetStudyRequest req;
  req.set_name("s");
  v1::GetStudyResponse study;
  ASSERT_TRUE(stub_->GetStudy(&ctx, req, &study).ok());
  const auto& attrs = study.study().user_attrs();
  EXPECT_EQ(attrs.size(), 1024u);
  EXPECT_EQ(attrs.at("k5").number_value(), -5);
  EXPECT_EQ(attrs.at("k1023").number_value(), 1023);
  EXPECT_FALSE(attrs.contains("one-more"));
}

// Start-up refuses files it does not own, with one clear line, and never
// writes to them.
TEST(DatabaseFileTest, ForeignCorruptOrNewerFilesAreRefusedAndLeftUntouched) {
  TempDir dir;
  struct FileCase {
    const char* what;
    std::function<void(const std::string&)> make;
    const char* message_part;
  };
  const std::vector<FileCase> cases = {
      {"not SQLite",
       [](const std::string& p) { std::ofstream(p) << "hello, this is not a database\n"; },
       "is not a SQLite database"},
      {"someone else's SQLite",
       [](const std::string& p) {
         SQLite::Database db(p, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
         db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
       },
       "not a Parzen one"},
      // 1350201966 is Parzen's application_id ('Pzrn').
      {"a newer schema",
       [](const std::string& p) {
         SQLite::Database db(p, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
         db.exec("CREATE TABLE t(x); PRAGMA application_id=1350201966; PRAGMA user_version=99;");
       },
       "newer than this parzen-server"},
  };
  for (const FileCase& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.File(std::to_string(&c - cases.data()) + ".db");
    c.make(path);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty());
    std::string output;
    const int code = ServerProcess::RunToExit({"--db", path, "--listen", "127.0.0.1:0"}, &output);
    EXPECT_NE(code, 0);
    EXPECT_NE(output.find(c.message_part), std::string::npos) << output;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
    std::ifstream after(path, std::ios::binary);
    const std::string after_bytes((std::istreambuf_iterator<char>(after)),
                                  std::istreambuf_iterator<char>());
    EXPECT_EQ(after_bytes, bytes) << "the file was modified";
  }
  // A path that cannot be opened as a file at all.
  std::string output;
  EXPECT_NE(ServerProcess::RunToExit({"--db", dir.path(), "--listen", "127.0.0.1:0"}, &output), 0);
  EXPECT_NE(output.find(dir.path()), std::string::npos) << output;
}

// The container image's entry point sets --db and --listen, and a user's
// arguments come after: the last of a repeated flag is the one used.
TEST(DatabaseFileTest, ARepeatedFlagOverridesTheEarlierOne) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("first.db"), "--listen", "127.0.0.1:0",
                                      "--db", dir.path()},
                                     &output),
            2);
  EXPECT_NE(output.find(dir.path() + ":"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("first.db")));
}

// A Parzen database damaged after the fact: a numbering gap (a trial row
// removed behind the server's back) and garbage written over its pages.
TEST(DatabaseFileTest, DamagedParzenDatabaseIsRefusedWithOneLine) {
  TempDir dir;
  const std::string db = dir.File("damaged.db");
  {
    auto server = ServerProcess::Start(db);
    ASSERT_TRUE(server.ok()) << server.status();
    auto stub = (*server)->NewStub();
    v1::CreateStudyRequest req;
    req.set_name("s");
    ASSERT_TRUE(CreateStudy(*stub, req).ok());
    for (int i = 0; i < 3; ++i) {
      v1::AskResponse ask;
      ASSERT_TRUE(Ask(*stub, "s", {FloatSpec("x", 0, 1)}, &ask).ok());
    }
    stub.reset();
    ASSERT_EQ((*server)->Terminate(), 0);
  }
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE);
    raw.exec("DELETE FROM trials WHERE number = 1");
  }
  std::string output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--listen", "127.0.0.1:0"}, &output), 2);
  EXPECT_NE(output.find("lacks trial number 1"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;

  // Overwrite everything after the header page with garbage.
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--listen", "127.0.0.1:0"}, &output), 2);
  EXPECT_NE(output.find(db), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

// Two servers on one file would each number trials from their own memory
// and hand out duplicates: the second must refuse to start.
TEST(DatabaseFileTest, SecondServerOnTheSameFileIsRefused) {
  TempDir dir;
  const std::string db = dir.File("shared.db");
  auto server = ServerProcess::Start(db);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest req;
  req.set_name("s");
  ASSERT_TRUE(CreateStudy(*stub, req).ok());

  std::string output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--listen", "127.0.0.1:0"}, &output), 2);
  EXPECT_NE(output.find("is in use by another process"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;

  // The first server is unaffected and keeps numbering.
  for (int64_t number = 0; number < 2; ++number) {
    v1::AskResponse ask;
    ASSERT_TRUE(Ask(*stub, "s", {FloatSpec("x", 0, 1)}, &ask).ok());
    EXPECT_EQ(ask.trial().number(), number);
  }
  stub.reset();
  EXPECT_EQ((*server)->Terminate(), 0);
}

}  // namespace
}  // namespace parzen::testing
