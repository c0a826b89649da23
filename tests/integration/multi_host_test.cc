// A server host and two worker hosts, each its own network namespace with
// its own address, joined by veth pairs on a bridge: workers reach the
// server only by its address. Cutting one worker host's link mid-trial gets
// its trial reaped and re-run on the other host.
#include <gtest/gtest.h>

#include "tests/integration/worker_cluster.h"
#include "tests/testing/virtual_hosts.h"

namespace parzen::testing {
namespace {

using std::chrono::seconds;

TEST(MultiHostTest, CutLinkGetsTheTrialReapedAndRerunOnTheOtherHost) {
  VirtualHosts net;
  std::string error;
  if (!net.CreateBridge(&error) || !net.AddHost("srv", 1, &error) ||
      !net.AddHost("h1", 11, &error) || !net.AddHost("h2", 12, &error)) {
    GTEST_SKIP() << "network namespaces unavailable here (" << error
                 << "); this test needs root, as in CI";
  }

  WorkerCluster cluster("multi-host");
  ASSERT_TRUE(cluster.StartServer({net.Exec("srv"), VirtualHosts::Address(1)}));
  ASSERT_EQ(cluster.server_address().rfind(VirtualHosts::Address(1) + ":", 0), 0u);
  const std::vector<std::string> study = {"--max-trials", "6", "--pruner", "nop",
                                          "--heartbeat-grace", "2", "--max-retries", "1"};
  ChildProcess& host1 = cluster.StartWorker("host1", study, net.Exec("h1"));
  ChildProcess& host2 = cluster.StartWorker("host2", study, net.Exec("h2"));

  const std::optional<int64_t> cut = cluster.WaitForRunningTrial("host1", seconds(60));
  ASSERT_TRUE(cut.has_value()) << cluster.Logs();
  ASSERT_TRUE(net.CutLink("h1"));

  const std::optional<v1::Trial> reaped = cluster.WaitForFinished(*cut, seconds(30));
  ASSERT_TRUE(reaped.has_value()) << cluster.Logs();
  EXPECT_EQ(reaped->state(), v1::FAIL) << cluster.Logs();
  EXPECT_EQ(reaped->fail_reason(), "heartbeat lost");

  const std::optional<int> code = host2.WaitFor(seconds(300));
  ASSERT_TRUE(code.has_value()) << cluster.Logs();
  EXPECT_EQ(*code, 0) << cluster.Logs();
  int finished = 0;
  bool rerun_on_host2 = false;
  for (const v1::Trial& t : cluster.Trials()) {
    if (t.state() == v1::COMPLETE || t.state() == v1::PRUNED) {
      ++finished;
      if (t.has_retry_of() && t.retry_of() == *cut && t.worker_id() == "host2") {
        rerun_on_host2 = true;
      }
    }
  }
  EXPECT_EQ(finished, 6) << cluster.Logs();
  EXPECT_TRUE(rerun_on_host2) << "trial " << *cut << " was not re-run on host2\n" << cluster.Logs();
  // The cable back in once host2 is done (else host1 might take the retry
  // itself): host1's next call or beat is refused, and it drops the trial
  // instead of telling it. Its retries back off up to 10 s.
  ASSERT_TRUE(net.RestoreLink("h1"));
  EXPECT_TRUE(WaitUntil(
      [&] {
        return host1.Log().find("trial " + std::to_string(*cut) + " is no longer ours") !=
               std::string::npos;
      },
      seconds(90)))
      << cluster.Logs();
  const std::optional<int> host1_code = host1.WaitFor(seconds(60));
  ASSERT_TRUE(host1_code.has_value()) << cluster.Logs();
  EXPECT_EQ(*host1_code, 0) << cluster.Logs();
  EXPECT_EQ(cluster.Trial(*cut).state(), v1::FAIL) << "a dropped trial is never told";
}

}  // namespace
}  // namespace parzen::testing
