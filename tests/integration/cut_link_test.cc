// What a cut network link does to a long call: `parzen watch` on another
// host notices the silence by its keepalive pings (without them a quiet
// watch waits forever), reconnects once the link is back, and prints what
// happened meanwhile, once; the server's pings end its side of the stream.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/virtual_hosts.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

using std::chrono::seconds;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A run killed before its clean-up leaves a bridge holding the test
// subnet and its namespaces; the next run clears them instead of failing
// on a network that routes its packets to the dead run's bridge.
TEST(VirtualHostsTest, WhatAKilledRunLeftBehindIsCleared) {
  if (std::system("ip netns list >/dev/null 2>&1") != 0 || geteuid() != 0) {
    GTEST_SKIP() << "network namespaces unavailable here; this test needs root, as in CI";
  }
  // A shell that dies at once leaves these under its own pid's tag.
  const char* script =
      "t=$(($$ % 100000)); ip link add pz${t}br type bridge && "
      "ip addr add 10.201.0.254/24 dev pz${t}br && ip link set pz${t}br up && "
      "ip netns add pz${t}-h1 && echo $t";
  std::unique_ptr<FILE, int (*)(FILE*)> shell(popen(script, "r"), pclose);
  ASSERT_NE(shell, nullptr);
  char tag[16] = {};
  ASSERT_NE(std::fgets(tag, sizeof tag, shell.get()), nullptr) << "could not make the leftovers";
  shell.reset();
  const std::string stale = "pz" + std::string(tag, std::strcspn(tag, "\n"));
  ASSERT_TRUE(std::filesystem::exists("/sys/class/net/" + stale + "br"));

  VirtualHosts net;
  std::string error;
  ASSERT_TRUE(net.CreateBridge(&error)) << error;
  ASSERT_TRUE(net.AddHost("h1", 11, &error)) << error;
  EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + stale + "br"));
  EXPECT_FALSE(std::filesystem::exists("/var/run/netns/" + stale + "-h1"));
}

// Names hold only the pid modulo 100,000, so a leftover's tag can match a
// live process by chance (here init's, pid 1); the bridge's alias, which
// names the whole pid of the run that made it, says it is dead.
TEST(VirtualHostsTest, ALeftoverWhoseTagMatchesALiveProcessIsStillCleared) {
  if (std::system("ip netns list >/dev/null 2>&1") != 0 || geteuid() != 0) {
    GTEST_SKIP() << "network namespaces unavailable here; this test needs root, as in CI";
  }
  std::system("ip link del pz1br >/dev/null 2>&1; ip netns del pz1-h1 >/dev/null 2>&1");
  ASSERT_EQ(std::system("sh -c 'ip link add pz1br type bridge && "
                        "ip link set pz1br alias parzen-test-pid=$$ && ip netns add pz1-h1'"),
            0);
  ASSERT_TRUE(std::filesystem::exists("/sys/class/net/pz1br"));

  VirtualHosts net;
  std::string error;
  ASSERT_TRUE(net.CreateBridge(&error)) << error;
  EXPECT_FALSE(std::filesystem::exists("/sys/class/net/pz1br"));
  EXPECT_FALSE(std::filesystem::exists("/var/run/netns/pz1-h1"));
}

TEST(CutLinkTest, WatchNoticesALostLinkAndCatchesUpAfter) {
  VirtualHosts net;
  std::string error;
  if (!net.CreateBridge(&error) || !net.AddHost("srv", 1, &error) ||
      !net.AddHost("h1", 11, &error)) {
    GTEST_SKIP() << "network namespaces unavailable here (" << error
                 << "); this test needs root, as in CI";
  }
  TempDir dir;
  auto server =
      ServerProcess::Start(dir.File("cut.db"), {"--log-level", "info", "--keepalive-s", "2"},
                           {net.Exec("srv"), VirtualHosts::Address(1)});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("watched");
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  v1::AskResponse first;
  ASSERT_TRUE(Ask(*stub, "watched", {FloatSpec("lr", 1e-4, 1e-1, true)}, &first).ok());

  std::vector<std::string> argv = net.Exec("h1");
  argv.insert(argv.end(), {PARZEN_CLI_BINARY, "--server", (*server)->address(), "--keepalive-s",
                           "5", "watch", "watched"});
  ChildProcess watch(argv, dir.File("watch.out"));
  ASSERT_TRUE(
      WaitUntil([&] { return watch.Log().find("#0 RUNNING") != std::string::npos; }, seconds(30)))
      << watch.Log();

  // A quiet watch keeps its connection through more pings than gRPC's
  // defaults allow (the client stops after two pings without data; the
  // server calls a third within 5 min abuse)...
  std::this_thread::sleep_for(seconds(17));
  EXPECT_EQ(watch.Log().find("watch: connection lost"), std::string::npos) << watch.Log();
  // ...and so a link lost after that is still noticed.
  ASSERT_TRUE(net.CutLink("h1"));
  // The server's own pings (every 2 s here; nothing else is sent) end the
  // stream on its side, which frees the thread and the slot it held.
  EXPECT_TRUE(WaitUntil(
      [&] { return (*server)->Log().find("ended: the client went away") != std::string::npos; },
      seconds(30)))
      << (*server)->Log();
  ASSERT_TRUE(Tell(*stub, first.trial().trial_id(), v1::COMPLETE, {0.25}).ok());
  v1::AskResponse second;
  ASSERT_TRUE(Ask(*stub, "watched", {FloatSpec("lr", 1e-4, 1e-1, true)}, &second).ok());
  // The client pings every 5 s and gives up after 5 s more without an answer.
  ASSERT_TRUE(WaitUntil(
      [&] { return watch.Log().find("watch: connection lost") != std::string::npos; }, seconds(40)))
      << watch.Log();
  EXPECT_EQ(watch.Log().find("#0 COMPLETE"), std::string::npos) << watch.Log();

  ASSERT_TRUE(net.RestoreLink("h1"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string log = watch.Log();
        return log.find("#0 COMPLETE") != std::string::npos &&
               log.find("#1 RUNNING") != std::string::npos;
      },
      seconds(60)))
      << watch.Log();
  const std::string log = watch.Log();
  EXPECT_EQ(Count(log, "#0 RUNNING"), 1u) << "the new stream's snapshot was printed again\n" << log;
  EXPECT_EQ(Count(log, "#0 COMPLETE"), 1u) << log;
  EXPECT_NE(log.find("watch: reconnected"), std::string::npos) << log;
  EXPECT_TRUE(watch.running()) << log;
  watch.Signal(SIGTERM);
  watch.WaitFor(seconds(10));
}

}  // namespace
}  // namespace parzen::testing
