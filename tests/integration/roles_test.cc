// A server started with --tokens-file: each token has a role (read, worker,
// admin), every method needs one, a token without it is PERMISSION_DENIED,
// a missing or unknown one UNAUTHENTICATED, and neither changes anything.
// SIGHUP reads the file again.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kAdmin[] = "admin-0123456789abcdef";
constexpr char kWorker[] = "worker-0123456789abcdef";
constexpr char kRead[] = "read-0123456789abcdef";
constexpr char kUnknown[] = "nobody-0123456789abcdef";

enum class Needs { kRead, kWorker, kAdmin };

class RolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.File("tokens");
    WriteTokens(std::string("admin ") + kAdmin + "\nworker " + kWorker + "\nread " + kRead + "\n");
    auto server = ServerProcess::Start(dir_.File("roles.db"), {"--tokens-file", tokens_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    v1::CreateStudyRequest create;
    create.set_name("s");
    ASSERT_TRUE(Call("CreateStudy", kAdmin, create).ok());
    v1::AskRequest ask;
    ask.set_study("s");
    v1::AskResponse asked;
    ASSERT_TRUE(Call("Ask", kWorker, ask, &asked).ok());
    trial_ = asked.trial().trial_id();
  }

  void WriteTokens(const std::string& text) {
    std::ofstream(tokens_ + ".new") << text;
    std::rename((tokens_ + ".new").c_str(), tokens_.c_str());
  }

  // Calls `method` with `request`, sending `token` (none when null).
  grpc::Status Call(const std::string& method, const char* token,
                    const google::protobuf::Message& request,
                    google::protobuf::Message* response = nullptr) {
    std::string reply;
    grpc::Status status = CallRaw(method, token, request.SerializeAsString(), &reply);
    if (status.ok() && response != nullptr) {
      EXPECT_TRUE(response->ParseFromString(reply));
    }
    return status;
  }

  grpc::Status CallRaw(const std::string& method, const char* token, const std::string& bytes,
                       std::string* reply = nullptr) {
    grpc::GenericStub generic(server_->channel());
    grpc::ClientContext ctx;
    if (token != nullptr) ctx.AddMetadata("authorization", std::string("Bearer ") + token);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/parzen.v1.StudyService/" + method, grpc::StubOptions(), &in, &out,
                      [&](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status status = done.get_future().get();
    if (status.ok() && reply != nullptr) {
      grpc::Slice whole;
      EXPECT_TRUE(out.DumpToSingleSlice(&whole).ok());
      reply->assign(reinterpret_cast<const char*>(whole.begin()), whole.size());
    }
    return status;
  }

  // Everything the admin can see.
  std::string Observe() {
    std::string out;
    v1::ListStudiesResponse studies;
    EXPECT_TRUE(Call("ListStudies", kAdmin, v1::ListStudiesRequest(), &studies).ok());
    for (const auto& s : studies.studies()) {
      v1::ListTrialsRequest list;
      list.set_study(s.study().name());
      v1::ListTrialsResponse trials;
      EXPECT_TRUE(Call("ListTrials", kAdmin, list, &trials).ok());
      out += s.SerializeAsString() + trials.SerializeAsString();
    }
    return out;
  }

  // A request for every unary method that the right role may make, and
  // the role it needs.
  std::map<std::string, std::pair<Needs, std::string>> Requests() const {
    std::map<std::string, std::pair<Needs, std::string>> out;
    auto add = [&](const std::string& method, Needs needs, const google::protobuf::Message& req) {
      out[method] = {needs, req.SerializeAsString()};
    };
    v1::CreateStudyRequest create;
    create.set_name("new");
    add("CreateStudy", Needs::kAdmin, create);
    v1::GetStudyRequest get;
    get.set_name("s");
    add("GetStudy", Needs::kRead, get);
    add("ListStudies", Needs::kRead, v1::ListStudiesRequest());
    v1::DeleteStudyRequest del;
    del.set_name("s");
    add("DeleteStudy", Needs::kAdmin, del);
    v1::SetStudyUserAttrRequest study_attr;
    study_attr.set_study("s");
    study_attr.set_key("k");
    study_attr.mutable_value()->set_string_value("v");
    add("SetStudyUserAttr", Needs::kWorker, study_attr);
    v1::AskRequest ask;
    ask.set_study("s");
    add("Ask", Needs::kWorker, ask);
    v1::SuggestRequest suggest;
    suggest.set_trial_id(trial_);
    suggest.set_name("x");
    *suggest.mutable_distribution() = FloatSpec("x", 0, 1).distribution();
    add("Suggest", Needs::kWorker, suggest);
    v1::ReportIntermediateRequest report;
    report.set_trial_id(trial_);
    report.set_value(0.5);
    add("ReportIntermediate", Needs::kWorker, report);
    v1::TellRequest tell;
    tell.set_trial_id(trial_);
    tell.set_state(v1::COMPLETE);
    tell.add_values(0.5);
    add("Tell", Needs::kWorker, tell);
    v1::HeartbeatRequest beat;
    beat.set_trial_id(trial_);
    add("Heartbeat", Needs::kWorker, beat);
    v1::EnqueueTrialRequest enqueue;
    enqueue.set_study("s");
    add("EnqueueTrial", Needs::kAdmin, enqueue);
    v1::SetTrialUserAttrRequest trial_attr;
    trial_attr.set_trial_id(trial_);
    trial_attr.set_key("k");
    trial_attr.mutable_value()->set_number_value(1);
    add("SetTrialUserAttr", Needs::kWorker, trial_attr);
    v1::GetTrialRequest get_trial;
    get_trial.set_trial_id(trial_);
    add("GetTrial", Needs::kRead, get_trial);
    v1::ListTrialsRequest list;
    list.set_study("s");
    add("ListTrials", Needs::kRead, list);
    v1::BackupDatabaseRequest backup;
    backup.set_name("b.db");
    add("BackupDatabase", Needs::kAdmin, backup);
    return out;
  }

  TempDir dir_;
  std::string tokens_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  int64_t trial_ = 0;
};

TEST_F(RolesTest, EveryMethodRefusesTokensWithoutItsRoleAndChangesNothing) {
  const auto requests = Requests();
  // Every unary method of the service is in the table: one added later
  // without a role fails here.
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "parzen.v1.StudyService");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    if (service->method(i)->server_streaming()) continue;
    EXPECT_TRUE(requests.count(service->method(i)->name())) << service->method(i)->name();
  }
  const std::string before = Observe();
  const std::vector<std::pair<Needs, const char*>> roles = {
      {Needs::kRead, kRead}, {Needs::kWorker, kWorker}, {Needs::kAdmin, kAdmin}};
  int refused = 0;
  for (const auto& [method, request] : requests) {
    SCOPED_TRACE(method);
    const auto& [needs, bytes] = request;
    EXPECT_EQ(CallRaw(method, nullptr, bytes).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    const grpc::Status unknown = CallRaw(method, kUnknown, bytes);
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(unknown.error_message(), "the access token is not one this server accepts");
    for (const auto& [role, token] : roles) {
      if (role >= needs) continue;
      const grpc::Status denied = CallRaw(method, token, bytes);
      EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << token;
      EXPECT_THAT(denied.error_message(), HasSubstr("needs a token with the")) << token;
      ++refused;
    }
  }
  EXPECT_EQ(refused, 4 * 2 + 7);  // 4 admin methods, 7 worker ones
  EXPECT_EQ(Observe(), before);

  // The right role gets past the check (what happens next is the method's
  // business: DeleteStudy is kept for last, BackupDatabase is off here).
  for (const char* method : {"GetStudy", "ListStudies", "GetTrial", "ListTrials"}) {
    EXPECT_TRUE(CallRaw(method, kRead, requests.at(method).second).ok()) << method;
  }
  for (const char* method : {"SetStudyUserAttr", "Suggest", "ReportIntermediate",
                             "SetTrialUserAttr", "Heartbeat", "Tell", "Ask"}) {
    EXPECT_TRUE(CallRaw(method, kWorker, requests.at(method).second).ok()) << method;
  }
  for (const char* method : {"CreateStudy", "EnqueueTrial", "DeleteStudy"}) {
    EXPECT_TRUE(CallRaw(method, kAdmin, requests.at(method).second).ok()) << method;
  }
  EXPECT_EQ(CallRaw("BackupDatabase", kAdmin, requests.at("BackupDatabase").second).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RolesTest, WorkersOpenExistingStudiesButCannotCreateThem) {
  const std::string before = Observe();
  v1::CreateStudyRequest open;
  open.set_name("s");
  open.set_load_if_exists(true);
  v1::CreateStudyResponse opened;
  ASSERT_TRUE(Call("CreateStudy", kWorker, open, &opened).ok());
  EXPECT_FALSE(opened.created());
  EXPECT_EQ(opened.study().name(), "s");

  v1::CreateStudyRequest missing;
  missing.set_name("not-there");
  missing.set_load_if_exists(true);
  const grpc::Status denied = Call("CreateStudy", kWorker, missing);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(),
            "creating a study needs a token with the admin role; this one has worker");
  // A read token cannot even open one: that is a worker's step.
  EXPECT_EQ(Call("CreateStudy", kRead, open).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Observe(), before);
}

TEST_F(RolesTest, WatchNeedsTheReadRole) {
  v1::WatchStudyRequest req;
  req.set_study("s");
  {
    grpc::ClientContext ctx;
    auto reader = stub_->WatchStudy(&ctx, req);
    v1::WatchStudyResponse event;
    EXPECT_FALSE(reader->Read(&event));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kRead);
  auto reader = stub_->WatchStudy(&ctx, req);
  reader->WaitForInitialMetadata();  // the watch is registered
  v1::TellRequest tell;
  tell.set_trial_id(trial_);
  tell.set_state(v1::COMPLETE);
  tell.add_values(1);
  ASSERT_TRUE(Call("Tell", kWorker, tell).ok());
  // The snapshot of the running trial first, then the change.
  v1::WatchStudyResponse event;
  do {
    ASSERT_TRUE(reader->Read(&event));
  } while (event.snapshot());
  EXPECT_EQ(event.trial().trial_id(), trial_);
  EXPECT_EQ(event.trial().state(), v1::COMPLETE);
  ctx.TryCancel();
}

TEST_F(RolesTest, AWatchWhoseTokenASighupRevokesEndsAndOthersGoOn) {
  v1::WatchStudyRequest req;
  req.set_study("s");
  // Deadlines, so a stream that outlives its token fails the test rather
  // than hanging it.
  grpc::ClientContext revoked_ctx;
  revoked_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  revoked_ctx.AddMetadata("authorization", std::string("Bearer ") + kRead);
  auto revoked = stub_->WatchStudy(&revoked_ctx, req);
  revoked->WaitForInitialMetadata();
  grpc::ClientContext kept_ctx;
  kept_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  kept_ctx.AddMetadata("authorization", std::string("Bearer ") + kAdmin);
  auto kept = stub_->WatchStudy(&kept_ctx, req);
  kept->WaitForInitialMetadata();

  WriteTokens(std::string("admin ") + kAdmin + "\nworker " + kWorker + "\n");
  server_->Signal(SIGHUP);
  // The revoked stream ends with the refusal a new call would get, once
  // its snapshot is read.
  v1::WatchStudyResponse event;
  while (revoked->Read(&event)) EXPECT_TRUE(event.snapshot());
  const grpc::Status ended = revoked->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();

  // The admin's stream goes on and sees the next change.
  v1::TellRequest tell;
  tell.set_trial_id(trial_);
  tell.set_state(v1::COMPLETE);
  tell.add_values(1);
  ASSERT_TRUE(Call("Tell", kWorker, tell).ok());
  do {
    ASSERT_TRUE(kept->Read(&event));
  } while (event.snapshot());
  EXPECT_EQ(event.trial().trial_id(), trial_);
  EXPECT_EQ(event.trial().state(), v1::COMPLETE);
  kept_ctx.TryCancel();
}

TEST_F(RolesTest, SighupReadsTheTokensFileAgainAndKeepsItWhenBroken) {
  constexpr char kNewRead[] = "new-read-0123456789abcdef";
  WriteTokens(std::string("admin ") + kAdmin + "\nread " + kNewRead + "\n");
  server_->Signal(SIGHUP);
  v1::GetStudyRequest get;
  get.set_name("s");
  ASSERT_TRUE(WaitUntil([&] { return Call("GetStudy", kNewRead, get).ok(); }));
  EXPECT_EQ(Call("GetStudy", kWorker, get).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call("GetStudy", kRead, get).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // A file that does not parse leaves the tokens as they were.
  WriteTokens(std::string("admin ") + kAdmin + "\nsuperuser " + kWorker + "\n");
  server_->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil(
      [&] { return server_->Log().find("kept the previous access tokens") != std::string::npos; }));
  EXPECT_TRUE(Call("GetStudy", kNewRead, get).ok());
  EXPECT_EQ(Call("GetStudy", kWorker, get).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  ASSERT_EQ(server_->Terminate(), 0);
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("reloaded 2 access tokens"));
  for (const char* token : {kAdmin, kWorker, kRead, kNewRead, kUnknown}) {
    EXPECT_EQ(log.find(token), std::string::npos) << "the log shows a token";
  }
}

}  // namespace
}  // namespace parzen::testing
