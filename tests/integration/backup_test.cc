// BackupDatabase against a real server: the copy is a database another
// parzen-server opens with every trial as of the backup; names are file
// names inside --backup-dir only, never overwritten.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

grpc::Status Backup(v1::StudyService::Stub& stub, const std::string& name,
                    v1::BackupDatabaseResponse* resp) {
  grpc::ClientContext ctx;
  v1::BackupDatabaseRequest req;
  req.set_name(name);
  return stub.BackupDatabase(&ctx, req, resp);
}

std::string TrialsOf(v1::StudyService::Stub& stub, const std::string& study) {
  std::vector<v1::Trial> trials;
  EXPECT_TRUE(ListAllTrials(stub, study, &trials).ok());
  std::string out;
  for (const v1::Trial& t : trials) out += t.SerializeAsString();
  return out;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(backups_);
    auto server = ServerProcess::Start(dir_.File("live.db"), {"--backup-dir", backups_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    v1::CreateStudyRequest create;
    create.set_name("b");
    ASSERT_TRUE(CreateStudy(*stub_, create).ok());
    for (int i = 0; i < 5; ++i) {
      v1::AskResponse ask;
      ASSERT_TRUE(Ask(*stub_, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
      v1::ReportIntermediateResponse rep;
      ASSERT_TRUE(Report(*stub_, ask.trial().trial_id(), 0, 1.0 / (i + 1), &rep).ok());
      ASSERT_TRUE(Tell(*stub_, ask.trial().trial_id(), v1::COMPLETE, {0.1 * i}).ok());
    }
  }

  TempDir dir_;
  const std::string backups_ = dir_.File("backups");
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
};

TEST_F(BackupTest, TheCopyOpensInAnotherServerWithEveryTrialAsOfTheBackup) {
  const std::string at_backup = TrialsOf(*stub_, "b");
  ChildProcess cli({PARZEN_CLI_BINARY, "--server", server_->address(), "backup", "snap-1.db"},
                   dir_.File("cli.out"));
  ASSERT_EQ(cli.WaitFor(std::chrono::seconds(30)), 0) << cli.Log();
  const std::string path = std::filesystem::canonical(backups_).string() + "/snap-1.db";
  EXPECT_EQ(cli.Log().rfind("backup written on the server: " + path + " (", 0), 0u) << cli.Log();
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(backups_),
                          std::filesystem::directory_iterator()),
            1)
      << "a partial file was left behind";

  // The live server goes on; what it does next is not in the copy.
  v1::AskResponse later;
  ASSERT_TRUE(Ask(*stub_, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &later).ok());
  EXPECT_EQ(later.trial().number(), 5);

  auto copy = ServerProcess::Start(path);
  ASSERT_TRUE(copy.ok()) << copy.status();
  auto copy_stub = (*copy)->NewStub();
  EXPECT_EQ(TrialsOf(*copy_stub, "b"), at_backup);
  v1::AskResponse next;
  ASSERT_TRUE(Ask(*copy_stub, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &next).ok());
  EXPECT_EQ(next.trial().number(), 5) << "numbering continues in the copy";
}

TEST_F(BackupTest, NamesStayInsideTheBackupDirAndAreNeverOverwritten) {
  v1::BackupDatabaseResponse resp;
  ASSERT_TRUE(Backup(*stub_, "first.db", &resp).ok());
  EXPECT_GT(resp.bytes(), 0);
  const auto first_size = std::filesystem::file_size(resp.path());

  grpc::Status again = Backup(*stub_, "first.db", &resp);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(again.error_message().find("already exists"), std::string::npos)
      << again.error_message();
  for (const std::string& bad : {std::string("../escaped.db"), std::string("sub/x.db"),
                                 std::string(""), std::string(".hidden"),
                                 std::string(200, 'n')}) {
    grpc::Status s = Backup(*stub_, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.error_message().find("backup name"), std::string::npos) << s.error_message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.File("escaped.db")));
  EXPECT_EQ(std::filesystem::file_size(backups_ + "/first.db"), first_size);
}

// Clients keep the commit queue busy; the backup still happens, and the
// copy is a consistent moment: trial numbers without a gap.
TEST_F(BackupTest, BackupUnderSteadyLoadIsConsistent) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto stub = server_->NewStub();
      while (!stop) {
        v1::AskResponse ask;
        if (!Ask(*stub, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok()) return;
        Tell(*stub, ask.trial().trial_id(), v1::COMPLETE, {0.5});
      }
    });
  }
  v1::BackupDatabaseResponse resp;
  grpc::Status s;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::BackupDatabaseRequest req;
    req.set_name("busy.db");
    s = stub_->BackupDatabase(&ctx, req, &resp);
  }
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(s.ok()) << s.error_message();

  auto copy = ServerProcess::Start(resp.path());
  ASSERT_TRUE(copy.ok()) << copy.status();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*(*copy)->NewStub(), "b", &trials).ok());
  ASSERT_GE(trials.size(), 5u);
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number(), static_cast<int64_t>(i));
    EXPECT_TRUE(trials[i].state() == v1::COMPLETE || trials[i].state() == v1::RUNNING)
        << trials[i].DebugString();
  }
}

// A copy that does not fit where it goes fails with a message that says
// so, leaves no partial file, and costs the live server nothing.
TEST(BackupDirFullTest, AFullBackupFileSystemIsReportedAndTheServerGoesOn) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small file system needs root, as in CI";
  TempDir dir;
  const std::string backups = dir.File("backups");
  std::filesystem::create_directory(backups);
  if (std::system(("mount -t tmpfs -o size=16k parzen-test " + backups + " >/dev/null 2>&1")
                      .c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { std::system(("umount " + path + " >/dev/null 2>&1").c_str()); }
  } unmount{backups};
  auto server = ServerProcess::Start(dir.File("live.db"), {"--backup-dir", backups});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("b");
  // 48 KiB the copy must hold, three times what the file system takes.
  (*create.mutable_user_attrs())["notes"].set_string_value(std::string(48 * 1024, 'n'));
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  for (int i = 0; i < 20; ++i) {
    v1::AskResponse ask;
    ASSERT_TRUE(Ask(*stub, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &ask).ok());
    ASSERT_TRUE(Tell(*stub, ask.trial().trial_id(), v1::COMPLETE, {0.1 * i}).ok());
  }
  const std::string before = TrialsOf(*stub, "b");

  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::BackupDatabaseResponse resp;
    grpc::Status s = Backup(*stub, "full.db", &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_NE(s.error_message().find("file system is full"), std::string::npos)
        << s.error_message();
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(backups),
                            std::filesystem::directory_iterator()),
              0)
        << "a partial copy was left behind (attempt " << attempt << ")";
  }
  EXPECT_EQ(TrialsOf(*stub, "b"), before);
  v1::AskResponse next;
  ASSERT_TRUE(Ask(*stub, "b", {FloatSpec("lr", 1e-4, 1e-1, true)}, &next).ok());
  EXPECT_EQ(next.trial().number(), 20);
}

TEST(BackupOffTest, WithoutBackupDirTheServerRefusesAndSaysHowToEnable) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("x.db"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::BackupDatabaseResponse resp;
  grpc::Status s = Backup(*stub, "x.db", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("--backup-dir"), std::string::npos) << s.error_message();

  std::string output;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", dir.File("y.db"), "--listen", "127.0.0.1:0",
                                      "--backup-dir", dir.File("missing")},
                                     &output),
            2);
  EXPECT_NE(output.find("is not a directory"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("y.db"))) << "checked before the database";
}

}  // namespace
}  // namespace parzen::testing
