#include "server/service/access_policy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testing/server_process.h"

namespace parzen {
namespace {

using testing::TempDir;

constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kWorker[] = "worker-token-0123456789";
constexpr char kRead[] = "read-token-0123456789";

std::string Bearer(const std::string& token) { return "Bearer " + token; }

class AccessPolicyTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.File("tokens");
    std::ofstream(path) << text;
    return path;
  }
  TempDir dir_;
};

TEST_F(AccessPolicyTest, EachTokenHasItsRole) {
  auto policy = AccessPolicy::FromTokensFile(
      Write(std::string("# who may do what\n\nadmin ") + kAdmin + "\n  worker\t" + kWorker +
            "  # the cluster's workers\nread " + kRead + "\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->size(), 3u);
  EXPECT_EQ(*policy->Authenticate(Bearer(kAdmin)), Role::kAdmin);
  EXPECT_EQ(*policy->Authenticate(Bearer(kWorker)), Role::kWorker);
  EXPECT_EQ(*policy->Authenticate(Bearer(kRead)), Role::kRead);
}

TEST_F(AccessPolicyTest, AMissingOrUnknownTokenIsUnauthenticated) {
  auto policy = AccessPolicy::FromTokensFile(Write(std::string("read ") + kRead + "\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(std::nullopt).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(Bearer(kAdmin)).status()));
  // Without the scheme, with a prefix or a suffix of the token: unknown.
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(kRead).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      policy->Authenticate(Bearer(std::string(kRead).substr(0, 10))).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(Bearer(kRead) + "x").status()));
  // The message never repeats what was presented.
  const std::string message(policy->Authenticate(Bearer(kAdmin)).status().message());
  EXPECT_EQ(message.find(kAdmin), std::string::npos);
}

TEST_F(AccessPolicyTest, RolesNest) {
  EXPECT_TRUE(AccessPolicy::Permit(Role::kAdmin, Role::kRead, "GetStudy").ok());
  EXPECT_TRUE(AccessPolicy::Permit(Role::kAdmin, Role::kWorker, "Ask").ok());
  EXPECT_TRUE(AccessPolicy::Permit(Role::kWorker, Role::kRead, "GetStudy").ok());
  const absl::Status denied = AccessPolicy::Permit(Role::kWorker, Role::kAdmin, "DeleteStudy");
  EXPECT_TRUE(absl::IsPermissionDenied(denied));
  EXPECT_EQ(denied.message(), "DeleteStudy needs a token with the admin role; this one has worker");
  EXPECT_TRUE(absl::IsPermissionDenied(AccessPolicy::Permit(Role::kRead, Role::kWorker, "Tell")));
}

TEST_F(AccessPolicyTest, AHashInsideATokenIsPartOfIt) {
  const std::string with_hash = "worker-token#0123456789";
  auto policy = AccessPolicy::FromTokensFile(
      Write("worker " + with_hash + "\nread " + kRead + "#x\n" +
            "admin " + kAdmin + " #a comment\n#admin " + kWorker + "\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->size(), 3u);
  EXPECT_EQ(*policy->Authenticate(Bearer(with_hash)), Role::kWorker);
  // Cut at the `#`, the token would have been "worker-token" (12
  // characters, refused) and the full one unknown.
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(Bearer("worker-token")).status()));
  // No space before it: the `#` and what follows are the token's.
  EXPECT_EQ(*policy->Authenticate(Bearer(std::string(kRead) + "#x")), Role::kRead);
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(Bearer(kRead)).status()));
  EXPECT_EQ(*policy->Authenticate(Bearer(kAdmin)), Role::kAdmin);
  EXPECT_TRUE(absl::IsUnauthenticated(policy->Authenticate(Bearer(kWorker)).status()));
}

TEST_F(AccessPolicyTest, AnOpenPolicyLetsEveryoneDoEverything) {
  AccessPolicy open;
  EXPECT_TRUE(open.open());
  EXPECT_EQ(*open.Authenticate(std::nullopt), Role::kAdmin);
}

TEST_F(AccessPolicyTest, ASingleTokenFileGivesEveryRole) {
  const std::string path = dir_.File("token");
  std::ofstream(path) << kWorker << "\n";
  auto policy = AccessPolicy::FromTokenFile(path);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(*policy->Authenticate(Bearer(kWorker)), Role::kAdmin);
}

TEST_F(AccessPolicyTest, BadFilesAreRefusedNamingTheLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "holds no tokens"},
      {"# only a comment\n", "holds no tokens"},
      {std::string("root ") + kAdmin, "line 1: the role must be read, worker or admin"},
      {"admin\n", "line 1: expected `ROLE TOKEN`"},
      {std::string("read ") + kRead + " extra", "line 1: expected `ROLE TOKEN`"},
      {"\nadmin short", "line 2 must hold 16 to 512 characters"},
      {std::string("admin ") + kAdmin + "\nread " + kAdmin, "line 2: this token is already"},
  };
  for (const Case& c : cases) {
    auto policy = AccessPolicy::FromTokensFile(Write(c.text));
    ASSERT_FALSE(policy.ok()) << c.text;
    EXPECT_TRUE(absl::IsInvalidArgument(policy.status())) << c.text;
    EXPECT_NE(policy.status().message().find(c.error), std::string::npos)
        << c.text << " -> " << policy.status();
  }
  EXPECT_TRUE(absl::IsNotFound(AccessPolicy::FromTokensFile(dir_.File("missing")).status()));
}

}  // namespace
}  // namespace parzen
