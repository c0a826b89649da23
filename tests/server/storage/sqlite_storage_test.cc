#include "server/storage/sqlite_storage.h"

#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>

#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

FrozenTrial SampleTrial() {
  FrozenTrial t;
  t.trial_id = 42;
  t.study_id = 1;
  t.number = 0;
  t.state = TrialState::kRunning;
  t.params.push_back({"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}, 0.003});
  t.params.push_back({"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}, 1});
  t.user_attrs["note"] = "\"hello\"";
  t.fixed_params["units"] = int64_t{64};
  t.fixed_params["wd"] = 0.5;
  t.fixed_params["flag"] = true;
  t.fixed_params["name"] = std::string("x");
  t.start_time_us = 1234;
  t.retry_of = 7;
  t.retry_count = 2;
  t.worker_id = "w1";
  t.ask_request_id = "ask-1";
  return t;
}

TEST(SqliteStorageTest, EveryMutationSurvivesReopen) {
  testing::TempDir dir;
  const std::string path = dir.File("s.db");
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK_AND_ASSIGN(auto loaded, storage->LoadAll());
    EXPECT_TRUE(loaded.studies.empty());
    StudyRecord study{1, "study", {Direction::kMaximize, Direction::kMinimize}, "{\"k\":1}",
                      {{"team", "\"ml\""}}, 99};
    storage->Submit(mutation::PutStudy{study});
    FrozenTrial t = SampleTrial();
    storage->Submit(mutation::InsertTrial{t});
    storage->Submit(mutation::InsertParam{42, {"units", IntDistribution{16, 128, false, 16}, 64}});
    storage->Submit(mutation::InsertIntermediate{42, 0, std::nan("")});
    storage->Submit(mutation::InsertIntermediate{42, 3, -0.25});
    storage->Submit(mutation::SetTrialUserAttr{42, "acc", "0.97"});
    storage->Submit(mutation::SetStudyUserAttr{1, "team", "\"vision\""});
    storage->Submit(mutation::SetStudyUserAttr{1, "budget", "12"});
    t.state = TrialState::kComplete;
    t.values = {std::numeric_limits<double>::infinity(), 0.1};
    t.complete_time_us = 5678;
    t.ask_request_id = "ask-2";
    const Storage::Ticket last = storage->Submit(mutation::UpdateTrial{t});
    ASSERT_OK(storage->WaitDurable(last));
  }
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
  ASSERT_OK_AND_ASSIGN(auto db, storage->LoadAll());
  const std::vector<LoadedStudy>& loaded = db.studies;
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].record.name, "study");
  EXPECT_EQ(loaded[0].record.directions,
            (std::vector<Direction>{Direction::kMaximize, Direction::kMinimize}));
  EXPECT_EQ(loaded[0].record.config_json, "{\"k\":1}");
  // Replaced and added one row at a time; the record's own stays beside them.
  EXPECT_EQ(loaded[0].record.user_attrs,
            (std::map<std::string, std::string>{{"budget", "12"}, {"team", "\"vision\""}}));
  EXPECT_EQ(loaded[0].record.create_time_us, 99);
  ASSERT_EQ(loaded[0].trials.size(), 1u);
  const FrozenTrial& t = loaded[0].trials[0];
  EXPECT_EQ(t.trial_id, 42);
  EXPECT_EQ(t.state, TrialState::kComplete);
  ASSERT_EQ(t.values.size(), 2u);
  EXPECT_TRUE(std::isinf(t.values[0]));
  EXPECT_EQ(t.values[1], 0.1);
  ASSERT_EQ(t.params.size(), 3u);
  EXPECT_EQ(t.params[0].name, "lr");
  EXPECT_EQ(t.params[0].internal_value, 0.003);
  EXPECT_EQ(t.params[0].distribution, Distribution(FloatDistribution{1e-4, 1e-1, true, std::nullopt}));
  EXPECT_EQ(t.params[2].name, "units");
  EXPECT_EQ(t.params[2].distribution, Distribution(IntDistribution{16, 128, false, 16}));
  // "units" was suggested, so it is no longer a pending fixed parameter.
  EXPECT_EQ(t.fixed_params.count("units"), 0u);
  EXPECT_EQ(std::get<double>(t.fixed_params.at("wd")), 0.5);
  EXPECT_EQ(std::get<bool>(t.fixed_params.at("flag")), true);
  EXPECT_EQ(std::get<std::string>(t.fixed_params.at("name")), "x");
  ASSERT_EQ(t.intermediate_values.size(), 2u);
  EXPECT_TRUE(std::isnan(t.intermediate_values.at(0)));
  EXPECT_EQ(t.intermediate_values.at(3), -0.25);
  EXPECT_EQ(t.user_attrs.at("acc"), "0.97");
  EXPECT_EQ(t.user_attrs.at("note"), "\"hello\"");
  EXPECT_EQ(t.retry_of, 7);
  EXPECT_EQ(t.retry_count, 2);
  EXPECT_EQ(t.worker_id, "w1");
  EXPECT_EQ(t.ask_request_id, "ask-2");
  EXPECT_EQ(t.start_time_us, 1234);
  EXPECT_EQ(t.complete_time_us, 5678);
}

// A database written before Ask request ids were stored (schema 1) is
// migrated in place and keeps every trial.
TEST(SqliteStorageTest, SchemaOneDatabaseIsMigrated) {
  testing::TempDir dir;
  const std::string path = dir.File("old.db");
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK_AND_ASSIGN(auto loaded, storage->LoadAll());
    storage->Submit(mutation::PutStudy{StudyRecord{1, "study", {Direction::kMinimize}, "{}", {}, 1}});
    ASSERT_OK(storage->WaitDurable(storage->Submit(mutation::InsertTrial{SampleTrial()})));
  }
  {
    // Back to schema 1 as it was: the column and the table did not exist.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE trials DROP COLUMN ask_request_id; DROP TABLE trial_system_attrs; "
            "PRAGMA user_version=1;");
  }
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
  ASSERT_OK_AND_ASSIGN(auto db, storage->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  ASSERT_EQ(db.studies[0].trials.size(), 1u);
  EXPECT_EQ(db.studies[0].trials[0].worker_id, "w1");
  EXPECT_EQ(db.studies[0].trials[0].ask_request_id, "");
  EXPECT_EQ(db.studies[0].trials[0].params.size(), 2u);
  storage.reset();
  SQLite::Database check(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("PRAGMA user_version").getInt(), kSchemaVersion);
}

TEST(SqliteStorageTest, DeleteStudyRemovesItsTrials) {
  testing::TempDir dir;
  const std::string path = dir.File("d.db");
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK(storage->LoadAll().status());
    storage->Submit(mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
    storage->Submit(mutation::PutStudy{StudyRecord{2, "b", {Direction::kMinimize}, "{}", {}, 0}});
    FrozenTrial t = SampleTrial();
    storage->Submit(mutation::InsertTrial{t});
    storage->Submit(mutation::PutStudy{StudyRecord{3, "c", {Direction::kMinimize}, "{}", {}, 0}});
    storage->Submit(mutation::DeleteStudy{3});
    ASSERT_OK(storage->WaitDurable(storage->Submit(mutation::DeleteStudy{1})));
  }
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
  ASSERT_OK_AND_ASSIGN(auto db, storage->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  EXPECT_EQ(db.studies[0].record.name, "b");
  EXPECT_TRUE(db.studies[0].trials.empty());
  // Studies 1 and 3 are gone, but their ids stay used.
  EXPECT_EQ(db.max_study_id, 3);
}

TEST(SqliteStorageTest, ConcurrentSubmittersAllBecomeDurableInOrder) {
  testing::TempDir dir;
  const std::string path = dir.File("c.db");
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK(storage->LoadAll().status());
    storage->Submit(mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    std::atomic<int> out_of_order{0};
    for (int w = 0; w < 8; ++w) {
      threads.emplace_back([&, w] {
        Storage::Ticket previous = 0;
        for (int i = 0; i < 100; ++i) {
          FrozenTrial t;
          t.study_id = 1;
          t.number = w * 100 + i;
          t.trial_id = 1000 + t.number;
          const Storage::Ticket ticket = storage->Submit(mutation::InsertTrial{t});
          if (ticket <= previous) ++out_of_order;
          previous = ticket;
          if (!storage->WaitDurable(ticket).ok()) ++failures;
          // Durable in order: every earlier ticket, whoever submitted it,
          // is durable too, so OnDurable answers it at once, right here.
          auto answered = std::make_shared<std::atomic<bool>>(false);
          storage->OnDurable(ticket / 2 + 1, [answered](absl::Status s) { *answered = s.ok(); });
          if (!answered->load()) ++out_of_order;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(out_of_order.load(), 0);
  }
  // Every row is there after a reopen, each under its own number.
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenSqliteStorage(path));
  ASSERT_OK_AND_ASSIGN(auto db, reopened->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  ASSERT_EQ(db.studies[0].trials.size(), 800u);
  for (int64_t n = 0; n < 800; ++n) EXPECT_EQ(db.studies[0].trials[n].trial_id, 1000 + n);
}

TEST(SqliteStorageTest, SystemAttributesAreStoredApartFromTheUsersAndDeletedWithTheStudy) {
  testing::TempDir dir;
  const std::string path = dir.File("sys.db");
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK(storage->LoadAll().status());
    storage->Submit(mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
    FrozenTrial t = SampleTrial();
    t.system_attrs["grid_id"] = "3";
    storage->Submit(mutation::InsertTrial{t});
    storage->Submit(mutation::SetTrialSystemAttr{42, "completed_rung_0", "0.5"});
    ASSERT_OK(storage->WaitDurable(
        storage->Submit(mutation::SetTrialSystemAttr{42, "grid_id", "4"})));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(path));
    ASSERT_OK_AND_ASSIGN(auto db, storage->LoadAll());
    const FrozenTrial& t = db.studies[0].trials[0];
    EXPECT_EQ(t.system_attrs, (std::map<std::string, std::string>{
                                  {"completed_rung_0", "0.5"}, {"grid_id", "4"}}));
    EXPECT_FALSE(t.user_attrs.contains("grid_id"));
    ASSERT_OK(storage->WaitDurable(storage->Submit(mutation::DeleteStudy{1})));
  }
  SQLite::Database check(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("SELECT count(*) FROM trial_system_attrs").getInt(), 0);
}

// A storage with study 1 and trial 42 holding about 40 MB of attributes:
// some 10,000 pages, far more than one backup step copies.
std::unique_ptr<Storage> BigStorage(const std::string& path, std::string* big) {
  auto storage = OpenSqliteStorage(path);
  EXPECT_TRUE(storage.ok()) << storage.status();
  EXPECT_TRUE((*storage)->LoadAll().ok());
  (*storage)->Submit(
      mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
  (*storage)->Submit(mutation::InsertTrial{SampleTrial()});
  *big = "\"" + std::string(32 * 1024, 'x') + "\"";
  Storage::Ticket last = 0;
  for (int i = 0; i < 1200; ++i) {
    last = (*storage)->Submit(mutation::SetTrialUserAttr{42, "k" + std::to_string(i), *big});
  }
  EXPECT_TRUE((*storage)->WaitDurable(last).ok());
  return *std::move(storage);
}

// A backup is copied a few pages at a time between commits, so a commit
// submitted after it began is durable before it ends, and the copy holds
// that commit too, and whatever was submitted before the request: the
// database as of the backup's end, consistent. The copy is a plain
// rollback-journal file any SQLite reader opens as it is.
TEST(SqliteStorageTest, BackupLetsCommitsThroughAndHoldsThem) {
  testing::TempDir dir;
  std::string big;
  std::unique_ptr<Storage> storage = BigStorage(dir.File("live.db"), &big);

  FrozenTrial before = SampleTrial();
  before.trial_id = 43;
  before.number = 1;
  storage->Submit(mutation::InsertTrial{before});  // not waited for

  // Both callbacks run on the committer, so their order is the order of
  // the commit and of the backup's end.
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<absl::Status> first;
  storage->Backup(dir.File("copy.db"), [&](absl::Status s) {
    std::lock_guard lock(mu);
    order.push_back("backup");
    first.set_value(s);
  });
  FrozenTrial during = SampleTrial();
  during.trial_id = 44;
  during.number = 2;
  during.user_attrs = {{"when", "\"during the backup\""}};
  storage->OnDurable(storage->Submit(mutation::InsertTrial{during}), [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    std::lock_guard lock(mu);
    order.push_back("commit");
  });
  std::promise<absl::Status> second;
  storage->Backup(dir.File("second.db"), [&](absl::Status s) { second.set_value(s); });
  EXPECT_EQ(second.get_future().get().code(), absl::StatusCode::kUnavailable)
      << "one backup at a time";
  ASSERT_OK(first.get_future().get());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(order, (std::vector<std::string>{"commit", "backup"}))
        << "the commit waited for the whole backup";
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("second.db")));
  storage.reset();

  {
    SQLite::Database plain(dir.File("copy.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(plain.execAndGet("PRAGMA journal_mode").getString(), "delete");
    EXPECT_EQ(plain.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("copy.db-wal")));
  ASSERT_OK_AND_ASSIGN(auto copy, OpenSqliteStorage(dir.File("copy.db")));
  ASSERT_OK_AND_ASSIGN(auto db, copy->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  ASSERT_EQ(db.studies[0].trials.size(), 3u);
  EXPECT_EQ(db.studies[0].trials[0].user_attrs.size(), 1201u);
  EXPECT_EQ(db.studies[0].trials[0].user_attrs.at("k1199"), big);
  EXPECT_EQ(db.studies[0].trials[1].trial_id, 43);
  EXPECT_EQ(db.studies[0].trials[2].user_attrs.at("when"), "\"during the backup\"");
}

// Shutdown does not wait for the rest of a long copy.
TEST(SqliteStorageTest, StopBackupsEndsTheOneUnderWayAndRefusesMore) {
  testing::TempDir dir;
  std::string big;
  std::unique_ptr<Storage> storage = BigStorage(dir.File("live.db"), &big);
  std::promise<absl::Status> running;
  storage->Backup(dir.File("copy.db"), [&](absl::Status s) { running.set_value(s); });
  storage->StopBackups();
  const absl::Status ended = running.get_future().get();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable) << ended;
  EXPECT_NE(ended.message().find("stopping"), std::string::npos) << ended;
  std::promise<absl::Status> later;
  storage->Backup(dir.File("later.db"), [&](absl::Status s) { later.set_value(s); });
  EXPECT_EQ(later.get_future().get().code(), absl::StatusCode::kUnavailable);
  // Commits are not stopped.
  EXPECT_OK(storage->WaitDurable(storage->Submit(mutation::SetTrialUserAttr{42, "after", "1"})));
}

// SQLite may restart the backup of an in-memory database at every commit;
// under steady load the backup still ends, whole.
TEST(SqliteStorageTest, MemoryDatabaseBackupEndsUnderLoad) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(":memory:"));
  ASSERT_OK(storage->LoadAll().status());
  storage->Submit(mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
  storage->Submit(mutation::InsertTrial{SampleTrial()});
  const std::string value = "\"" + std::string(8 * 1024, 'm') + "\"";
  for (int i = 0; i < 200; ++i) {
    storage->Submit(mutation::SetTrialUserAttr{42, "k" + std::to_string(i), value});
  }
  // The queue is never empty: a commit between any two backup steps.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    for (int i = 0; !stop; ++i) {
      const Storage::Ticket t =
          storage->Submit(mutation::SetTrialUserAttr{42, "busy", std::to_string(i)});
      if (i % 64 == 0) storage->WaitDurable(t).IgnoreError();
    }
  });
  std::promise<absl::Status> done;
  storage->Backup(dir.File("mem.db"), [&](absl::Status s) { done.set_value(s); });
  auto result = done.get_future();
  const bool ended = result.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  stop = true;
  load.join();
  ASSERT_TRUE(ended) << "the backup of an in-memory database never ended";
  ASSERT_OK(result.get());
  ASSERT_OK_AND_ASSIGN(auto copy, OpenSqliteStorage(dir.File("mem.db")));
  ASSERT_OK_AND_ASSIGN(auto db, copy->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  EXPECT_GE(db.studies[0].trials[0].user_attrs.size(), 200u);
}

TEST(SqliteStorageTest, MemoryDatabaseWorksForThrowAwayStudies) {
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(":memory:"));
  ASSERT_OK(storage->LoadAll().status());
  storage->Submit(mutation::PutStudy{StudyRecord{1, "a", {Direction::kMinimize}, "{}", {}, 0}});
  ASSERT_OK(storage->WaitDurable(storage->Submit(mutation::InsertTrial{SampleTrial()})));
  // What it holds is what was written: a copy of it shows the study and
  // its trial.
  testing::TempDir dir;
  std::promise<absl::Status> copied;
  storage->Backup(dir.File("copy.db"), [&](absl::Status s) { copied.set_value(s); });
  ASSERT_OK(copied.get_future().get());
  ASSERT_OK_AND_ASSIGN(auto copy, OpenSqliteStorage(dir.File("copy.db")));
  ASSERT_OK_AND_ASSIGN(auto db, copy->LoadAll());
  ASSERT_EQ(db.studies.size(), 1u);
  EXPECT_EQ(db.studies[0].record.name, "a");
  ASSERT_EQ(db.studies[0].trials.size(), 1u);
  EXPECT_EQ(db.studies[0].trials[0].worker_id, "w1");
}

}  // namespace
}  // namespace parzen
