// A study of real parzen-workers through a server under mutual TLS with
// role tokens: a worker that trusts the wrong CA, or holds only a read
// token, fails clearly and changes nothing; workers with the worker token
// and their certificates run the study the admin made to its budget.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/worker_cluster.h"
#include "tests/testing/requests.h"
#include "tests/testing/test_ca.h"

namespace parzen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

constexpr char kAdmin[] = "admin-0123456789abcdef";
constexpr char kWorker[] = "worker-0123456789abcdef";
constexpr char kReader[] = "reader-0123456789abcdef";
constexpr int kBudget = 4;

TEST(WorkerTlsTest, AStudyRunsToItsBudgetOverMutualTlsWithRoleTokens) {
  WorkerCluster cluster("mtls");
  const std::string ca = cluster.File("ca");
  const std::string other = cluster.File("other");
  ASSERT_TRUE(MakeTestCa(ca));
  ASSERT_TRUE(MakeTestCa(other));
  const std::string tokens = cluster.WriteFile(
      "tokens", std::string("admin ") + kAdmin + "\nworker " + kWorker + "\nread " + kReader + "\n");
  ServerLaunch launch;
  launch.credentials = TestCaCredentials(ca, ca, kAdmin);
  ASSERT_TRUE(cluster.StartServer(
      launch, {"--tls-cert", ca + "/server.pem", "--tls-key", ca + "/server.key",
               "--tls-client-ca", ca + "/ca.pem", "--tokens-file", tokens}));

  // The admin makes the study; workers may only join it.
  v1::CreateStudyRequest create;
  create.set_name("mtls");
  create.set_max_trials(kBudget);
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(cluster.stub(), create).ok());

  const std::vector<std::string> client_cert = {"--tls-cert", ca + "/client.pem", "--tls-key",
                                                ca + "/client.key"};
  auto flags = [&](const char* token, const std::string& trusted_ca) {
    std::vector<std::string> out = {"--token-file", cluster.WriteFile(token, token),
                                    "--tls-ca", trusted_ca + "/ca.pem"};
    out.insert(out.end(), client_cert.begin(), client_cert.end());
    return out;
  };

  ChildProcess& wrong_ca = cluster.StartWorker("wrong-ca", flags(kWorker, other));
  std::optional<int> code = wrong_ca.WaitFor(seconds(120));
  ASSERT_TRUE(code.has_value()) << cluster.Logs();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(wrong_ca.Log(), HasSubstr("certificate verify failed"));
  // No retry mends a CA that does not sign the server's certificate.
  EXPECT_THAT(wrong_ca.Log(), Not(HasSubstr("retrying")));

  ChildProcess& reader = cluster.StartWorker("reader", flags(kReader, ca));
  code = reader.WaitFor(seconds(120));
  ASSERT_TRUE(code.has_value()) << cluster.Logs();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(reader.Log(), HasSubstr("needs a token with the worker role"));
  EXPECT_TRUE(cluster.Trials().empty()) << "a refused worker changed the study";

  std::vector<ChildProcess*> workers;
  for (const char* id : {"w1", "w2"}) workers.push_back(&cluster.StartWorker(id, flags(kWorker, ca)));
  for (ChildProcess* w : workers) {
    code = w->WaitFor(seconds(400));
    ASSERT_TRUE(code.has_value()) << "a worker did not finish\n" << cluster.Logs();
    ASSERT_EQ(*code, 0) << cluster.Logs();
  }
  int complete = 0;
  const std::vector<v1::Trial> trials = cluster.Trials();
  for (size_t i = 0; i < trials.size(); ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.number(), static_cast<int64_t>(i));
    if (t.state() == v1::COMPLETE) {
      ++complete;
      EXPECT_TRUE(t.worker_id() == "w1" || t.worker_id() == "w2") << t.worker_id();
      continue;
    }
    // A diverged trial gives its budget slot back; nothing else may fail.
    EXPECT_EQ(t.state(), v1::FAIL) << cluster.Logs();
    EXPECT_EQ(t.fail_reason(), "objective value is NaN") << cluster.Logs();
  }
  EXPECT_EQ(complete, kBudget) << cluster.Logs();
  EXPECT_THAT(cluster.server().Log(), HasSubstr("with mutual TLS as CN=parzen-server"));
}

}  // namespace
}  // namespace parzen::testing
