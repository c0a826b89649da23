// A server started with --token-file: every StudyService call must carry
// that token; without it or with another one the call is UNAUTHENTICATED
// and changes nothing. Health checks stay open; the CLI passes the token.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include "tests/testing/child_process.h"
#include "client/client.h"
#include "client/study.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

constexpr char kToken[] = "s3cret-token-0123456789";

class AccessTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = WriteFile("token", std::string("  ") + kToken + "\n");
    auto server = ServerProcess::Start(dir_.File("token.db"),
                                       {"--log-level", "info", "--token-file", token_file_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << contents;
    return path;
  }

  // A context that carries `authorization` (none when empty).
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& authorization) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    return ctx;
  }

  grpc::Status Create(const std::string& authorization, const std::string& name) {
    v1::CreateStudyRequest req;
    req.set_name(name);
    v1::CreateStudyResponse resp;
    return stub_->CreateStudy(Context(authorization).get(), req, &resp);
  }

  TempDir dir_;
  std::string token_file_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
};

TEST_F(AccessTokenTest, CallsWithoutTheTokenAreRefusedAndChangeNothing) {
  const std::string good = std::string("Bearer ") + kToken;
  ASSERT_TRUE(Create(good, "kept").ok());

  grpc::Status none = Create("", "intruder");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(none.error_message().find("requires an access token"), std::string::npos)
      << none.error_message();
  for (const std::string& wrong :
       {std::string("Bearer wrong-token-0123456789"), std::string(kToken),
        good + "x", std::string("Bearer ") + std::string(kToken).substr(1),
        // Same length, last character differs: not a length check only.
        good.substr(0, good.size() - 1) + "8"}) {
    grpc::Status s = Create(wrong, "intruder");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong;
    EXPECT_EQ(s.error_message(), "the access token is not one this server accepts") << wrong;
  }
  {
    v1::AskRequest req;
    req.set_study("kept");
    v1::AskResponse resp;
    EXPECT_EQ(stub_->Ask(Context("").get(), req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    v1::ListStudiesRequest req;
    v1::ListStudiesResponse resp;
    EXPECT_EQ(stub_->ListStudies(Context("").get(), req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    v1::WatchStudyRequest req;
    req.set_study("kept");
    auto ctx = Context("");
    auto reader = stub_->WatchStudy(ctx.get(), req);
    v1::WatchStudyResponse resp;
    EXPECT_FALSE(reader->Read(&resp));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }

  // Nothing the refused calls asked for happened.
  v1::ListStudiesRequest req;
  v1::ListStudiesResponse resp;
  ASSERT_TRUE(stub_->ListStudies(Context(good).get(), req, &resp).ok());
  ASSERT_EQ(resp.studies_size(), 1);
  EXPECT_EQ(resp.studies(0).study().name(), "kept");
  EXPECT_EQ(resp.studies(0).summary().n_trials(), 0);
}

// Walks the service's descriptor, so a method added later without the check
// fails here. An empty request would be INVALID_ARGUMENT or NOT_FOUND for
// every method: UNAUTHENTICATED means the token is checked first.
TEST_F(AccessTokenTest, EveryMethodChecksTheTokenFirst) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "parzen.v1.StudyService");
  ASSERT_NE(service, nullptr);
  grpc::GenericStub generic(server_->channel());
  int checked = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service->method(i);
    if (method->server_streaming()) continue;  // WatchStudy: the test above
    grpc::Slice empty_message("");
    grpc::ByteBuffer request(&empty_message, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/" + service->full_name() + "/" + method->name(), grpc::StubOptions(),
                      &request, &response, [&](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method->name() << ": " << status.error_message();
    ++checked;
  }
  EXPECT_EQ(checked, 15);  // every unary method; WatchStudy is the one stream
}

TEST_F(AccessTokenTest, HealthCheckNeedsNoToken) {
  std::string reply;
  const grpc::Status s = CheckHealth(server_->channel(), &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply, std::string("\x08\x01", 2));
}

// What a container's HEALTHCHECK runs: `parzen health` carries no token.
TEST_F(AccessTokenTest, CliHealthNeedsNoToken) {
  ChildProcess cli({PARZEN_CLI_BINARY, "--server", server_->address(), "health"},
                   dir_.File("health.out"));
  const std::optional<int> code = cli.WaitFor(std::chrono::seconds(30));
  EXPECT_EQ(code, 0) << cli.Log();
  EXPECT_EQ(cli.Log(), server_->address() + ": serving\n");
}

TEST_F(AccessTokenTest, CliPassesTheTokenFile) {
  ASSERT_TRUE(Create(std::string("Bearer ") + kToken, "cli-study").ok());
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("studies");
    ChildProcess cli(argv, dir_.File("cli.out." + std::to_string(argv.size())));
    const std::optional<int> code = cli.WaitFor(std::chrono::seconds(30));
    return std::make_pair(code.value_or(-2), cli.Log());
  };
  const auto [with_code, with_out] = run({"--token-file", token_file_});
  EXPECT_EQ(with_code, 0) << with_out;
  EXPECT_NE(with_out.find("cli-study"), std::string::npos) << with_out;
  const auto [without_code, without_out] = run({});
  EXPECT_EQ(without_code, 1) << without_out;
  EXPECT_NE(without_out.find("requires an access token"), std::string::npos) << without_out;
}

// The worker's path: every call of the client library, heartbeats and the
// watch stream included, carries the token.
TEST_F(AccessTokenTest, ClientLibraryCarriesTheTokenOnEveryCall) {
  client::ClientOptions options;
  options.address = server_->address();
  options.access_token = kToken;
  auto client = client::Client::Connect(options);
  auto study = client->CreateStudy({.name = "lib", .heartbeat_grace_seconds = 0.5});
  ASSERT_TRUE(study.ok()) << study.status();
  auto trial = study->Ask();
  ASSERT_TRUE(trial.ok()) << trial.status();
  // The client beats every 125 ms; were its beats refused, the server's
  // reaper (every 500 ms) would fail the trial within about a second. It
  // must stay RUNNING for four grace periods, seen by the server itself.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int polls = 0;
  while (std::chrono::steady_clock::now() < until) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::GetTrialRequest request;
    request.set_trial_id(trial->id());
    v1::GetTrialResponse response;
    ASSERT_TRUE(stub_->GetTrial(&context, request, &response).ok());
    ASSERT_EQ(response.trial().state(), v1::RUNNING) << "after " << polls << " polls";
    ++polls;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(trial->lost());
  auto told = study->Tell(*trial, 0.5);
  ASSERT_TRUE(told.ok()) << told.status();
  EXPECT_EQ(told->state, TrialState::kComplete);
  int changes = 0;
  absl::Status watched = study->Watch([&](const client::TrialChange& change) {
    EXPECT_EQ(change.trial.state, TrialState::kComplete);
    return ++changes < 1;
  });
  EXPECT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(changes, 1);
}

TEST(ServerFlagsTest, BadFlagsExitTwoAndHelpZero) {
  TempDir dir;
  std::string output;
  // CLI11 exits 106-109 for these by itself; a supervisor told not to
  // restart on 2 would restart them forever.
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("x.db"), "--tls-cert", dir.File("c.pem")},
                                     &output),
            2)
      << output;
  EXPECT_NE(output.find("--tls-key"), std::string::npos) << output;
  EXPECT_EQ(ServerProcess::RunToExit({"--no-such-flag"}, &output), 2) << output;
  EXPECT_EQ(ServerProcess::RunToExit({"--sampler-threads", "0"}, &output), 2) << output;
  EXPECT_EQ(ServerProcess::RunToExit({"--help"}, &output), 0) << output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("x.db")));
}

TEST(AccessTokenFileTest, AShortTokenFileStopsTheServerAtStartUp) {
  TempDir dir;
  const std::string token = dir.File("short");
  std::ofstream(token) << "abc\n";
  std::string output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("x.db"), "--listen", "127.0.0.1:0",
                                      "--token-file", token},
                                     &output),
            2);
  EXPECT_NE(output.find("must hold 16 to 512 characters, not 3"), std::string::npos) << output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("x.db"), "--listen", "127.0.0.1:0",
                                      "--token-file", dir.File("missing")},
                                     &output),
            2);
  EXPECT_NE(output.find("cannot read token file"), std::string::npos) << output;
}

}  // namespace
}  // namespace parzen::testing
