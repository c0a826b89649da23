#include "server/service/backup_dir.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(BackupDirTest, RemovesOnlyUnfinishedCopiesOfAnEarlierRun) {
  testing::TempDir dir;
  WriteFile(dir.File(".snap.db.partial-Ab12Cd"), "half a copy");
  WriteFile(dir.File(".old.db.partial"), "half a copy, named as by an earlier release");
  WriteFile(dir.File("snap.db"), "a finished copy");
  WriteFile(dir.File(".profile"), "not ours");
  ASSERT_OK_AND_ASSIGN(BackupDir backups, BackupDir::Open(dir.path()));
  EXPECT_EQ(backups.path(), fs::canonical(dir.path()).string());
  EXPECT_TRUE(fs::exists(dir.File(".snap.db.partial-Ab12Cd"))) << "not before asked to";
  backups.RemoveUnfinished();
  EXPECT_FALSE(fs::exists(dir.File(".snap.db.partial-Ab12Cd")));
  EXPECT_FALSE(fs::exists(dir.File(".old.db.partial")));
  EXPECT_TRUE(fs::exists(dir.File("snap.db")));
  EXPECT_TRUE(fs::exists(dir.File(".profile")));

  absl::StatusOr<BackupDir> missing = BackupDir::Open(dir.File("nowhere"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("is not a directory"), std::string::npos);
  EXPECT_FALSE(BackupDir::Open(dir.File("snap.db")).ok()) << "a file is not a directory";
}

TEST(BackupDirTest, ACopyIsPrivateUntilPublishedAndNeverReplacesAFile) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(BackupDir backups, BackupDir::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(std::string partial, backups.Reserve("a.db"));
  EXPECT_EQ(fs::path(partial).parent_path(), fs::path(backups.path()));
  EXPECT_EQ(fs::path(partial).filename().string().rfind(".a.db.partial-", 0), 0u) << partial;
  struct stat info;
  ASSERT_EQ(::stat(partial.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(std::string racing, backups.Reserve("a.db"));
  EXPECT_NE(racing, partial) << "two backups of one name write different files";

  WriteFile(partial, "copy one");
  ASSERT_OK_AND_ASSIGN(BackupDir::Placed placed, backups.Publish(partial, "a.db"));
  EXPECT_EQ(placed.path, backups.path() + "/a.db");
  EXPECT_EQ(placed.bytes, 8);
  EXPECT_FALSE(fs::exists(partial));

  WriteFile(racing, "copy two, later");
  absl::StatusOr<BackupDir::Placed> lost = backups.Publish(racing, "a.db");
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(racing));
  EXPECT_EQ(fs::file_size(placed.path), 8u) << "the first copy stays";

  EXPECT_EQ(backups.Reserve("a.db").status().code(), absl::StatusCode::kAlreadyExists);
  fs::create_symlink("/nonexistent", dir.File("link.db"));
  EXPECT_EQ(backups.Reserve("link.db").status().code(), absl::StatusCode::kAlreadyExists)
      << "a dangling symlink is a taken name too";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2)
      << "only a.db and link.db";
}

// Whether a client should retry: a directory that went away (or is full,
// or read-only) will not come back by itself.
TEST(BackupDirTest, ADirectoryThatCannotTakeAFileIsNotATransientError) {
  testing::TempDir dir;
  const std::string path = dir.File("backups");
  fs::create_directory(path);
  ASSERT_OK_AND_ASSIGN(BackupDir backups, BackupDir::Open(path));
  fs::remove(path);
  absl::StatusOr<std::string> partial = backups.Reserve("a.db");
  EXPECT_EQ(partial.status().code(), absl::StatusCode::kFailedPrecondition) << partial.status();
  EXPECT_NE(partial.status().message().find("cannot create a file in " + backups.path()),
            std::string::npos)
      << partial.status();
}

TEST(BackupDirTest, NamesAreFileNamesOnly) {
  const std::vector<std::string> good_names = {"a", "snap-2026.11.28_1.db", std::string(128, 'n')};
  for (const std::string& good : good_names) {
    EXPECT_OK(BackupDir::CheckName(good)) << good;
  }
  const std::vector<std::string> bad_names = {"",    ".hidden", "..", "../x", "a/b", "a b",
                                              "a\nb", std::string(129, 'n'), std::string("a\0b", 3)};
  for (const std::string& bad : bad_names) {
    absl::Status s = BackupDir::CheckName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("backup name"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace parzen
