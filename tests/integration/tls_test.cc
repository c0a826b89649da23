// A server under mutual TLS with role tokens: clients that cannot prove
// themselves (plaintext, the wrong CA, no client certificate, a client
// certificate of another CA) fail with a clear error and change nothing;
// SIGHUP puts a new certificate in service for new connections, keeps a
// bad one out, and drops no study. The copy of the key the server serves
// goes with it, and a copy a killed server left goes at the next start.
// Test certificates from scripts/make-test-ca.sh.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "client/client.h"
#include "client/tls.h"
#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_ca.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kAdmin[] = "admin-0123456789abcdef";
constexpr char kWorker[] = "worker-0123456789abcdef";

// A self-signed certificate for 127.0.0.1 valid only from tomorrow, and its
// key, written as PEM files (openssl's command line of Debian 12 cannot set
// the start date).
bool WriteCertificateValidFromTomorrow(const std::string& cert_path,
                                       const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_out(BIO_new_file(cert_path.c_str(), "w"),
                                                      &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_out(BIO_new_file(key_path.c_str(), "w"),
                                                     &BIO_free);
  return cert_out && key_out && PEM_write_bio_X509(cert_out.get(), cert.get()) == 1 &&
         PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                  nullptr) == 1;
}

TEST(TlsStartTest, ACertificateNotValidYetOrAKeyWithAPassphraseIsRefusedAtStart) {
  TempDir dir;
  const std::string db = dir.File("never.db");
  ASSERT_TRUE(WriteCertificateValidFromTomorrow(dir.File("future.pem"), dir.File("future.key")));
  std::string out;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--tls-cert", dir.File("future.pem"),
                                      "--tls-key", dir.File("future.key")},
                                     &out),
            2)
      << out;
  EXPECT_THAT(out, HasSubstr("is not valid yet: CN=127.0.0.1 (valid from "));

  // The right key, encrypted: refused at once, never asked for (OpenSSL's
  // default would prompt on the terminal and hold the start up).
  ASSERT_TRUE(MakeTestCa(dir.File("ca")));
  ChildProcess encrypt({"openssl", "pkey", "-in", dir.File("ca/server.key"), "-aes256",
                        "-passout", "pass:secret", "-out", dir.File("encrypted.key")},
                       dir.File("openssl.log"));
  ASSERT_EQ(encrypt.WaitFor(std::chrono::seconds(60)), 0) << encrypt.Log();
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--tls-cert", dir.File("ca/server.pem"),
                                      "--tls-key", dir.File("encrypted.key")},
                                     &out),
            2)
      << out;
  EXPECT_THAT(out, HasSubstr("holds no PEM private key (or one with a passphrase)"));
  EXPECT_FALSE(std::filesystem::exists(db));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = dir_.File("ca");
    other_ = dir_.File("other");
    ASSERT_TRUE(MakeTestCa(ca_));
    ASSERT_TRUE(MakeTestCa(other_));
    // The server's files, which the test rewrites before a SIGHUP.
    cert_ = dir_.File("server.pem");
    key_ = dir_.File("server.key");
    std::filesystem::copy_file(ca_ + "/server.pem", cert_);
    std::filesystem::copy_file(ca_ + "/server.key", key_);
    tokens_ = dir_.File("tokens");
    std::ofstream(tokens_) << "admin " << kAdmin << "\nworker " << kWorker << "\n";
    std::ofstream(dir_.File("worker-token")) << kWorker << "\n";
    ServerLaunch launch;
    launch.credentials = TestCaCredentials(ca_, ca_, kAdmin);
    auto server = ServerProcess::Start(dir_.File("tls.db"),
                                       {"--tls-cert", cert_, "--tls-key", key_, "--tls-client-ca",
                                        ca_ + "/ca.pem", "--tokens-file", tokens_},
                                       launch);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    v1::CreateStudyRequest create;
    create.set_name("s");
    ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  }

  // Everything the admin can see of study "s".
  std::string Observe() {
    v1::GetStudyResponse study;
    EXPECT_TRUE(GetStudy(*stub_, "s", &study).ok());
    std::vector<v1::Trial> trials;
    EXPECT_TRUE(ListAllTrials(*stub_, "s", &trials).ok());
    std::string out = study.study().SerializeAsString();
    for (const auto& t : trials) out += t.SerializeAsString();
    return out;
  }

  // `parzen ... ask s` (a write) with `flags`: its exit code and output.
  std::pair<int, std::string> CliAsk(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address(),
                                     "--token-file", dir_.File("worker-token")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const char* arg : {"ask", "s"}) argv.push_back(arg);
    ChildProcess cli(argv, dir_.File("cli." + std::to_string(++cli_runs_)));
    const std::optional<int> code = cli.WaitFor(std::chrono::seconds(60));
    return {code.value_or(-2), cli.Log()};
  }

  // The test CA's files a client that proves itself gives.
  std::string CaPem() const { return ca_ + "/ca.pem"; }
  std::string ClientPem() const { return ca_ + "/client.pem"; }
  std::string ClientKey() const { return ca_ + "/client.key"; }

  TempDir dir_;
  std::string ca_, other_, cert_, key_, tokens_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  int cli_runs_ = 0;
};

TEST_F(TlsTest, ClientsThatCannotProveThemselvesFailClearlyAndChangeNothing) {
  const std::string before = Observe();
  const std::string ca = CaPem(), cert = ClientPem(), key = ClientKey();
  struct Case {
    const char* what;
    std::vector<std::string> flags;
    std::string error;
    bool gives_up_at_once = false;  // no retry mends it
  };
  const std::vector<Case> cases = {
      {"plaintext", {}, "a server that serves TLS closes plaintext connections so"},
      {"the wrong CA",
       {"--tls-ca", other_ + "/ca.pem", "--tls-cert", cert, "--tls-key", key},
       "certificate verify failed (the server's certificate is not signed by the CA this client "
       "trusts: check --tls-ca)",
       true},
      {"no client certificate", {"--tls-ca", ca}, "give --tls-cert and --tls-key"},
      {"a client certificate of another CA",
       {"--tls-ca", ca, "--tls-cert", other_ + "/client.pem", "--tls-key", other_ + "/client.key"},
       "whose certificate its CA did not sign"},
      {"a certificate without its key", {"--tls-ca", ca, "--tls-cert", cert},
       "--tls-cert and --tls-key go together"},
  };
  for (const Case& c : cases) {
    const auto [code, out] = CliAsk(c.flags);
    EXPECT_NE(code, 0) << c.what << "\n" << out;
    EXPECT_THAT(out, HasSubstr(c.error)) << c.what;
    if (c.gives_up_at_once) {
      EXPECT_THAT(out, Not(HasSubstr("retrying"))) << c.what;
    }
  }
  EXPECT_EQ(Observe(), before);

  // The same CLI with everything it needs asks a trial.
  const auto [code, out] = CliAsk({"--tls-ca", ca, "--tls-cert", cert, "--tls-key", key});
  EXPECT_EQ(code, 0) << out;
  v1::GetStudyResponse study;
  ASSERT_TRUE(GetStudy(*stub_, "s", &study).ok());
  EXPECT_EQ(study.summary().n_trials(), 1);

  // What the server saw, in its own log format.
  ASSERT_EQ(server_->Terminate(), 0);
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("with mutual TLS as CN=parzen-server"));
  EXPECT_THAT(log, HasSubstr("warning grpc: Handshake failed"));
  EXPECT_THAT(log, Not(HasSubstr("E1")));  // no line in gRPC's own format
}

// `parzen health` waits for a connection until its deadline; when none
// came up, it says why, as every other command does: the hint naming the
// flags to give, or the handshake's reason.
TEST_F(TlsTest, HealthWithoutTheRightFlagsSaysWhyNoConnectionCameUp) {
  const std::string ca = CaPem(), cert = ClientPem(), key = ClientKey();
  struct Case {
    const char* what;
    std::vector<std::string> flags;
    int exit_code;
    std::string output;
  };
  const std::vector<Case> cases = {
      {"plaintext", {}, 3, "a server that serves TLS closes plaintext connections so"},
      {"no client certificate", {"--tls-ca", ca}, 3, "give --tls-cert and --tls-key"},
      {"the wrong CA",
       {"--tls-ca", other_ + "/ca.pem", "--tls-cert", cert, "--tls-key", key},
       3,
       "certificate verify failed (the server's certificate is not signed by the CA this client "
       "trusts: check --tls-ca)"},
      {"everything it needs", {"--tls-ca", ca, "--tls-cert", cert, "--tls-key", key}, 0,
       ": serving"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address()};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    for (const char* arg : {"health", "--timeout-s", "2"}) argv.push_back(arg);
    ChildProcess cli(argv, dir_.File("health." + std::to_string(++cli_runs_)));
    EXPECT_EQ(cli.WaitFor(std::chrono::seconds(30)), c.exit_code) << c.what << "\n" << cli.Log();
    EXPECT_THAT(cli.Log(), HasSubstr(c.output)) << c.what;
  }
}

TEST_F(TlsTest, RoleTokensStillApplyOverMutualTls) {
  auto worker = v1::StudyService::NewStub(grpc::CreateChannel(
      server_->address(), TestCaCredentials(ca_, ca_, kWorker)));
  v1::DeleteStudyRequest del;
  del.set_name("s");
  v1::DeleteStudyResponse deleted;
  grpc::ClientContext ctx;
  EXPECT_EQ(worker->DeleteStudy(&ctx, del, &deleted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto anonymous = v1::StudyService::NewStub(
      grpc::CreateChannel(server_->address(), TestCaCredentials(ca_, ca_, "")));
  v1::GetStudyResponse got;
  EXPECT_EQ(GetStudy(*anonymous, "s", &got).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::AskResponse asked;
  EXPECT_TRUE(Ask(*worker, "s", {FloatSpec("x", 0, 1)}, &asked).ok());
}

TEST_F(TlsTest, SighupServesANewCertificateToNewConnectionsAndKeepsABadOneOut) {
  v1::AskResponse asked;
  ASSERT_TRUE(Ask(*stub_, "s", {FloatSpec("x", 0, 1)}, &asked).ok());
  const std::string before = Observe();

  // A key that is not the certificate's: refused, the old one stays.
  std::filesystem::copy_file(other_ + "/server.key", key_,
                             std::filesystem::copy_options::overwrite_existing);
  server_->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] {
    return server_->Log().find("kept the previous TLS certificate") != std::string::npos;
  }));
  EXPECT_THAT(server_->Log(), HasSubstr("does not belong to the certificate"));
  auto fresh = [&](const std::string& ca_dir) {
    return v1::StudyService::NewStub(
        grpc::CreateChannel(server_->address(), TestCaCredentials(ca_dir, ca_, kAdmin)));
  };
  v1::GetStudyResponse got;
  EXPECT_TRUE(GetStudy(*fresh(ca_), "s", &got).ok());

  // The other CA's certificate and key: new connections get it within the
  // second gRPC takes to look. The client CA is unchanged: clients still
  // present certificates of the first CA.
  std::filesystem::copy_file(other_ + "/server.pem", cert_,
                             std::filesystem::copy_options::overwrite_existing);
  server_->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return GetStudy(*fresh(other_), "s", &got).ok(); },
                        std::chrono::seconds(10), std::chrono::milliseconds(100)))
      << server_->Log();
  EXPECT_EQ(GetStudy(*fresh(ca_), "s", &got).error_code(), grpc::StatusCode::UNAVAILABLE);
  // The study went on: the same trials, and the trial asked before still
  // takes its result.
  auto renewed = fresh(other_);
  EXPECT_EQ(Observe().size(), before.size());
  EXPECT_TRUE(Tell(*renewed, asked.trial().trial_id(), v1::COMPLETE, {0.5}).ok());
}

TEST(TlsWarningTest, ListeningBeyondLoopbackWithoutTlsIsWarnedAbout) {
  TempDir dir;
  ServerLaunch everywhere;
  everywhere.host = "0.0.0.0";
  auto open = ServerProcess::Start(dir.File("open.db"), {}, everywhere);
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ((*open)->Terminate(), 0);
  EXPECT_THAT((*open)->Log(), HasSubstr("is reachable from other machines, and without TLS"));

  auto local = ServerProcess::Start(dir.File("local.db"));
  ASSERT_TRUE(local.ok()) << local.status();
  ASSERT_EQ((*local)->Terminate(), 0);
  EXPECT_THAT((*local)->Log(), Not(HasSubstr("reachable from other machines")));
}

// The names under `tmpdir` of the servers' copies of their TLS files.
std::set<std::string> TlsCopies(const std::string& tmpdir) {
  std::set<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(tmpdir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("parzen-tls-")) out.insert(name);
  }
  return out;
}

// The one name in `after` that is not in `before`, or "" when there is not
// exactly one.
std::string TheNewOne(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  return added.size() == 1 ? added[0] : "";
}

TEST(TlsCopyTest, AKilledServersCopyOfTheKeyGoesAtTheNextStartAndARunningServersStays) {
  TempDir dir;
  ASSERT_TRUE(MakeTestCa(dir.File("ca")));
  const std::string tmpdir = dir.File("tmp");
  std::filesystem::create_directory(tmpdir);
  // Nothing proves this one's owner dead (it has no owner lock): it stays.
  const std::string foreign = "parzen-tls-foreign";
  std::filesystem::create_directory(tmpdir + "/" + foreign);
  ServerLaunch launch;
  launch.prefix = {"env", "TMPDIR=" + tmpdir};
  launch.credentials = TestCaCredentials(dir.File("ca"), "", "");
  auto start = [&](const std::string& name) {
    return ServerProcess::Start(
        dir.File(name + ".db"),
        {"--tls-cert", dir.File("ca/server.pem"), "--tls-key", dir.File("ca/server.key")}, launch);
  };

  auto killed = start("killed");
  ASSERT_TRUE(killed.ok()) << killed.status();
  const std::string killed_copy = TheNewOne({foreign}, TlsCopies(tmpdir));
  ASSERT_NE(killed_copy, "");
  EXPECT_TRUE(std::filesystem::exists(tmpdir + "/" + killed_copy + "/key.pem"));

  auto running = start("running");
  ASSERT_TRUE(running.ok()) << running.status();
  const std::string running_copy = TheNewOne({foreign, killed_copy}, TlsCopies(tmpdir));
  ASSERT_NE(running_copy, "");
  EXPECT_TRUE(std::filesystem::exists(tmpdir + "/" + killed_copy + "/key.pem"))
      << "a running server's copy was taken for a dead one's";

  (*killed)->Kill();
  ASSERT_EQ(TlsCopies(tmpdir), (std::set<std::string>{foreign, killed_copy, running_copy}));

  auto next = start("next");
  ASSERT_TRUE(next.ok()) << next.status();
  const std::set<std::string> after = TlsCopies(tmpdir);
  EXPECT_FALSE(after.contains(killed_copy)) << "the killed server's copy of the key is still there";
  EXPECT_TRUE(after.contains(foreign));
  ASSERT_TRUE(after.contains(running_copy));
  EXPECT_EQ(after.size(), 3u);  // and the next server's
  // The running server's copy is whole: a connection made now is served.
  for (const char* file : {"key.pem", "cert.pem", "owner.lock"}) {
    EXPECT_TRUE(std::filesystem::exists(tmpdir + "/" + running_copy + "/" + file)) << file;
  }
  auto fresh = v1::StudyService::NewStub(grpc::CreateChannel(
      (*running)->address(), TestCaCredentials(dir.File("ca"), "", "")));
  v1::CreateStudyRequest create;
  create.set_name("after-the-sweep");
  EXPECT_TRUE(CreateStudy(*fresh, create).ok());

  // A server that stops removes its own.
  ASSERT_EQ((*running)->Terminate(), 0);
  ASSERT_EQ((*next)->Terminate(), 0);
  EXPECT_EQ(TlsCopies(tmpdir), std::set<std::string>{foreign});
}

}  // namespace
}  // namespace parzen::testing
