// A hostile client against the real server: text meant to forge log lines
// or fool the operator's terminal, bytes protobuf cannot parse, huge names,
// negative zero, and a connection left idle while the server stops. Each
// test here failed before its defect was fixed (issue 19).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class HostileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("hostile.db");
    Restart();
    v1::CreateStudyRequest req;
    req.set_name("s");
    ASSERT_TRUE(CreateStudy(*stub_, req).ok());
  }
  void Restart() {
    stub_.reset();
    server_.reset();
    auto server = ServerProcess::Start(db_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  // Everything a client can observe about the server's studies.
  std::string Observe() {
    std::string out;
    grpc::ClientContext ctx;
    v1::ListStudiesResponse studies;
    EXPECT_TRUE(stub_->ListStudies(&ctx, v1::ListStudiesRequest(), &studies).ok());
    studies.SerializeToString(&out);
    std::vector<v1::Trial> trials;
    EXPECT_TRUE(ListAllTrials(*stub_, "s", &trials).ok());
    for (const auto& t : trials) out += t.SerializeAsString();
    return out;
  }
  // Calls `method` of parzen.v1.StudyService with `bytes` as the request.
  grpc::Status RawUnary(const std::string& method, const std::string& bytes) {
    grpc::GenericStub generic(server_->channel());
    grpc::ClientContext ctx;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/parzen.v1.StudyService/" + method, grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  }

  TempDir dir_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
};

// The server's log split into lines.
std::vector<std::string> Lines(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(HostileClientTest, ClientTextReachesTheLogEscapedOnOneLine) {
  const std::string forged = "2026-01-01T00:00:00.000 info study 's': trial 9 COMPLETE";
  grpc::ClientContext ctx;
  v1::AskRequest ask;
  ask.set_study("s");
  ask.set_worker_id("w1\n" + forged + "\x1b[2J");
  v1::AskResponse asked;
  ASSERT_TRUE(stub_->Ask(&ctx, ask, &asked).ok());
  grpc::ClientContext tell_ctx;
  v1::TellRequest tell;
  tell.set_trial_id(asked.trial().trial_id());
  tell.set_state(v1::FAIL);
  tell.set_fail_reason("oom\r\n" + forged + "\x1b]0;owned\x07 \xe2\x80\xae" "dlrow");
  v1::TellResponse told;
  ASSERT_TRUE(stub_->Tell(&tell_ctx, tell, &told).ok());
  // The client still gets its text back exactly.
  EXPECT_EQ(told.trial().fail_reason(), tell.fail_reason());
  ASSERT_EQ(server_->Terminate(), 0);

  const std::string log = server_->Log();
  for (const std::string& line : Lines(log)) {
    EXPECT_FALSE(line.starts_with("2026-01-01")) << "forged line: " << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x07'), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    EXPECT_EQ(line.find("\xe2\x80\xae"), std::string::npos) << "a raw U+202E: " << line;
  }
  EXPECT_THAT(log, HasSubstr("RUNNING on w1\\x0a2026-01-01T00:00:00.000 info"));
  EXPECT_THAT(log, HasSubstr("FAIL (oom\\x0d\\x0a2026"));
  EXPECT_THAT(log, HasSubstr("\\x1b]0;owned\\x07 \\u{202e}dlrow)"));
}

TEST_F(HostileClientTest, NamesRefuseUnicodeControlsAndFormatCharacters) {
  const std::string before = Observe();
  const std::vector<std::string> bad = {
      "next\xc2\x85line",      // U+0085 NEXT LINE
      "evil\xe2\x80\xae" "fdp",  // U+202E RIGHT-TO-LEFT OVERRIDE
      "a\xe2\x80\xa8" "b",       // U+2028 LINE SEPARATOR
      "zero\xe2\x80\x8bwidth",   // U+200B ZERO WIDTH SPACE
      "\xef\xbb\xbf" "bom",      // U+FEFF
      "iso\xe2\x81\xa6late",     // U+2066 LEFT-TO-RIGHT ISOLATE
  };
  for (const std::string& name : bad) {
    v1::CreateStudyRequest create;
    create.set_name(name);
    grpc::Status s = CreateStudy(*stub_, create);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(s.error_message(), HasSubstr("study name must not contain control characters"));

    v1::AskResponse asked;
    s = Ask(*stub_, "s", {FloatSpec(name, 0, 1)}, &asked);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(s.error_message(), HasSubstr("contains a control character at byte"));

    grpc::ClientContext ctx;
    v1::SetStudyUserAttrRequest attr;
    attr.set_study("s");
    attr.set_key(name);
    attr.mutable_value()->set_string_value("x");
    v1::SetStudyUserAttrResponse attr_resp;
    s = stub_->SetStudyUserAttr(&ctx, attr, &attr_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(s.error_message(), HasSubstr("must not contain control characters"));
  }
  // Printable Unicode stays welcome.
  v1::CreateStudyRequest fine;
  fine.set_name("résumé-学習-µ");
  EXPECT_TRUE(CreateStudy(*stub_, fine).ok());
  v1::DeleteStudyRequest del;
  del.set_name(fine.name());
  grpc::ClientContext del_ctx;
  v1::DeleteStudyResponse deleted;
  ASSERT_TRUE(stub_->DeleteStudy(&del_ctx, del, &deleted).ok());
  EXPECT_EQ(Observe(), before);
}

// A user attribute value nested `depth` lists deep.
google::protobuf::Value NestedLists(int depth) {
  google::protobuf::Value v;
  google::protobuf::Value* at = &v;
  for (int i = 0; i < depth; ++i) at = at->mutable_list_value()->add_values();
  at->set_number_value(1);
  return v;
}

TEST_F(HostileClientTest, UnparsableRequestsGetInvalidArgumentNamingWhy) {
  const std::string before = Observe();
  // Field 1 (study), length 2, bytes that are not UTF-8.
  const std::string bad_utf8 = std::string("\x0a\x02\xff\xfe", 4);
  v1::SetStudyUserAttrRequest deep;
  deep.set_study("s");
  deep.set_key("deep");
  *deep.mutable_value() = NestedLists(60);
  struct Case {
    std::string method;
    std::string bytes;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"Ask", bad_utf8, "a string field that is not UTF-8"},
      {"CreateStudy", bad_utf8, "a string field that is not UTF-8"},
      {"GetStudy", std::string("\xff\xff\xff\xff", 4), "not a parzen.v1.GetStudyRequest"},
      {"Tell", std::string("\x08", 1), "not a parzen.v1.TellRequest"},
      {"SetStudyUserAttr", deep.SerializeAsString(), "nested more than 100 levels deep"},
  };
  for (const Case& c : cases) {
    grpc::Status s = RawUnary(c.method, c.bytes);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.method;
    EXPECT_THAT(s.error_message(), HasSubstr(c.reason)) << c.method;
    EXPECT_THAT(s.error_message(), HasSubstr("parzen.v1." + c.method + "Request")) << c.method;
  }
  // A watch whose request cannot be parsed ends with the same kind of error.
  {
    grpc::GenericStub generic(server_->channel());
    grpc::ClientContext watch_ctx;
    grpc::CompletionQueue cq;
    auto call = generic.PrepareCall(&watch_ctx, "/parzen.v1.StudyService/WatchStudy", &cq);
    void* tag = nullptr;
    bool ok = false;
    call->StartCall(reinterpret_cast<void*>(1));
    ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
    grpc::Slice slice(bad_utf8);
    grpc::ByteBuffer request(&slice, 1);
    call->WriteLast(request, grpc::WriteOptions(), reinterpret_cast<void*>(2));
    ASSERT_TRUE(cq.Next(&tag, &ok));
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(3));
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("a string field that is not UTF-8"));
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }
  EXPECT_EQ(Observe(), before);
  // Shallower nesting still reaches the attribute's own checks.
  deep.set_key("shallow");
  *deep.mutable_value() = NestedLists(20);
  grpc::ClientContext ctx;
  v1::SetStudyUserAttrResponse resp;
  grpc::Status shallow = stub_->SetStudyUserAttr(&ctx, deep, &resp);
  EXPECT_TRUE(shallow.ok()) << shallow.error_message();
  ASSERT_EQ(server_->Terminate(), 0);
  // The reasons are the server's own log lines, not libprotobuf's stderr.
  EXPECT_THAT(server_->Log(), Not(HasSubstr("[libprotobuf")));
  EXPECT_THAT(server_->Log(), HasSubstr("Ask rejected: INVALID_ARGUMENT: the request is not"));
}

TEST_F(HostileClientTest, AHugeNameIsRefusedForItsLengthWithoutQuotingIt) {
  const std::string before = Observe();
  const std::string huge(1 << 20, 'n');
  std::vector<grpc::Status> refused;
  v1::GetStudyResponse got;
  refused.push_back(GetStudy(*stub_, huge, &got));
  {
    v1::CreateStudyRequest create;
    create.set_name(huge);
    refused.push_back(CreateStudy(*stub_, create));
  }
  v1::AskResponse asked;
  refused.push_back(Ask(*stub_, huge, {}, &asked));
  refused.push_back(Ask(*stub_, "s", {FloatSpec(huge, 0, 1)}, &asked));
  {
    grpc::ClientContext ctx;
    v1::SetStudyUserAttrRequest attr;
    attr.set_study("s");
    attr.set_key(huge);
    v1::SetStudyUserAttrResponse resp;
    refused.push_back(stub_->SetStudyUserAttr(&ctx, attr, &resp));  // no value either
  }
  {
    grpc::ClientContext ctx;
    v1::EnqueueTrialRequest enqueue;
    enqueue.set_study("s");
    (*enqueue.mutable_params())[huge].set_double_value(1);
    v1::EnqueueTrialResponse resp;
    refused.push_back(stub_->EnqueueTrial(&ctx, enqueue, &resp));
  }
  for (size_t i = 0; i < refused.size(); ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    EXPECT_EQ(refused[i].error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_LT(refused[i].error_message().size(), 300u) << refused[i].error_message();
    EXPECT_THAT(refused[i].error_message(), HasSubstr("1048576 bytes"));
  }
  EXPECT_EQ(Observe(), before);
  ASSERT_EQ(server_->Terminate(), 0);
  for (const std::string& line : Lines(server_->Log())) EXPECT_LT(line.size(), 1500u);
}

TEST_F(HostileClientTest, NegativeZeroSurvivesARestart) {
  v1::AskResponse asked;
  ASSERT_TRUE(Ask(*stub_, "s", {FloatSpec("x", -1, 1)}, &asked).ok());
  const int64_t trial = asked.trial().trial_id();
  v1::ReportIntermediateResponse reported;
  ASSERT_TRUE(Report(*stub_, trial, 0, -0.0, &reported).ok());
  ASSERT_TRUE(Tell(*stub_, trial, v1::COMPLETE, {-0.0}).ok());
  grpc::ClientContext ctx;
  v1::EnqueueTrialRequest enqueue;
  enqueue.set_study("s");
  (*enqueue.mutable_params())["x"].set_double_value(-0.0);
  v1::EnqueueTrialResponse enqueued;
  ASSERT_TRUE(stub_->EnqueueTrial(&ctx, enqueue, &enqueued).ok());
  v1::AskResponse from_queue;
  ASSERT_TRUE(Ask(*stub_, "s", {FloatSpec("x", -1, 1)}, &from_queue).ok());
  ASSERT_EQ(from_queue.trial().trial_id(), enqueued.trial().trial_id());

  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    v1::Trial t;
    ASSERT_TRUE(GetTrial(*stub_, trial, &t).ok());
    ASSERT_EQ(t.intermediate_values_size(), 1);
    EXPECT_TRUE(std::signbit(t.intermediate_values(0).value()));
    ASSERT_EQ(t.values_size(), 1);
    EXPECT_TRUE(std::signbit(t.values(0)));
    v1::Trial queued;
    ASSERT_TRUE(GetTrial(*stub_, from_queue.trial().trial_id(), &queued).ok());
    ASSERT_EQ(queued.params_size(), 1);
    EXPECT_EQ(queued.params(0).value().double_value(), 0.0);
    EXPECT_TRUE(std::signbit(queued.params(0).value().double_value()));
  };
  check("before the restart");
  ASSERT_EQ(server_->Terminate(), 0);
  Restart();
  check("after the restart");
}

TEST_F(HostileClientTest, SigtermStopsPromptlyWhileAClientHoldsAnIdleConnection) {
  // A connection that made a call and then stays open, idle, as a worker's
  // does between trials.
  auto idle = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  auto idle_stub = v1::StudyService::NewStub(idle);
  v1::GetStudyResponse got;
  ASSERT_TRUE(GetStudy(*idle_stub, "s", &got).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(server_->Terminate(), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Without idle connections it takes about 0.02 s; 5 s was the defect.
  EXPECT_LT(seconds, 2.0) << server_->Log();
  EXPECT_THAT(server_->Log(), HasSubstr("shut down cleanly"));
}

}  // namespace
}  // namespace parzen::testing
