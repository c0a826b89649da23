// `parzen dashboard` against a real server, in Debian's Chromium through
// playwright-core (tests/browser/watch_dashboard.mjs): the list shows the
// study with its counts, and the study's page shows a trial that finishes
// after the page was opened, pushed over the event stream, without a
// reload. Screenshots go to test-artifacts/ in the build directory.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

// The JSON line of `node`'s output whose "stage" is `stage`.
nlohmann::json Stage(const std::string& log, const std::string& stage) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && (j.value("stage", "") == stage || !j.value("launched", true))) return j;
  }
  return nullptr;
}

TEST(DashboardTest, AStudyPageShowsATrialThatFinishesAfterItOpened) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("dash.db"), {"--log-level", "warning"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("live");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  auto add = [&](double value) {
    v1::AskResponse r;
    ASSERT_TRUE(Ask(*stub, "live", {FloatSpec("x", -1, 1)}, &r).ok());
    ASSERT_TRUE(Tell(*stub, r.trial().trial_id(), v1::COMPLETE, {value}).ok());
  };
  for (int i = 0; i < 5; ++i) add(1.0 + i);

  const std::string port_file = dir.File("dashboard.port");
  ChildProcess dashboard({PARZEN_CLI_BINARY, "--server", (*server)->address(), "dashboard",
                          "--listen", "127.0.0.1:0", "--port-file", port_file},
                         dir.File("dashboard.out"));
  ASSERT_TRUE(WaitUntil([&] { return !ReadFileOrEmpty(port_file).empty(); }, std::chrono::seconds(10)))
      << dashboard.Log();
  const std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(ReadFileOrEmpty(port_file)));
  EXPECT_NE(dashboard.Log().find("parzen dashboard: " + base + "/"), std::string::npos) << dashboard.Log();

  std::filesystem::create_directories(PARZEN_TEST_ARTIFACTS_DIR);
  ChildProcess node({"node", PARZEN_BROWSER_DIR "/watch_dashboard.mjs", base, "live",
                     PARZEN_TEST_ARTIFACTS_DIR, "90000"},
                    dir.File("node.out"));
  nlohmann::json drawn;
  ASSERT_TRUE(WaitUntil(
      [&] {
        drawn = Stage(node.Log(), "drawn");
        return !drawn.is_null() || !node.running();
      },
      std::chrono::seconds(120)))
      << node.Log();
  ASSERT_FALSE(drawn.is_null()) << node.Log();
  if (!drawn["launched"].get<bool>()) GTEST_SKIP() << "Chromium cannot start here: " << drawn["why"];
  EXPECT_EQ(drawn["history"], 5);
  // The list: name, directions, then trials, running, waiting, complete...
  ASSERT_GE(drawn["listRow"].size(), 6u) << drawn;
  EXPECT_EQ(drawn["listRow"][0], "live");
  EXPECT_EQ(drawn["listRow"][2], "5");

  add(0.5);  // after the page was drawn
  ASSERT_EQ(node.WaitFor(std::chrono::seconds(120)), 0) << node.Log();
  const nlohmann::json updated = Stage(node.Log(), "updated");
  ASSERT_FALSE(updated.is_null()) << node.Log();
  EXPECT_EQ(updated["errors"], nlohmann::json::array()) << "console errors";
  EXPECT_EQ(updated["history"], 6);
  EXPECT_EQ(updated["tableRows"], 6);
  EXPECT_EQ(updated["marker"], "still here") << "the page was reloaded";
  EXPECT_EQ(updated["navigations"], 1) << "the page was reloaded";
  EXPECT_GE(updated["renders"].get<int>(), 2);
  EXPECT_GE(updated["events"].get<int>(), 6) << "5 trials at the start, then the new one";
  for (const char* shot : {"dashboard-list.png", "dashboard-study.png"}) {
    EXPECT_GT(std::filesystem::file_size(std::string(PARZEN_TEST_ARTIFACTS_DIR) + "/" + shot),
              10'000u)
        << shot;
  }
  dashboard.Signal(SIGTERM);
  EXPECT_EQ(dashboard.WaitFor(std::chrono::seconds(10)), 0) << dashboard.Log();
}

// What lets the dashboard drop the stream of a page that closed: a watch
// on a study where nothing happens ends as soon as another thread cancels
// it, not at the study's next change.
TEST(DashboardTest, ACancelledWatchEndsWhileItsStudyIsQuiet) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("quiet.db"), {"--log-level", "warning"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("quiet");
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  v1::AskResponse r;
  ASSERT_TRUE(Ask(*stub, "quiet", {FloatSpec("x", 0, 1)}, &r).ok());
  ASSERT_TRUE(Tell(*stub, r.trial().trial_id(), v1::COMPLETE, {1.0}).ok());

  client::ClientOptions options;
  options.address = (*server)->address();
  auto connected = client::Client::Connect(options);
  auto study = connected->LoadStudy("quiet");
  ASSERT_TRUE(study.ok()) << study.status();
  client::WatchCancel cancel;
  std::atomic<int> seen{0};
  auto watching = std::async(std::launch::async, [&] {
    return study->Watch([&](const client::TrialChange&) {
      ++seen;
      return true;
    }, &cancel);
  });
  ASSERT_TRUE(WaitUntil([&] { return seen.load() == 1; }, std::chrono::seconds(10)));
  cancel.Cancel();
  ASSERT_EQ(watching.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the watch waited for a change that never comes";
  EXPECT_TRUE(watching.get().ok());
  EXPECT_EQ(seen.load(), 1);
  // Cancelled before it starts: it does not start.
  EXPECT_TRUE(study->Watch([](const client::TrialChange&) { return true; }, &cancel).ok());
}

}  // namespace
}  // namespace parzen::testing
