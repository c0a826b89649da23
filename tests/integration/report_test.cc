// `parzen report` of real studies, opened in Debian's Chromium through
// playwright-core (tests/browser/open_report.mjs): no console errors, every
// plot drawn with the points its trials give, the importances ranking the
// one parameter that decides the objective first. Screenshots go to
// test-artifacts/ in the build directory.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("report.db"), {"--log-level", "warning"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    std::filesystem::create_directories(PARZEN_TEST_ARTIFACTS_DIR);
  }
  void TearDown() override {
    stub_.reset();
    if (server_) server_->Terminate();
  }

  int Parzen(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess cli(argv, dir_.File("cli.out"));
    const int code = cli.WaitFor(std::chrono::seconds(60)).value_or(-2);
    EXPECT_EQ(code, 0) << cli.Log();
    return code;
  }

  // The report of `study` as the browser saw it ({"launched": false, ...}
  // when Chromium cannot start here).
  nlohmann::json OpenReport(const std::string& study, const std::string& shot) {
    const std::string html = dir_.File(study + ".html");
    if (Parzen({"report", study, "-o", html}) != 0) return nullptr;
    const std::string png = std::string(PARZEN_TEST_ARTIFACTS_DIR) + "/" + shot;
    ChildProcess node({"node", PARZEN_BROWSER_DIR "/open_report.mjs", html, png, "120000"},
                      dir_.File("node.out"));
    const std::optional<int> code = node.WaitFor(std::chrono::seconds(180));
    const std::string log = node.Log();
    const size_t line = log.rfind("\n{\"launched\"");
    const nlohmann::json seen = nlohmann::json::parse(
        line == std::string::npos ? log : log.substr(line + 1), nullptr, false);
    if (code == 3) return seen;
    EXPECT_EQ(code, 0) << log;
    EXPECT_FALSE(seen.is_discarded()) << log;
    EXPECT_GT(std::filesystem::file_size(png), 10'000u) << "the screenshot " << png;
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
};

std::vector<int64_t> Points(const nlohmann::json& plot) {
  std::vector<int64_t> out;
  for (const auto& t : plot["traces"]) out.push_back(t["points"].get<int64_t>());
  return out;
}

// One parameter (a) decides the objective; b and c are noise. Beside the
// 60 COMPLETE trials: 3 PRUNED after two reports, 2 FAIL, 1 RUNNING, 1
// WAITING.
TEST_F(ReportTest, EveryPlotOfAStudyIsDrawnInChromium) {
  v1::CreateStudyRequest create;
  create.set_name("rep");
  create.mutable_pruner()->mutable_nop();
  create.mutable_sampler()->mutable_random()->set_seed(7);
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  auto ask = [&](v1::AskResponse* response) {
    return Ask(*stub_, "rep",
               {FloatSpec("a", 0, 1), FloatSpec("b", 1e-3, 1, true),
                CategoricalSpec("c", {"u", "v", "w"})},
               response);
  };
  for (int i = 0; i < 60; ++i) {
    v1::AskResponse r;
    ASSERT_TRUE(ask(&r).ok());
    double a = 0, b = 0;
    for (const auto& p : r.trial().params()) {
      if (p.name() == "a") a = p.value().double_value();
      if (p.name() == "b") b = p.value().double_value();
    }
    ASSERT_TRUE(Tell(*stub_, r.trial().trial_id(), v1::COMPLETE,
                     {10 * (a - 0.3) * (a - 0.3) + 0.001 * b})
                    .ok());
  }
  for (int i = 0; i < 3; ++i) {
    v1::AskResponse r;
    ASSERT_TRUE(ask(&r).ok());
    v1::ReportIntermediateResponse reported;
    ASSERT_TRUE(Report(*stub_, r.trial().trial_id(), 0, 5.0, &reported).ok());
    ASSERT_TRUE(Report(*stub_, r.trial().trial_id(), 1, 4.0, &reported).ok());
    ASSERT_TRUE(Tell(*stub_, r.trial().trial_id(), v1::PRUNED, {}).ok());
  }
  for (int i = 0; i < 2; ++i) {
    v1::AskResponse r;
    ASSERT_TRUE(ask(&r).ok());
    ASSERT_TRUE(Tell(*stub_, r.trial().trial_id(), v1::FAIL, {}).ok());
  }
  v1::AskResponse running;
  ASSERT_TRUE(ask(&running).ok());
  ASSERT_EQ(Parzen({"enqueue", "rep", "a=0.3", "b=0.01", "c=u"}), 0);

  const nlohmann::json seen = OpenReport("rep", "report.png");
  ASSERT_TRUE(seen.is_object());
  if (!seen["launched"].get<bool>()) GTEST_SKIP() << "Chromium cannot start here: " << seen["why"];
  EXPECT_EQ(seen["errors"], nlohmann::json::array()) << "console errors";
  const nlohmann::json& plots = seen["plots"];
  for (const char* id : {"history", "intermediate", "parallel", "contour-0", "slice", "importance",
                         "edf", "timeline"}) {
    ASSERT_TRUE(plots.contains(id)) << id << " missing from " << plots;
    EXPECT_EQ(plots[id]["containers"], 1) << id << " not drawn";
  }
  EXPECT_EQ(Points(plots["history"]), (std::vector<int64_t>{60, 60}));  // values, best so far
  EXPECT_EQ(Points(plots["intermediate"]), (std::vector<int64_t>{2, 2, 2}));  // 3 pruned trials
  EXPECT_EQ(Points(plots["parallel"]), (std::vector<int64_t>{60}));
  EXPECT_EQ(Points(plots["slice"]), (std::vector<int64_t>{60, 60, 60}));
  EXPECT_EQ(Points(plots["edf"]), (std::vector<int64_t>{60}));
  EXPECT_EQ(Points(plots["importance"]), (std::vector<int64_t>{3}));
  int64_t bars = 0;
  for (int64_t p : Points(plots["timeline"])) bars += p;
  EXPECT_EQ(bars, 66) << "every started trial: 60 + 3 + 2 + 1";
  EXPECT_EQ(Points(plots["contour-0"])[1], 60);
  EXPECT_EQ(seen["tableRows"], 67);
  EXPECT_FALSE(plots.contains("pareto"));

  // The parameter that decides the objective ranks first, and the contours
  // pair it with the others.
  ASSERT_EQ(seen["importance"].size(), 3u);
  EXPECT_EQ(seen["importance"][0], "a") << seen["importance"];
  ASSERT_FALSE(seen["contours"].empty());
  int with_a = 0;
  for (const auto& pair : seen["contours"]) with_a += pair[0] == "a" || pair[1] == "a";
  EXPECT_GE(with_a, 2) << seen["contours"];
}

TEST_F(ReportTest, AMultiObjectiveStudyShowsItsParetoFront) {
  ASSERT_EQ(Parzen({"create", "mo", "--direction", "minimize", "--direction", "maximize",
                    "--pruner", "nop"}),
            0);
  // (loss, accuracy): #1 beats #0 and #3; #2 trades loss for accuracy.
  const std::vector<std::pair<double, double>> values = {
      {0.5, 0.8}, {0.3, 0.9}, {0.6, 0.95}, {0.4, 0.85}};
  for (const auto& [loss, accuracy] : values) {
    v1::AskResponse r;
    ASSERT_TRUE(Ask(*stub_, "mo", {FloatSpec("lr", 1e-4, 1e-1, true)}, &r).ok());
    ASSERT_TRUE(Tell(*stub_, r.trial().trial_id(), v1::COMPLETE, {loss, accuracy}).ok());
  }
  const nlohmann::json seen = OpenReport("mo", "report-multi-objective.png");
  ASSERT_TRUE(seen.is_object());
  if (!seen["launched"].get<bool>()) GTEST_SKIP() << "Chromium cannot start here: " << seen["why"];
  EXPECT_EQ(seen["errors"], nlohmann::json::array()) << "console errors";
  const nlohmann::json& plots = seen["plots"];
  ASSERT_TRUE(plots.contains("pareto")) << plots;
  EXPECT_EQ(Points(plots["pareto"]), (std::vector<int64_t>{2, 2})) << "dominated, front";
  EXPECT_EQ(Points(plots["history"]), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(Points(plots["history-1"]), (std::vector<int64_t>{4, 4}));
}

// Names are the user's: a study and a parameter named to close the page's
// script or open an HTML comment in it still give a page that draws.
TEST_F(ReportTest, NamesCannotBreakThePage) {
  const std::string study = "x<!--<script>y";
  v1::CreateStudyRequest create;
  create.set_name(study);
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  for (double value : {2.0, 1.0}) {
    v1::AskResponse r;
    ASSERT_TRUE(Ask(*stub_, study, {FloatSpec("a</script><!--", 0, 1)}, &r).ok());
    ASSERT_TRUE(Tell(*stub_, r.trial().trial_id(), v1::COMPLETE, {value}).ok());
  }
  const nlohmann::json seen = OpenReport(study, "report-hostile-names.png");
  ASSERT_TRUE(seen.is_object());
  if (!seen["launched"].get<bool>()) GTEST_SKIP() << "Chromium cannot start here: " << seen["why"];
  EXPECT_EQ(seen["errors"], nlohmann::json::array()) << "console errors";
  EXPECT_EQ(Points(seen["plots"]["history"]), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(seen["tableRows"], 2);
  EXPECT_NE(seen["summary"].get<std::string>().find("a</script><!--=0."), std::string::npos)
      << seen["summary"];
}

}  // namespace
}  // namespace parzen::testing
