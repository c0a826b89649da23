// A server host and two worker hosts, each its own network namespace with
// its own address, joined by veth pairs on a bridge: workers reach the
// server only by its address. Cutting one worker host's link mid-trial gets
// its trial reaped and re-run on the other host.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/integration/worker_cluster.h"

namespace parzen::testing {
namespace {

using std::chrono::seconds;

bool Sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// Names carry the pid so concurrent runs do not collide; Linux caps
// interface names at 15 characters.
class VirtualHosts {
 public:
  VirtualHosts() : tag_("pz" + std::to_string(getpid() % 100000)) {}
  ~VirtualHosts() {
    for (const std::string& host : hosts_) {
      Sh("ip link del " + tag_ + host);
      Sh("ip netns del " + tag_ + "-" + host);
    }
    Sh("ip link del " + tag_ + "br");
  }

  // False (and `error` set) where namespaces cannot be made: no root, no
  // CAP_NET_ADMIN, no iproute2.
  bool CreateBridge(std::string* error) {
    // Left over from a run that was killed before its clean-up (same pid).
    Sh("ip link del " + tag_ + "br");
    if (!Sh("ip link add " + tag_ + "br type bridge") ||
        !Sh("ip addr add " + std::string(kSubnet) + "254/24 dev " + tag_ + "br") ||
        !Sh("ip link set " + tag_ + "br up")) {
      *error = "cannot create a bridge (needs root and iproute2)";
      return false;
    }
    return true;
  }

  // A namespace `host` at 10.201.0.`octet`, linked to the bridge.
  bool AddHost(const std::string& host, int octet, std::string* error) {
    const std::string ns = Namespace(host), veth = tag_ + host, peer = tag_ + host + "p";
    hosts_.push_back(host);
    Sh("ip link del " + veth);
    Sh("ip netns del " + ns);
    const bool ok = Sh("ip netns add " + ns) &&
                    Sh("ip link add " + veth + " type veth peer name " + peer) &&
                    Sh("ip link set " + peer + " netns " + ns) &&
                    Sh("ip link set " + veth + " master " + tag_ + "br up") &&
                    Sh("ip -n " + ns + " addr add " + Address(octet) + "/24 dev " + peer) &&
                    Sh("ip -n " + ns + " link set " + peer + " up") &&
                    Sh("ip -n " + ns + " link set lo up");
    if (!ok) *error = "cannot create network namespace " + ns;
    return ok;
  }

  // Pulls the host's cable: its end of the veth pair goes down.
  bool CutLink(const std::string& host) { return Sh("ip link set " + tag_ + host + " down"); }
  bool RestoreLink(const std::string& host) { return Sh("ip link set " + tag_ + host + " up"); }

  std::vector<std::string> Exec(const std::string& host) const {
    return {"ip", "netns", "exec", Namespace(host)};
  }
  static std::string Address(int octet) { return kSubnet + std::to_string(octet); }

 private:
  static constexpr char kSubnet[] = "10.201.0.";
  std::string Namespace(const std::string& host) const { return tag_ + "-" + host; }

  std::string tag_;
  std::vector<std::string> hosts_;
};

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
