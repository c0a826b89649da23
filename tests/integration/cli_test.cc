// The parzen CLI against a real server: the listings a person reads.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("cli.db"), {"--log-level", "warning"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    stub_.reset();
    if (server_) server_->Terminate();
  }

  CliRun Parzen(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess cli(argv, dir_.File("cli.out." + std::to_string(++runs_)));
    const std::optional<int> code = cli.WaitFor(std::chrono::seconds(30));
    return {code.value_or(-2), cli.Log()};
  }

  // Trial `value` (COMPLETE), or FAIL when nullopt; returns its id.
  int64_t AddTrial(std::optional<double> value, std::optional<double> test_accuracy = {}) {
    v1::AskResponse ask;
    EXPECT_TRUE(Ask(*stub_, "cli",
                    {FloatSpec("lr", 1e-4, 1e-1, true), CategoricalSpec("optimizer", {"sgd", "adam"})},
                    &ask)
                    .ok());
    if (test_accuracy) {
      grpc::ClientContext context;
      v1::SetTrialUserAttrRequest request;
      request.set_trial_id(ask.trial().trial_id());
      request.set_key("test_accuracy");
      request.mutable_value()->set_number_value(*test_accuracy);
      v1::SetTrialUserAttrResponse response;
      EXPECT_TRUE(stub_->SetTrialUserAttr(&context, request, &response).ok());
    }
    if (value) {
      EXPECT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::COMPLETE, {*value}).ok());
    } else {
      EXPECT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::FAIL, {}).ok());
    }
    return ask.trial().trial_id();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  int runs_ = 0;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

TEST_F(CliTest, StudiesTrialsBestAndStatus) {
  v1::CreateStudyRequest create;
  create.set_name("cli");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  AddTrial(0.5, 0.97);
  AddTrial(0.25);
  AddTrial(std::nullopt);

  CliRun studies = Parzen({"studies"});
  ASSERT_EQ(studies.exit_code, 0) << studies.output;
  std::vector<std::string> lines = Lines(studies.output);
  ASSERT_EQ(lines.size(), 2u) << studies.output;
  EXPECT_EQ(Words(lines[0]), (std::vector<std::string>{"study", "direction", "trials", "running",
                                                        "complete", "pruned", "fail", "best"}));
  EXPECT_EQ(Words(lines[1]),
            (std::vector<std::string>{"cli", "minimize", "3", "0", "2", "0", "1", "0.25"}));

  CliRun trials = Parzen({"trials", "cli"});
  ASSERT_EQ(trials.exit_code, 0) << trials.output;
  lines = Lines(trials.output);
  ASSERT_EQ(lines.size(), 4u) << trials.output;
  EXPECT_EQ(Words(lines[0]), (std::vector<std::string>{"#", "state", "value", "seconds",
                                                        "test_accuracy", "lr", "optimizer"}));
  EXPECT_EQ(Words(lines[1])[1], "COMPLETE");
  EXPECT_EQ(Words(lines[1])[2], "0.5");
  EXPECT_EQ(Words(lines[1])[4], "0.97");
  EXPECT_EQ(Words(lines[3])[1], "FAIL");

  CliRun chosen = Parzen({"trials", "cli", "--params", "optimizer", "--attrs", "test_accuracy"});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.output;
  EXPECT_EQ(Words(Lines(chosen.output)[0]),
            (std::vector<std::string>{"#", "state", "value", "seconds", "test_accuracy",
                                      "optimizer"}));

  CliRun best = Parzen({"best", "cli"});
  ASSERT_EQ(best.exit_code, 0) << best.output;
  EXPECT_EQ(Lines(best.output)[0], "best trial of \"cli\": #1, value 0.25") << best.output;
  EXPECT_NE(best.output.find("param  lr"), std::string::npos) << best.output;

  CliRun status = Parzen({"status", "cli"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(status.output,
            "study \"cli\": 3 trials: 0 running, 0 waiting, 2 complete, 0 pruned, 1 failed\n");
}

TEST_F(CliTest, WatchFollowsTrialsLive) {
  v1::CreateStudyRequest create;
  create.set_name("cli");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  AddTrial(0.4);

  ChildProcess watch({PARZEN_CLI_BINARY, "--server", server_->address(), "watch", "cli"},
                     dir_.File("watch.out"));
  // The existing trial arrives as the snapshot, after the server has
  // registered the watch: from here on nothing can be missed.
  ASSERT_TRUE(::parzen::testing::WaitUntil(
      [&] { return watch.Log().find("#0 COMPLETE") != std::string::npos; },
      std::chrono::seconds(20)))
      << watch.Log();

  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "cli", {CategoricalSpec("kind", {"adam"})}, &ask).ok());
  const int64_t pruned = ask.trial().trial_id();
  v1::ReportIntermediateResponse rep;
  ASSERT_TRUE(Report(*stub_, pruned, 0, 0.9, &rep).ok());
  ASSERT_TRUE(Report(*stub_, pruned, 1, 0.7, &rep).ok());
  ASSERT_TRUE(Tell(*stub_, pruned, v1::PRUNED, {}).ok());
  AddTrial(std::nullopt);
  ASSERT_TRUE(::parzen::testing::WaitUntil(
      [&] { return watch.Log().find("#2 FAIL") != std::string::npos; },
      std::chrono::seconds(20)))
      << watch.Log();
  watch.Signal(SIGTERM);
  watch.WaitFor(std::chrono::seconds(10));

  const std::vector<std::string> lines = Lines(watch.Log());
  ASSERT_EQ(lines.size(), 7u) << watch.Log();
  EXPECT_EQ(lines[0].rfind("#0 COMPLETE value 0.4", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1], "#1 RUNNING kind=adam");
  EXPECT_EQ(lines[2], "#1 step 0: 0.9");
  EXPECT_EQ(lines[3], "#1 step 1: 0.7");
  EXPECT_EQ(lines[4].rfind("#1 PRUNED value 0.7 at step 1", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("#2 RUNNING lr=", 0), 0u) << lines[5];
  EXPECT_EQ(lines[6].rfind("#2 FAIL", 0), 0u) << lines[6];
}

TEST_F(CliTest, UnknownStudyIsOneLineAndExitCodeOne) {
  CliRun run = Parzen({"trials", "nope"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(Lines(run.output).size(), 1u) << run.output;
  EXPECT_NE(run.output.find("parzen: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nope"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace parzen::testing
