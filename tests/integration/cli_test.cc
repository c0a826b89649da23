// The parzen CLI against a real server: the listings a person reads.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

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

  // `parzen trials STUDY --format csv` as Python's csv module reads it back,
  // beside the columns Optuna 3.1 names for the same trials
  // (optuna_dataframe_columns.py); discarded when either step failed.
  nlohmann::json ReadBackCsv(const std::string& study, int objectives, std::string* csv_text = nullptr) {
    const CliRun csv = Parzen({"trials", study, "--format", "csv"});
    const CliRun whole = Parzen({"trials", study, "--json"});
    EXPECT_EQ(csv.exit_code, 0) << csv.output;
    EXPECT_EQ(whole.exit_code, 0) << whole.output;
    if (csv_text) *csv_text = csv.output;
    const std::string csv_path = dir_.File(study + ".csv"), json_path = dir_.File(study + ".json");
    std::ofstream(csv_path) << csv.output;
    std::ofstream(json_path) << whole.output;
    ChildProcess python({PARZEN_PYTHON3, PARZEN_DATAFRAME_SCRIPT, csv_path, json_path,
                         std::to_string(objectives)},
                        dir_.File("python.out"));
    EXPECT_EQ(python.WaitFor(std::chrono::seconds(60)), 0) << python.Log();
    const std::string log = python.Log();
    const size_t last = log.rfind("\n{");
    return nlohmann::json::parse(last == std::string::npos ? log : log.substr(last + 1), nullptr,
                                 false);
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

  // Study "cli" (no pruner): #0 COMPLETE 0.5 with test_accuracy 0.97,
  // #1 COMPLETE 0.25, #2 FAIL.
  void ThreeTrials() {
    v1::CreateStudyRequest create;
    create.set_name("cli");
    create.mutable_pruner()->mutable_nop();
    ASSERT_TRUE(CreateStudy(*stub_, create).ok());
    AddTrial(0.5, 0.97);
    AddTrial(0.25);
    AddTrial(std::nullopt);
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
  ThreeTrials();

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
  EXPECT_EQ(Words(lines[0]),
            (std::vector<std::string>{"number", "value", "datetime_start", "datetime_complete",
                                      "duration", "params_lr", "params_optimizer",
                                      "user_attrs_test_accuracy", "state"}));
  EXPECT_EQ(Words(lines[1])[0], "0");
  EXPECT_EQ(Words(lines[1])[1], "0.5");
  EXPECT_EQ(Words(lines[1]).back(), "COMPLETE");
  EXPECT_EQ(Words(lines[1])[Words(lines[1]).size() - 2], "0.97");
  EXPECT_EQ(Words(lines[3]).back(), "FAIL");

  CliRun best = Parzen({"best", "cli"});
  ASSERT_EQ(best.exit_code, 0) << best.output;
  EXPECT_EQ(Lines(best.output)[0], "best trial of \"cli\": #1, value 0.25") << best.output;
  // Trial #1's own parameters, as the server holds them.
  std::vector<v1::Trial> all;
  ASSERT_TRUE(ListAllTrials(*stub_, "cli", &all).ok());
  ASSERT_EQ(all.size(), 3u);
  std::map<std::string, std::string> expected_params;
  for (const auto& p : all[1].params()) {
    if (p.value().has_double_value()) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.4g", p.value().double_value());
      expected_params[p.name()] = text;
    } else {
      expected_params[p.name()] = p.value().string_value();
    }
  }
  std::map<std::string, std::string> shown_params;
  for (const std::string& line : Lines(best.output)) {
    const std::vector<std::string> words = Words(line);
    if (words.size() == 3 && words[0] == "param") shown_params[words[1]] = words[2];
  }
  EXPECT_EQ(shown_params, expected_params) << best.output;
  EXPECT_EQ(shown_params.size(), 2u) << "lr and optimizer";

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

// The server ends a stream that falls --watch-backlog events behind, so a
// slow reader cannot hold unbounded memory; `parzen watch` then starts a
// new one and goes on from where the study is.
TEST(WatchBacklogTest, AWatchThatFellBehindIsResumed) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("w.db"), {"--watch-backlog", "1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("busy");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub, "busy", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
  const int64_t trial = ask.trial().trial_id();
  ChildProcess watch({PARZEN_CLI_BINARY, "--server", (*server)->address(), "watch", "busy"},
                     dir.File("watch.out"));
  ASSERT_TRUE(WaitUntil([&] { return watch.Log().find("#0 RUNNING") != std::string::npos; },
                        std::chrono::seconds(20)))
      << watch.Log();

  // Reports from several clients at once come faster than one stream
  // sends them, so a backlog of one overflows.
  std::atomic<int64_t> next_step{0};
  bool resumed = false;
  for (int round = 0; round < 20 && !resumed; ++round) {
    std::vector<std::thread> reporters;
    for (int t = 0; t < 8; ++t) {
      reporters.emplace_back([&] {
        auto reporter = (*server)->NewStub();
        for (int i = 0; i < 25; ++i) {
          v1::ReportIntermediateResponse r;
          EXPECT_TRUE(Report(*reporter, trial, next_step++, 0.5, &r).ok());
        }
      });
    }
    for (std::thread& r : reporters) r.join();
    resumed = WaitUntil(
        [&] { return watch.Log().find("watching again") != std::string::npos; },
        std::chrono::seconds(2));
  }
  ASSERT_TRUE(resumed) << watch.Log();
  EXPECT_NE(watch.Log().find("watcher fell more than 1 events behind"), std::string::npos)
      << watch.Log();
  ASSERT_TRUE(Tell(*stub, trial, v1::COMPLETE, {0.25}).ok());
  EXPECT_TRUE(WaitUntil(
      [&] { return watch.Log().find("#0 COMPLETE value 0.25") != std::string::npos; },
      std::chrono::seconds(20)))
      << watch.Log();
  watch.Signal(SIGTERM);
  watch.WaitFor(std::chrono::seconds(10));
}

// `trials` as Optuna's trials_dataframe(), in every state a trial can be in:
// the CSV read back by Python's csv module has exactly the columns Optuna
// 3.1 names for the same trials, and the cells pandas would hold.
TEST_F(CliTest, TrialsAsOptunasDataframe) {
  v1::CreateStudyRequest create;
  create.set_name("cli");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  auto ask = [&](v1::AskResponse* response) {
    return Ask(*stub_, "cli",
               {FloatSpec("lr", 1e-4, 1e-1, true), CategoricalSpec("optimizer", {"sgd", "adam"})},
               response);
  };
  v1::AskResponse complete;  // #0: COMPLETE 0.5, with a number and a text to quote
  ASSERT_TRUE(ask(&complete).ok());
  for (const auto& [key, text] : std::map<std::string, std::string>{{"note", "a,b \"q\""}, {"test_accuracy", ""}}) {
    grpc::ClientContext context;
    v1::SetTrialUserAttrRequest request;
    request.set_trial_id(complete.trial().trial_id());
    request.set_key(key);
    if (text.empty()) {
      request.mutable_value()->set_number_value(0.97);
    } else {
      request.mutable_value()->set_string_value(text);
    }
    v1::SetTrialUserAttrResponse response;
    ASSERT_TRUE(stub_->SetTrialUserAttr(&context, request, &response).ok());
  }
  ASSERT_TRUE(Tell(*stub_, complete.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
  v1::AskResponse pruned;  // #1: PRUNED at step 2, its value the last report
  ASSERT_TRUE(ask(&pruned).ok());
  v1::ReportIntermediateResponse reported;
  ASSERT_TRUE(Report(*stub_, pruned.trial().trial_id(), 1, 0.95, &reported).ok());
  ASSERT_TRUE(Report(*stub_, pruned.trial().trial_id(), 2, 0.9, &reported).ok());
  ASSERT_TRUE(Tell(*stub_, pruned.trial().trial_id(), v1::PRUNED, {}).ok());
  AddTrial(std::nullopt);  // #2 FAIL
  v1::AskResponse running;  // #3
  ASSERT_TRUE(ask(&running).ok());
  ASSERT_EQ(Parzen({"enqueue", "cli", "lr=0.01", "optimizer=sgd"}).exit_code, 0);  // #4 WAITING

  std::string csv;
  const nlohmann::json read = ReadBackCsv("cli", 1, &csv);
  ASSERT_FALSE(read.is_discarded());

  const std::vector<std::string> expected = {
      "number",      "value",            "datetime_start",           "datetime_complete",
      "duration",    "params_lr",        "params_optimizer",         "user_attrs_note",
      "user_attrs_test_accuracy", "state"};
  EXPECT_EQ(read["header"].get<std::vector<std::string>>(), expected);
  EXPECT_EQ(read["optuna_columns"].get<std::vector<std::string>>(), expected)
      << "Optuna 3.1 names the same trials' columns so";
  const nlohmann::json& rows = read["rows"];
  ASSERT_EQ(rows.size(), 5u) << csv;
  auto cell = [&](size_t row, const char* column) { return rows[row][column].get<std::string>(); };
  EXPECT_EQ(cell(0, "number"), "0");
  EXPECT_EQ(cell(0, "value"), "0.5");
  EXPECT_EQ(cell(0, "user_attrs_test_accuracy"), "0.97");
  EXPECT_EQ(cell(0, "user_attrs_note"), "a,b \"q\"") << "quoted, and read back whole";
  EXPECT_EQ(cell(0, "state"), "COMPLETE");
  EXPECT_TRUE(cell(0, "params_optimizer") == "sgd" || cell(0, "params_optimizer") == "adam");
  const double lr = std::stod(cell(0, "params_lr"));
  EXPECT_GE(lr, 1e-4);
  EXPECT_LE(lr, 1e-1);
  // pandas' forms: a Timestamp and a Timedelta as they print.
  const std::string start = cell(0, "datetime_start");
  ASSERT_EQ(start.size(), 26u) << start;  // 2026-12-03 20:20:55.740937
  EXPECT_EQ(start[10], ' ');
  EXPECT_EQ(start[19], '.');
  const std::string duration = cell(0, "duration");
  EXPECT_EQ(duration.rfind("0 days 00:00:", 0), 0u) << duration;
  EXPECT_EQ(duration.size(), 22u) << duration;  // 0 days 00:00:00.154448
  EXPECT_EQ(cell(1, "state"), "PRUNED");
  EXPECT_EQ(cell(1, "value"), "0.9");
  EXPECT_EQ(cell(2, "state"), "FAIL");
  EXPECT_EQ(cell(2, "value"), "");
  EXPECT_EQ(cell(3, "state"), "RUNNING");
  EXPECT_EQ(cell(3, "datetime_complete"), "");
  EXPECT_EQ(cell(3, "duration"), "");
  EXPECT_EQ(cell(4, "state"), "WAITING");
  EXPECT_EQ(cell(4, "datetime_start"), "");
  EXPECT_EQ(cell(4, "params_lr"), "0.01") << "the enqueued value";

  // JSON: the same rows, typed; filtered, sorted, cut.
  CliRun json = Parzen({"trials", "cli", "--format", "json", "--state", "complete,PRUNED",
                        "--sort", "value:desc"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const nlohmann::json records = nlohmann::json::parse(json.output, nullptr, false);
  ASSERT_TRUE(records.is_array()) << json.output;
  ASSERT_EQ(records.size(), 2u) << json.output;
  EXPECT_EQ(records[0]["number"], 1);
  EXPECT_EQ(records[0]["value"], 0.9);
  EXPECT_EQ(records[1]["number"], 0);
  EXPECT_EQ(records[1]["user_attrs_test_accuracy"], 0.97);
  EXPECT_TRUE(records[1]["params_lr"].is_number_float()) << records[1];
  EXPECT_TRUE(records[1]["params_optimizer"].is_string()) << records[1];
  CliRun failed = Parzen({"trials", "cli", "--format", "json", "--state", "fail"});
  const nlohmann::json fail_records = nlohmann::json::parse(failed.output, nullptr, false);
  ASSERT_EQ(fail_records.size(), 1u) << failed.output;
  EXPECT_TRUE(fail_records[0]["value"].is_null()) << fail_records[0];
  EXPECT_TRUE(fail_records[0]["user_attrs_note"].is_null()) << fail_records[0];
  CliRun best_one = Parzen({"trials", "cli", "--format", "csv", "--sort", "value", "--limit", "1"});
  ASSERT_EQ(Lines(best_one.output).size(), 2u) << best_one.output;
  EXPECT_EQ(Lines(best_one.output)[1].substr(0, 6), "0,0.5,") << best_one.output;

  // The table: the same columns, for people.
  CliRun table = Parzen({"trials", "cli", "--params", "optimizer", "--attrs", "test_accuracy"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(Words(Lines(table.output)[0]),
            (std::vector<std::string>{"number", "value", "datetime_start", "datetime_complete",
                                      "duration", "params_optimizer",
                                      "user_attrs_test_accuracy", "state"}));
  CliRun system = Parzen({"trials", "cli", "--format", "csv", "--system-attrs"});
  EXPECT_EQ(system.exit_code, 0) << system.output;
}

// A multi-objective study's values are values_0, values_1, ... as in Optuna.
TEST_F(CliTest, TrialsOfAMultiObjectiveStudyAsOptunasDataframe) {
  ASSERT_EQ(Parzen({"create", "mo", "--direction", "minimize", "--direction", "maximize",
                    "--pruner", "nop"})
                .exit_code,
            0);
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "mo", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
  ASSERT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::COMPLETE, {0.25, 0.75}).ok());
  ASSERT_TRUE(Ask(*stub_, "mo", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
  ASSERT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::FAIL, {}).ok());
  const nlohmann::json read = ReadBackCsv("mo", 2);
  ASSERT_FALSE(read.is_discarded());
  const std::vector<std::string> expected = {"number",   "values_0", "values_1",
                                             "datetime_start", "datetime_complete",
                                             "duration", "params_lr", "state"};
  EXPECT_EQ(read["header"].get<std::vector<std::string>>(), expected);
  EXPECT_EQ(read["optuna_columns"].get<std::vector<std::string>>(), expected);
  EXPECT_EQ(read["rows"][0]["values_0"], "0.25");
  EXPECT_EQ(read["rows"][0]["values_1"], "0.75");
  EXPECT_EQ(read["rows"][1]["values_1"], "");
}

// Scripts tell outcomes apart by exit code: 1 the server refused (an
// unknown study or trial), 2 bad usage, 3 no server.
TEST_F(CliTest, ExitCodesTellUsageRefusalAndNoServerApart) {
  ThreeTrials();
  EXPECT_EQ(Parzen({"trials", "nope"}).exit_code, 1);
  EXPECT_EQ(Parzen({"ask", "nope"}).exit_code, 1);
  EXPECT_EQ(Parzen({"tell", "cli", "99", "--values", "1"}).exit_code, 1);
  CliRun again = Parzen({"tell", "cli", "0", "--values", "1"});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("trial 0 of study \"cli\" is COMPLETE already"), std::string::npos)
      << again.output;
  EXPECT_EQ(Parzen({"tell", "cli", "0", "--values", "1", "--skip-if-finished"}).exit_code, 0);
  EXPECT_EQ(Parzen({"trials", "cli", "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Parzen({"trials", "cli", "--sort", "nope"}).exit_code, 2);
  EXPECT_EQ(Parzen({"trials", "cli", "--state", "done"}).exit_code, 2);
  EXPECT_EQ(Parzen({"trials", "cli", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Parzen({"tell", "cli", "1"}).exit_code, 2) << "COMPLETE needs values";
  EXPECT_EQ(Parzen({"ask", "cli", "--search-space", "{\"x\": 1}"}).exit_code, 2);
  EXPECT_EQ(Parzen({"help-me"}).exit_code, 2);
  EXPECT_EQ(Parzen({"--help"}).exit_code, 0);
  // Files the command line names that cannot be used are bad usage too.
  const CliRun no_token = Parzen({"--token-file", dir_.File("missing"), "trials", "cli"});
  EXPECT_EQ(no_token.exit_code, 2) << no_token.output;
  EXPECT_NE(no_token.output.find("cannot read token file"), std::string::npos) << no_token.output;
  const CliRun no_ca = Parzen({"--tls-ca", dir_.File("missing.pem"), "trials", "cli"});
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca.output;
  std::ofstream(dir_.File("cert.pem")) << "not a certificate\n";
  const CliRun half = Parzen({"--tls-cert", dir_.File("cert.pem"), "trials", "cli"});
  EXPECT_EQ(half.exit_code, 2) << half.output;
  EXPECT_NE(half.output.find("--tls-cert and --tls-key go together"), std::string::npos)
      << half.output;

  // Nothing listens on the port of a server that has stopped.
  const std::string address = server_->address();
  stub_.reset();
  server_->Terminate();
  server_.reset();
  std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", address, "trials", "cli"};
  ChildProcess cli(argv, dir_.File("unreachable.out"));
  EXPECT_EQ(cli.WaitFor(std::chrono::seconds(60)), 3) << cli.Log();
}

// `parzen health` is what the images' HEALTHCHECK runs: 0 while the server
// serves, 3 once nothing answers, within its --timeout-s.
TEST_F(CliTest, HealthTellsAServingServerFromNone) {
  const CliRun serving = Parzen({"health"});
  EXPECT_EQ(serving.exit_code, 0) << serving.output;
  EXPECT_EQ(serving.output, server_->address() + ": serving\n");

  const std::string address = server_->address();
  stub_.reset();
  server_->Terminate();
  server_.reset();
  const auto start = std::chrono::steady_clock::now();
  ChildProcess cli({PARZEN_CLI_BINARY, "--server", address, "health", "--timeout-s", "2"},
                   dir_.File("health.out"));
  EXPECT_EQ(cli.WaitFor(std::chrono::seconds(30)), 3) << cli.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20))
      << "--timeout-s bounds the wait";
  EXPECT_NE(cli.Log().find(address), std::string::npos) << cli.Log();
}

// Optuna's ask-and-tell CLI: a shell script is the worker. It asks until
// the study's budget is reached (ask then exits 1) and tells each trial
// its value; the server address comes from PARZEN_SERVER.
TEST_F(CliTest, AShellScriptAsksAndTellsAStudyToItsBudget) {
  ASSERT_EQ(Parzen({"create", "sh", "--max-trials", "6", "--pruner", "nop"}).exit_code, 0);
  const std::string cli = PARZEN_CLI_BINARY;
  const std::string script = R"sh(
set -u
export PARZEN_SERVER=")sh" + server_->address() + R"sh("
told=0
while out=$(")sh" + cli + R"sh(" ask sh --search-space '{"x": {"name": "FloatDistribution", "attributes": {"low": -1.0, "high": 1.0}}}'); do
  number=$(printf '%s' "$out" | sed -E 's/.*"number":([0-9]+).*/\1/')
  x=$(printf '%s' "$out" | sed -E 's/.*"x":([-0-9.e+]+).*/\1/')
  ")sh" + cli + R"sh(" tell sh "$number" --values "$(awk "BEGIN { printf \"%.17g\", ($x) * ($x) }")" || exit 9
  told=$((told + 1))
done
echo "told $told"
)sh";
  ChildProcess shell({"/bin/sh", "-c", script}, dir_.File("shell.out"));
  ASSERT_EQ(shell.WaitFor(std::chrono::seconds(120)), 0) << shell.Log();
  EXPECT_NE(shell.Log().find("told 6"), std::string::npos) << shell.Log();
  EXPECT_NE(shell.Log().find("budget"), std::string::npos) << "ask says why it stopped\n"
                                                           << shell.Log();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*stub_, "sh", &trials).ok());
  ASSERT_EQ(trials.size(), 6u);
  for (const v1::Trial& t : trials) {
    EXPECT_EQ(t.state(), v1::COMPLETE) << t.number();
    ASSERT_EQ(t.params_size(), 1);
    const double x = t.params(0).value().double_value();
    ASSERT_EQ(t.values_size(), 1);
    EXPECT_NEAR(t.values(0), x * x, 1e-12) << t.number();
  }
}

// Scripts read --json: one document on stdout, Optuna's field names, and
// the values as numbers, strings and nulls rather than table text.
TEST_F(CliTest, JsonForScripts) {
  ThreeTrials();
  auto json_of = [&](const std::vector<std::string>& args) {
    CliRun run = Parzen(args);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    nlohmann::json parsed = nlohmann::json::parse(run.output, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << run.output;
    return parsed;
  };

  const nlohmann::json trials = json_of({"trials", "cli", "--json"});
  ASSERT_TRUE(trials.is_array()) << trials;
  ASSERT_EQ(trials.size(), 3u) << trials;
  EXPECT_EQ(trials[0]["number"], 0);
  EXPECT_EQ(trials[0]["state"], "COMPLETE");
  EXPECT_EQ(trials[0]["values"], nlohmann::json::array({0.5}));
  EXPECT_EQ(trials[0]["user_attrs"]["test_accuracy"], 0.97);
  ASSERT_TRUE(trials[0]["params"]["lr"].is_number_float()) << trials[0];
  EXPECT_GE(trials[0]["params"]["lr"].get<double>(), 1e-4);
  EXPECT_LE(trials[0]["params"]["lr"].get<double>(), 1e-1);
  ASSERT_TRUE(trials[0]["params"]["optimizer"].is_string()) << trials[0];
  const std::string started = trials[0]["datetime_start"].get<std::string>();
  EXPECT_EQ(started.size(), 27u) << started;  // 2026-11-28T04:49:31.123456Z
  EXPECT_EQ(started.back(), 'Z') << started;
  EXPECT_EQ(trials[2]["state"], "FAIL");
  EXPECT_TRUE(trials[2]["values"].is_null()) << trials[2];

  const nlohmann::json best = json_of({"best", "cli", "--json"});
  EXPECT_EQ(best["number"], 1);
  EXPECT_EQ(best["values"], nlohmann::json::array({0.25}));

  const nlohmann::json status = json_of({"status", "cli", "--json"});
  EXPECT_EQ(status, nlohmann::json({{"study", "cli"},
                                    {"user_attrs", nlohmann::json::object()},
                                    {"trials", 3},
                                    {"running", 0},
                                    {"waiting", 0},
                                    {"complete", 2},
                                    {"pruned", 0},
                                    {"fail", 1}}));

  const nlohmann::json studies = json_of({"studies", "--json"});
  ASSERT_EQ(studies.size(), 1u) << studies;
  EXPECT_EQ(studies[0]["name"], "cli");
  EXPECT_EQ(studies[0]["directions"], nlohmann::json::array({"minimize"}));
  EXPECT_EQ(studies[0]["counts"]["trials"], 3);
  EXPECT_EQ(studies[0]["best_value"], 0.25);
}

TEST_F(CliTest, EnqueueHandsItsParametersToTheNextAsk) {
  v1::CreateStudyRequest create;
  create.set_name("cli");
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());

  CliRun enqueued = Parzen({"enqueue", "cli", "lr=0.01", "optimizer=adam"});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.output;
  EXPECT_EQ(enqueued.output,
            "enqueued trial #0 in study \"cli\"; the next Ask hands it out\n");
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "cli",
                  {FloatSpec("lr", 1e-4, 1e-1, true), CategoricalSpec("optimizer", {"sgd", "adam"})},
                  &ask)
                  .ok());
  EXPECT_EQ(ask.trial().number(), 0);
  ASSERT_EQ(ask.trial().params_size(), 2) << ask.DebugString();
  EXPECT_EQ(ask.trial().params(0).value().double_value(), 0.01) << ask.DebugString();
  EXPECT_EQ(ask.trial().params(1).value().string_value(), "adam") << ask.DebugString();

  // JSON scalars keep their type; quotes make a number-like text a string.
  ASSERT_EQ(Parzen({"enqueue", "cli", "batch=64", "tag=\"64\"", "fast=true"}).exit_code, 0);
  CliRun trials = Parzen({"trials", "cli", "--json"});
  const nlohmann::json waiting = nlohmann::json::parse(trials.output, nullptr, false);
  ASSERT_EQ(waiting.size(), 2u) << trials.output;
  EXPECT_EQ(waiting[1]["state"], "WAITING");
  const nlohmann::json& fixed = waiting[1]["enqueued_params"];
  EXPECT_TRUE(fixed["batch"].is_number_integer()) << fixed;
  EXPECT_EQ(fixed["batch"], 64);
  EXPECT_EQ(fixed["tag"], "64");
  EXPECT_EQ(fixed["fast"], true);

  for (const auto& [words, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"lr"}, "parzen: 'lr' is not NAME=VALUE\n"},
           {{"=1"}, "parzen: '=1' is not NAME=VALUE\n"},
           {{"lr=0.1", "lr=0.2"}, "parzen: parameter 'lr' is given twice\n"},
           {{"lr=[1,2]"}, "parzen: 'lr=[1,2]': a parameter value is a number, a bool or a string\n"},
       }) {
    std::vector<std::string> args = {"enqueue", "cli"};
    args.insert(args.end(), words.begin(), words.end());
    CliRun bad = Parzen(args);
    EXPECT_EQ(bad.exit_code, 1) << bad.output;
    EXPECT_EQ(bad.output, message);
  }
  // The server's own checks reach the user too.
  CliRun nan = Parzen({"enqueue", "cli", "lr=1e999"});
  EXPECT_EQ(nan.exit_code, 1) << nan.output;
  EXPECT_NE(nan.output.find("lr"), std::string::npos) << nan.output;
  // None of the refused ones was enqueued.
  ASSERT_EQ(nlohmann::json::parse(Parzen({"trials", "cli", "--json"}).output).size(), 2u);
}

// A multi-objective study has no single best trial; `best` shows its
// Pareto front (Optuna's best_trials), through GetStudy's best_trials.
TEST_F(CliTest, BestOfAMultiObjectiveStudyIsItsParetoFront) {
  ASSERT_EQ(Parzen({"create", "mo", "--direction", "minimize", "--direction", "maximize",
                    "--pruner", "nop"})
                .exit_code,
            0);
  CliRun empty = Parzen({"best", "mo"});
  EXPECT_EQ(empty.output, "study \"mo\" has no COMPLETE trial yet\n");
  // (loss, accuracy): #1 beats #0 in both; #2 trades loss for accuracy;
  // #3 ties #2; #4 is beaten by #1.
  const std::vector<std::pair<double, double>> values = {
      {0.5, 0.8}, {0.3, 0.9}, {0.6, 0.95}, {0.6, 0.95}, {0.4, 0.85}};
  for (const auto& [loss, accuracy] : values) {
    v1::AskResponse ask;
    ASSERT_TRUE(Ask(*stub_, "mo", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
    ASSERT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::COMPLETE, {loss, accuracy}).ok());
  }
  v1::AskResponse running;
  ASSERT_TRUE(Ask(*stub_, "mo", {FloatSpec("lr", 1e-4, 1e-1, true)}, &running).ok());

  v1::GetStudyResponse study;
  {
    grpc::ClientContext context;
    v1::GetStudyRequest request;
    request.set_name("mo");
    ASSERT_TRUE(stub_->GetStudy(&context, request, &study).ok());
  }
  EXPECT_FALSE(study.summary().has_best_trial());
  std::vector<int64_t> front;
  for (const v1::Trial& t : study.summary().best_trials()) front.push_back(t.number());
  EXPECT_EQ(front, (std::vector<int64_t>{1, 2, 3}));
  v1::GetStudyResponse counts_only;
  {
    grpc::ClientContext context;
    v1::GetStudyRequest request;
    request.set_name("mo");
    request.set_omit_best_trials(true);
    ASSERT_TRUE(stub_->GetStudy(&context, request, &counts_only).ok());
  }
  EXPECT_EQ(counts_only.summary().best_trials_size(), 0);
  EXPECT_EQ(counts_only.summary().n_complete(), 5);
  EXPECT_EQ(counts_only.summary().n_running(), 1);

  CliRun best = Parzen({"best", "mo"});
  ASSERT_EQ(best.exit_code, 0) << best.output;
  const std::vector<std::string> lines = Lines(best.output);
  ASSERT_EQ(lines.size(), 5u) << best.output;
  EXPECT_EQ(lines[0], "best trials of \"mo\" (the Pareto front, 3 of them):");
  EXPECT_EQ(Words(lines[1]), (std::vector<std::string>{"number", "value0", "(min)", "value1",
                                                        "(max)", "lr"}));
  EXPECT_EQ(Words(lines[2])[0], "1");
  EXPECT_EQ(Words(lines[2])[1], "0.3");
  EXPECT_EQ(Words(lines[2])[2], "0.9");
  EXPECT_EQ(Words(lines[4])[0], "3");
  CliRun trials = Parzen({"trials", "mo", "--params", "lr"});
  const std::vector<std::string> rows = Lines(trials.output);
  ASSERT_EQ(rows.size(), 7u) << trials.output;
  EXPECT_EQ(Words(rows[0])[1], "values_0");
  EXPECT_EQ(Words(rows[0])[2], "values_1");
  EXPECT_EQ(Words(rows[2])[1], "0.3") << "every objective, not the first only";
  EXPECT_EQ(Words(rows[2])[2], "0.9");
  EXPECT_EQ(Words(rows[6]).back(), "RUNNING");
  const nlohmann::json json = nlohmann::json::parse(Parzen({"best", "mo", "--json"}).output);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[1]["number"], 2);
  EXPECT_EQ(json[1]["values"], nlohmann::json::array({0.6, 0.95}));

  // Rebuilt from the database after a restart.
  stub_.reset();
  server_->Terminate();
  auto restarted = ServerProcess::Start(dir_.File("cli.db"), {"--log-level", "warning"});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  EXPECT_EQ(nlohmann::json::parse(Parzen({"best", "mo", "--json"}).output), json);
}

// Optuna's study set-user-attr and study.user_attrs: set from the CLI,
// shown by status, kept across a restart.
TEST_F(CliTest, StudyUserAttributes) {
  ASSERT_EQ(Parzen({"create", "tagged"}).exit_code, 0);
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "tagged", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
  ASSERT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
  CliRun set = Parzen({"set-attr", "tagged", "owner=alice", "budget=100"});
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_EQ(set.output, "set 2 user attributes of study \"tagged\"\n");
  ASSERT_EQ(Parzen({"set-attr", "tagged", "owner=bob"}).exit_code, 0);
  CliRun status = Parzen({"status", "tagged"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  const std::vector<std::string> lines = Lines(status.output);
  ASSERT_EQ(lines.size(), 3u) << status.output;
  EXPECT_EQ(lines[1], "  budget: 100") << status.output;
  EXPECT_EQ(lines[2], "  owner: \"bob\"");
  CliRun bad = Parzen({"set-attr", "nope", "owner=alice"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("nope"), std::string::npos) << bad.output;
  // The first refusal names its key too, though the server's message may not.
  CliRun too_long = Parzen({"set-attr", "tagged", std::string(600, 'k') + "=1"});
  EXPECT_EQ(too_long.exit_code, 1);
  EXPECT_EQ(too_long.output.rfind("parzen: '" + std::string(600, 'k') + "' was not set: ", 0), 0u)
      << too_long.output;
  // Bytes that are not UTF-8 are refused with a message, not a crash.
  for (const std::string& command : {std::string("set-attr"), std::string("enqueue")}) {
    CliRun not_utf8 = Parzen({command, "tagged", "ok=1", "k=a\xff" "b"});
    EXPECT_EQ(not_utf8.exit_code, 1) << command;
    EXPECT_EQ(not_utf8.output, "parzen: argument 2 after the study name is not valid UTF-8\n")
        << command;
  }

  // Any JSON value, as Optuna's set_user_attr takes any JSON-able one.
  CliRun json_values =
      Parzen({"set-attr", "tagged", "tags=[\"cnn\",\"mnist\"]", "limits={\"gpu\":0}", "notes=null"});
  ASSERT_EQ(json_values.exit_code, 0) << json_values.output;
  const nlohmann::json attrs = nlohmann::json::parse(Parzen({"status", "tagged", "--json"}).output);
  EXPECT_EQ(attrs["user_attrs"]["tags"], nlohmann::json({"cnn", "mnist"})) << attrs;
  EXPECT_EQ(attrs["user_attrs"]["limits"], nlohmann::json({{"gpu", 0}})) << attrs;
  EXPECT_TRUE(attrs["user_attrs"]["notes"].is_null()) << attrs;
  CliRun twice = Parzen({"set-attr", "tagged", "a=1", "a=2"});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_EQ(twice.output, "parzen: attribute 'a' is given twice\n");
  // Refused part-way: the message says what was set before.
  CliRun partway = Parzen({"set-attr", "tagged", "first=1", "bad\tkey=2", "last=3"});
  EXPECT_EQ(partway.exit_code, 1);
  EXPECT_NE(partway.output.find("'bad\tkey' was not set: "), std::string::npos) << partway.output;
  EXPECT_NE(partway.output.find("control characters (byte 3;"), std::string::npos)
      << partway.output;
  EXPECT_NE(partway.output.find("(already set: first)"), std::string::npos) << partway.output;
  const nlohmann::json after = nlohmann::json::parse(Parzen({"status", "tagged", "--json"}).output);
  EXPECT_EQ(after["user_attrs"]["first"], 1);
  EXPECT_FALSE(after["user_attrs"].contains("last"));

  stub_.reset();
  server_->Terminate();
  auto restarted = ServerProcess::Start(dir_.File("cli.db"), {"--log-level", "warning"});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  const nlohmann::json json = nlohmann::json::parse(Parzen({"status", "tagged", "--json"}).output);
  EXPECT_EQ(json["user_attrs"]["budget"], 100) << json;
  EXPECT_EQ(json["user_attrs"]["owner"], "bob") << json;
  EXPECT_EQ(json["user_attrs"].size(), 6u) << json;
  EXPECT_EQ(json["complete"], 1) << "setting attributes kept the study's trials";
}

// Optuna's create-study and delete-study, checked through what the server
// then holds.
TEST_F(CliTest, CreateAndDeleteStudies) {
  CliRun created = Parzen({"create", "two", "--direction", "minimize", "--direction", "maximize",
                           "--pruner", "nop", "--max-trials", "7"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(created.output, "created study \"two\" (minimize,maximize)\n");
  v1::GetStudyResponse two;
  {
    grpc::ClientContext context;
    v1::GetStudyRequest request;
    request.set_name("two");
    ASSERT_TRUE(stub_->GetStudy(&context, request, &two).ok());
  }
  ASSERT_EQ(two.study().directions_size(), 2);
  EXPECT_EQ(two.study().directions(1), v1::MAXIMIZE);
  EXPECT_EQ(two.study().max_trials(), 7);
  EXPECT_TRUE(two.study().pruner().has_nop()) << two.DebugString();

  CliRun again = Parzen({"create", "two"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.output,
            "parzen: study \"two\" already exists (--skip-if-exists leaves it as it is)\n");
  CliRun kept = Parzen({"create", "two", "--skip-if-exists", "--max-trials", "1"});
  EXPECT_EQ(kept.exit_code, 0) << kept.output;
  EXPECT_EQ(kept.output, "study \"two\" already exists; left as it is\n");

  const std::string config = dir_.File("study.json");
  std::ofstream(config)
      << R"({"directions": ["MAXIMIZE"], "pruner": {"percentile": {"percentile": 25}}})";
  ASSERT_EQ(Parzen({"create", "from-file", "--config", config}).exit_code, 0);
  // The file may say to load the study if it is there; the flag is not needed then.
  const std::string loading = dir_.File("loading.json");
  std::ofstream(loading) << R"({"load_if_exists": true})";
  CliRun reloaded = Parzen({"create", "from-file", "--config", loading});
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.output;
  EXPECT_EQ(reloaded.output, "study \"from-file\" already exists; left as it is\n");
  CliRun bad = Parzen({"create", "bad", "--pruner", "percentile"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("percentile=P"), std::string::npos) << bad.output;

  CliRun studies = Parzen({"studies", "--json"});
  const nlohmann::json listed = nlohmann::json::parse(studies.output, nullptr, false);
  ASSERT_EQ(listed.size(), 2u) << studies.output;
  EXPECT_EQ(listed[0]["name"], "from-file");
  EXPECT_EQ(listed[0]["directions"], nlohmann::json::array({"maximize"}));

  CliRun deleted = Parzen({"delete", "two"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_EQ(deleted.output, "deleted study \"two\" and its trials\n");
  CliRun gone = Parzen({"delete", "two"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.output.find("does not exist"), std::string::npos) << gone.output;
  EXPECT_EQ(nlohmann::json::parse(Parzen({"studies", "--json"}).output).size(), 1u);
}

// parzen create takes parzen-worker's study flags, with the same defaults:
// a lost worker's trial is reaped after 60 s and run once more.
TEST_F(CliTest, CreateTakesTheWorkersStudyFlagsAndDefaults) {
  ASSERT_EQ(Parzen({"create", "defaults"}).exit_code, 0);
  ASSERT_EQ(Parzen({"create", "two-objectives", "--direction", "minimize", "--direction", "maximize"})
                .exit_code,
            0);
  CliRun set = Parzen({"create", "set", "--sampler", "random:seed=11", "--heartbeat-grace", "5",
                       "--max-retries", "2"});
  ASSERT_EQ(set.exit_code, 0) << set.output;
  auto study = [this](const std::string& name) {
    grpc::ClientContext context;
    v1::GetStudyRequest request;
    request.set_name(name);
    v1::GetStudyResponse response;
    EXPECT_TRUE(stub_->GetStudy(&context, request, &response).ok());
    return response.study();
  };
  const v1::Study defaults = study("defaults");
  EXPECT_EQ(defaults.heartbeat_grace_seconds(), 60);
  EXPECT_EQ(defaults.max_retries(), 1);
  EXPECT_TRUE(defaults.pruner().has_median());
  // Optuna's default samplers: TPE for one objective, NSGA-II for several.
  EXPECT_TRUE(defaults.sampler().has_tpe()) << defaults.sampler().ShortDebugString();
  EXPECT_TRUE(study("two-objectives").sampler().has_nsga2());
  const v1::Study chosen = study("set");
  EXPECT_EQ(chosen.sampler().random().seed(), 11u);
  EXPECT_EQ(chosen.heartbeat_grace_seconds(), 5);
  EXPECT_EQ(chosen.max_retries(), 2);
  // The help lists what this build knows, with Optuna's defaults.
  CliRun help = Parzen({"create", "--help"});
  EXPECT_NE(help.output.find("median[:n_startup_trials=5,n_warmup_steps=0"), std::string::npos)
      << help.output;
}

// Clients on the server's own machine can use a unix socket: no port to
// pick, and file permissions decide who may connect.
TEST(UnixSocketTest, ServerAndCliSpeakOverAUnixSocket) {
  TempDir dir;
  const std::string address = "unix:" + dir.File("parzen.sock");
  ChildProcess server({BinaryPath("parzen-server"), "--db", dir.File("u.db"), "--listen", address},
                      dir.File("server.log"));
  auto cli = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", address};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess run(argv, dir.File("cli.log"));
    return CliRun{run.WaitFor(std::chrono::seconds(30)).value_or(-2), run.Log()};
  };
  // The line comes once the server answers, and names the socket as given.
  const std::string listening = "listening on " + address + ", database";
  ASSERT_TRUE(WaitUntil([&] { return server.Log().find(listening) != std::string::npos; },
                        std::chrono::seconds(30)))
      << server.Log();
  EXPECT_TRUE(std::filesystem::exists(dir.File("parzen.sock")));
  CliRun created = cli({"create", "local"});
  ASSERT_EQ(created.exit_code, 0) << created.output << server.Log();
  CliRun studies = cli({"studies", "--json"});
  ASSERT_EQ(studies.exit_code, 0) << studies.output;
  EXPECT_EQ(nlohmann::json::parse(studies.output, nullptr, false)[0]["name"], "local");

  // A second server on the same path is refused before it opens its
  // database; the first keeps its socket and goes on answering.
  {
    ChildProcess second(
        {BinaryPath("parzen-server"), "--db", dir.File("second.db"), "--listen", address},
        dir.File("second.log"));
    EXPECT_EQ(second.WaitFor(std::chrono::seconds(30)), 2) << "it took the socket over";
    EXPECT_NE(second.Log().find("another server is listening on " + address), std::string::npos)
        << second.Log();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("second.db")));
  CliRun still = cli({"studies", "--json"});
  ASSERT_EQ(still.exit_code, 0) << still.output << server.Log();
  EXPECT_EQ(nlohmann::json::parse(still.output, nullptr, false)[0]["name"], "local");

  // A unix socket has no port to write.
  std::string port_file_output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("third.db"), "--listen",
                                      "unix:" + dir.File("third.sock"), "--port-file",
                                      dir.File("port")},
                                     &port_file_output),
            2);
  EXPECT_NE(port_file_output.find("--port-file needs a TCP --listen address"), std::string::npos)
      << port_file_output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("port")));

  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitFor(std::chrono::seconds(30)), 0) << server.Log();
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
