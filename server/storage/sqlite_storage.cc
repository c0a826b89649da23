#include "server/storage/sqlite_storage.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace parzen {
namespace {

// 'Pzrn': marks the file as ours, so we never adopt someone else's database.
constexpr int kApplicationId = 0x507a726e;
constexpr size_t kMaxBatch = 4096;
// Pages a backup copies between two commits (256 KiB at 4 KiB pages):
// small enough that a commit waiting behind it is barely delayed.
constexpr int kBackupPagesPerStep = 64;
constexpr const char* kUserAttrSql =
    "INSERT OR REPLACE INTO trial_user_attrs (trial_id, key, value_json) VALUES (?, ?, ?)";
constexpr const char* kSystemAttrSql =
    "INSERT OR REPLACE INTO trial_system_attrs (trial_id, key, value_json) VALUES (?, ?, ?)";

// Forward migrations: kMigrations[i] takes a database from version i to i+1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE studies (
  study_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL,
  config_json TEXT NOT NULL,
  create_time_us INTEGER NOT NULL
);
CREATE TABLE study_user_attrs (
  study_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
) WITHOUT ROWID;
CREATE TABLE trials (
  trial_id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  trial_values TEXT NOT NULL,
  start_time_us INTEGER NOT NULL,
  complete_time_us INTEGER NOT NULL,
  fail_reason TEXT NOT NULL,
  retry_of INTEGER,
  retry_count INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  fixed_params_json TEXT NOT NULL
);
-- trial_id encodes (study_id, number), so the primary key already makes
-- numbers unique per study; no second index to write on every commit.
CREATE TABLE trial_params (
  trial_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  distribution_json TEXT NOT NULL,
  internal_value REAL NOT NULL,
  PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
CREATE TABLE trial_intermediate_values (
  trial_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL,  -- NULL stands for NaN, which SQLite cannot store
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
CREATE TABLE parzen_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE trial_user_attrs (
  trial_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;
)sql",
    // 2: Ask request ids outlive a restart.
    R"sql(
ALTER TABLE trials ADD COLUMN ask_request_id TEXT NOT NULL DEFAULT '';
)sql",
    // 3: what samplers and pruners record on a trial, apart from the user's
    // attributes.
    R"sql(
CREATE TABLE trial_system_attrs (
  trial_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;
)sql",
    // 4: parameter and intermediate values in columns without a declared
    // type. REAL affinity stores an integral float as an integer, which turns
    // -0.0 into 0; a column without affinity keeps the 8-byte float as given.
    // Values stored as 0 before this migration stay 0: the sign is gone.
    R"sql(
CREATE TABLE trial_params_v4 (
  trial_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  distribution_json TEXT NOT NULL,
  internal_value NOT NULL,
  PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
INSERT INTO trial_params_v4 SELECT trial_id, position, name, distribution_json, internal_value
  FROM trial_params;
DROP TABLE trial_params;
ALTER TABLE trial_params_v4 RENAME TO trial_params;
CREATE TABLE trial_intermediate_values_v4 (
  trial_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value,  -- NULL stands for NaN, which SQLite cannot store
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
INSERT INTO trial_intermediate_values_v4 SELECT trial_id, step, value
  FROM trial_intermediate_values;
DROP TABLE trial_intermediate_values;
ALTER TABLE trial_intermediate_values_v4 RENAME TO trial_intermediate_values;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Objective values as text: JSON has no inf, and we want exact round trips.
std::string EncodeValues(const std::vector<double>& values) {
  std::string out;
  for (double v : values) {
    if (!out.empty()) out += ' ';
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
  return out;
}

std::vector<double> DecodeValues(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  std::string token;
  while (in >> token) out.push_back(std::strtod(token.c_str(), nullptr));
  return out;
}

std::string EncodeDirections(const std::vector<Direction>& directions) {
  std::string out;
  for (Direction d : directions) {
    if (!out.empty()) out += ',';
    out += DirectionName(d);
  }
  return out;
}

absl::StatusOr<std::vector<Direction>> DecodeDirections(const std::string& text) {
  std::vector<Direction> out;
  std::istringstream in(text);
  std::string token;
  while (std::getline(in, token, ',')) {
    if (token == "MINIMIZE") {
      out.push_back(Direction::kMinimize);
    } else if (token == "MAXIMIZE") {
      out.push_back(Direction::kMaximize);
    } else {
      return absl::DataLossError("unknown direction '" + token + "' in studies table");
    }
  }
  return out;
}

nlohmann::json ValueToJson(const ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string EncodeFixedParams(const std::map<std::string, ParamValue>& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : params) j[name] = ValueToJson(value);
  return j.dump();
}

absl::StatusOr<std::map<std::string, ParamValue>> DecodeFixedParams(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::DataLossError("bad fixed_params_json: " + text);
  std::map<std::string, ParamValue> out;
  for (const auto& [name, value] : j.items()) {
    if (value.is_boolean()) {
      out[name] = value.get<bool>();
    } else if (value.is_number_integer()) {
      out[name] = value.get<int64_t>();
    } else if (value.is_number()) {
      out[name] = value.get<double>();
    } else if (value.is_string()) {
      out[name] = value.get<std::string>();
    } else {
      return absl::DataLossError("bad fixed parameter '" + name + "': " + value.dump());
    }
  }
  return out;
}


class SqliteStorage final : public Storage {
 public:
  SqliteStorage(std::unique_ptr<SQLite::Database> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  ~SqliteStorage() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (!committer_.joinable()) return;  // never opened for writing
    committer_.join();
    absl::MutexLock lock(&mu_);
    spdlog::info("database {}: {} changes written in {} commits", path_, submitted_, commits_);
  }

  absl::Status Prepare();
  absl::StatusOr<LoadedDatabase> LoadAll() override;
  void SetFailureHandler(std::function<void(const absl::Status&)> on_failure) override {
    absl::MutexLock lock(&mu_);
    on_failure_ = std::move(on_failure);
  }
  Ticket Submit(Mutation m) override;
  absl::Status WaitDurable(Ticket ticket) override;
  void OnDurable(Ticket ticket, std::function<void(absl::Status)> done) override;
  Ticket LastSubmitted() const override {
    absl::MutexLock lock(&mu_);
    return submitted_;
  }
  void Backup(const std::string& path, std::function<void(absl::Status)> done) override;
  void StopBackups() override {
    absl::MutexLock lock(&mu_);
    backups_stopped_ = true;
  }

 private:
  // LoadAll's steps, each over one table or two.
  struct Loading {
    struct Where {
      size_t study;
      size_t trial;
    };
    LoadedDatabase db;
    std::unordered_map<StudyId, size_t> study_index;
    std::unordered_map<TrialId, Where> where;
    FrozenTrial* Trial(TrialId id) {
      auto it = where.find(id);
      return it == where.end() ? nullptr : &db.studies[it->second.study].trials[it->second.trial];
    }
  };
  absl::Status LoadStudies(Loading& l);
  absl::Status LoadTrials(Loading& l);
  absl::Status LoadParams(Loading& l);
  void LoadValuesAndAttrs(Loading& l);
  void CommitLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for work; false when stopping with nothing left to do.
  bool AwaitWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || backup_running_ || stopping_;
  }
  // Takes up to kMaxBatch mutations off the queue; `*last` is the ticket
  // of the last one taken.
  std::vector<Mutation> TakeBatch(Ticket* last) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a commit's outcome and runs the callbacks it answers (without
  // the lock, so submissions go on meanwhile).
  void FinishBatch(size_t size, Ticket last, const absl::Status& committed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CommitBatch(const std::vector<Mutation>& batch);
  struct BackupCopy {
    std::string path;
    std::function<void(absl::Status)> done;
    Ticket after = 0;  // the copy holds every change up to this ticket
    std::chrono::steady_clock::time_point start;
    // Declared in this order so the backup ends before its file closes.
    std::unique_ptr<SQLite::Database> file;
    std::unique_ptr<SQLite::Backup> backup;
  };
  // Called and returns with mu_ held; lets go of it while copying pages.
  void AdvanceBackup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<absl::Status> StepBackup(BackupCopy& copy);
  void Apply(const mutation::PutStudy& m);
  void Apply(const mutation::DeleteStudy& m);
  void Apply(const mutation::InsertTrial& m);
  void Apply(const mutation::UpdateTrial& m);
  void Apply(const mutation::InsertParam& m);
  void Apply(const mutation::InsertIntermediate& m);
  void Apply(const mutation::SetStudyUserAttr& m);
  void Apply(const mutation::SetTrialUserAttr& m);
  void Apply(const mutation::SetTrialSystemAttr& m);
  void InsertParamRow(TrialId trial_id, int64_t position, const TrialParam& p);
  void InsertAttrRow(const char* sql, TrialId trial_id, const std::string& key,
                     const std::string& json);
  SQLite::Statement& Stmt(const char* sql);

  // Only the committer thread touches db_ after LoadAll.
  std::unique_ptr<SQLite::Database> db_;
  const std::string path_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> statements_;
  std::unordered_map<TrialId, int64_t> param_count_;  // next param position per trial
  std::unique_ptr<BackupCopy> backup_;  // committer only: the backup being written

  mutable absl::Mutex mu_;
  std::vector<Mutation> queue_ ABSL_GUARDED_BY(mu_);
  // A backup asked for and not yet begun by the committer.
  std::unique_ptr<BackupCopy> backup_request_ ABSL_GUARDED_BY(mu_);
  // From a backup's request until its `done`.
  bool backup_running_ ABSL_GUARDED_BY(mu_) = false;
  bool backups_stopped_ ABSL_GUARDED_BY(mu_) = false;
  Ticket submitted_ ABSL_GUARDED_BY(mu_) = 0;  // last ticket handed out
  Ticket finished_ ABSL_GUARDED_BY(mu_) = 0;   // last ticket whose commit ended
  Ticket last_good_ ABSL_GUARDED_BY(mu_) = 0;  // last ticket committed successfully
  absl::Status failure_ ABSL_GUARDED_BY(mu_);  // first commit error
  // Callbacks waiting for their ticket's commit.
  std::multimap<Ticket, std::function<void(absl::Status)>> callbacks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(const absl::Status&)> on_failure_ ABSL_GUARDED_BY(mu_);
  std::thread committer_;
};

absl::Status StoppingError() {
  return absl::UnavailableError("the server is stopping; the backup was not written");
}

// Why `path` cannot be the server's database, if a look at its file system
// can tell: read-only, missing, not writable by this user.
absl::Status CheckWritable(const std::string& path);

absl::Status Translate(const SQLite::Exception& e, const std::string& what) {
  const int code = e.getErrorCode();
  std::string msg = what + ": " + e.what();
  if (code == SQLITE_NOTADB) return absl::FailedPreconditionError(msg);
  if (code == SQLITE_CORRUPT) return absl::DataLossError(msg);
  if (code == SQLITE_CONSTRAINT) return absl::AlreadyExistsError(msg);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CANTOPEN ||
      code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_READONLY ||
      code == SQLITE_PERM) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

absl::Status SqliteStorage::Prepare() {
  try {
    // Only this server uses the file: holding its lock for the whole run
    // spares the per-transaction lock calls and the shared-memory index, and
    // keeps a second server off the same file. Must precede the first read.
    db_->exec("PRAGMA locking_mode=EXCLUSIVE");
    // The first read fails with SQLITE_NOTADB on a file that is not SQLite,
    // before we have written anything to it.
    const int64_t n_tables = db_->execAndGet("SELECT count(*) FROM sqlite_master").getInt64();
    const int app_id = db_->execAndGet("PRAGMA application_id").getInt();
    if (n_tables > 0 && app_id != kApplicationId) {
      return absl::FailedPreconditionError(
          path_ + " is a SQLite database but not a Parzen one (application_id " +
          std::to_string(app_id) + "); refusing to modify it. Choose another --db path.");
    }
    int version = 0;
    if (n_tables > 0) version = db_->execAndGet("PRAGMA user_version").getInt();
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          path_ + " has schema version " + std::to_string(version) +
          ", newer than this parzen-server understands (" + std::to_string(kSchemaVersion) +
          "); use a newer parzen-server.");
    }
    if (path_ != ":memory:") {
      const std::string mode = db_->execAndGet("PRAGMA journal_mode=WAL").getString();
      if (mode != "wal") {
        return absl::UnavailableError(path_ + ": cannot switch to WAL mode (got " + mode + ")");
      }
    }
    // Take the write lock now, so a file in use fails start-up, not a commit.
    db_->exec("BEGIN EXCLUSIVE");
    db_->exec("COMMIT");
    // FULL: every commit reaches the disk before the RPC is answered.
    db_->exec("PRAGMA synchronous=FULL");
    db_->exec("PRAGMA busy_timeout=5000");
    for (int v = version; v < kSchemaVersion; ++v) {
      SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
      db_->exec(kMigrations[v]);
      db_->exec("PRAGMA user_version=" + std::to_string(v + 1));
      db_->exec("PRAGMA application_id=" + std::to_string(kApplicationId));
      tx.commit();
      spdlog::info("database {} migrated to schema version {}", path_, v + 1);
    }
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_BUSY) {
      return absl::FailedPreconditionError(
          path_ + " is in use by another process (another parzen-server?); refusing to share it.");
    }
    if (e.getErrorCode() == SQLITE_NOTADB) {
      return absl::FailedPreconditionError(path_ +
                                           " is not a SQLite database; refusing to modify it. "
                                           "Choose another --db path.");
    }
    return Translate(e, "opening " + path_);
  }
  return absl::OkStatus();
}

// Throws SQLite::Exception; the callers' LoadAll translates it.
absl::Status SqliteStorage::LoadStudies(Loading& l) {
  SQLite::Statement meta(*db_, "SELECT value FROM parzen_meta WHERE key = 'max_study_id'");
  if (meta.executeStep()) l.db.max_study_id = meta.getColumn(0).getInt64();
  std::vector<LoadedStudy>& studies = l.db.studies;
  SQLite::Statement s(*db_,
                      "SELECT study_id, name, directions, config_json, create_time_us "
                      "FROM studies ORDER BY study_id");
  while (s.executeStep()) {
    LoadedStudy ls;
    ls.record.study_id = s.getColumn(0).getInt64();
    ls.record.name = s.getColumn(1).getString();
    PARZEN_ASSIGN_OR_RETURN(ls.record.directions, DecodeDirections(s.getColumn(2).getString()));
    ls.record.config_json = s.getColumn(3).getString();
    ls.record.create_time_us = s.getColumn(4).getInt64();
    l.study_index[ls.record.study_id] = studies.size();
    studies.push_back(std::move(ls));
  }
  SQLite::Statement a(*db_, "SELECT study_id, key, value_json FROM study_user_attrs");
  while (a.executeStep()) {
    auto it = l.study_index.find(a.getColumn(0).getInt64());
    if (it != l.study_index.end()) {
      studies[it->second].record.user_attrs[a.getColumn(1).getString()] =
          a.getColumn(2).getString();
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStorage::LoadTrials(Loading& l) {
  SQLite::Statement t(*db_,
                      "SELECT trial_id, study_id, number, state, trial_values, start_time_us, "
                      "complete_time_us, fail_reason, retry_of, retry_count, worker_id, "
                      "fixed_params_json, ask_request_id FROM trials ORDER BY study_id, number");
  while (t.executeStep()) {
    auto it = l.study_index.find(t.getColumn(1).getInt64());
    if (it == l.study_index.end()) continue;
    LoadedStudy& ls = l.db.studies[it->second];
    FrozenTrial ft;
    ft.trial_id = t.getColumn(0).getInt64();
    ft.study_id = ls.record.study_id;
    ft.number = t.getColumn(2).getInt64();
    if (ft.number != static_cast<int64_t>(ls.trials.size())) {
      return absl::DataLossError("study '" + ls.record.name + "' lacks trial number " +
                                 std::to_string(ls.trials.size()));
    }
    auto state = TrialStateFromName(t.getColumn(3).getString());
    if (!state) return absl::DataLossError("bad trial state " + t.getColumn(3).getString());
    ft.state = *state;
    ft.values = DecodeValues(t.getColumn(4).getString());
    ft.start_time_us = t.getColumn(5).getInt64();
    ft.complete_time_us = t.getColumn(6).getInt64();
    ft.fail_reason = t.getColumn(7).getString();
    if (!t.getColumn(8).isNull()) ft.retry_of = t.getColumn(8).getInt64();
    ft.retry_count = t.getColumn(9).getInt64();
    ft.worker_id = t.getColumn(10).getString();
    PARZEN_ASSIGN_OR_RETURN(ft.fixed_params, DecodeFixedParams(t.getColumn(11).getString()));
    ft.ask_request_id = t.getColumn(12).getString();
    l.where[ft.trial_id] = Loading::Where{it->second, ls.trials.size()};
    ls.trials.push_back(std::move(ft));
  }
  return absl::OkStatus();
}

absl::Status SqliteStorage::LoadParams(Loading& l) {
  SQLite::Statement p(*db_,
                      "SELECT trial_id, name, distribution_json, internal_value "
                      "FROM trial_params ORDER BY trial_id, position");
  while (p.executeStep()) {
    FrozenTrial* ft = l.Trial(p.getColumn(0).getInt64());
    if (ft == nullptr) continue;
    TrialParam param;
    param.name = p.getColumn(1).getString();
    auto dist = DistributionFromJson(p.getColumn(2).getString());
    if (!dist.ok()) {
      return absl::DataLossError("trial " + std::to_string(ft->trial_id) + " parameter '" +
                                 param.name + "': " + std::string(dist.status().message()));
    }
    param.distribution = *std::move(dist);
    param.internal_value = p.getColumn(3).getDouble();
    ft->fixed_params.erase(param.name);
    ft->params.push_back(std::move(param));
    param_count_[ft->trial_id] = static_cast<int64_t>(ft->params.size());
  }
  return absl::OkStatus();
}

void SqliteStorage::LoadValuesAndAttrs(Loading& l) {
  SQLite::Statement iv(*db_, "SELECT trial_id, step, value FROM trial_intermediate_values");
  while (iv.executeStep()) {
    FrozenTrial* ft = l.Trial(iv.getColumn(0).getInt64());
    if (ft == nullptr) continue;
    ft->intermediate_values[iv.getColumn(1).getInt64()] =
        iv.getColumn(2).isNull() ? std::nan("") : iv.getColumn(2).getDouble();
  }
  for (auto [table, member] : {std::pair{"trial_user_attrs", &FrozenTrial::user_attrs},
                               std::pair{"trial_system_attrs", &FrozenTrial::system_attrs}}) {
    SQLite::Statement a(*db_, std::string("SELECT trial_id, key, value_json FROM ") + table);
    while (a.executeStep()) {
      FrozenTrial* ft = l.Trial(a.getColumn(0).getInt64());
      if (ft != nullptr) (ft->*member)[a.getColumn(1).getString()] = a.getColumn(2).getString();
    }
  }
}

absl::StatusOr<LoadedDatabase> SqliteStorage::LoadAll() {
  Loading l;
  try {
    PARZEN_RETURN_IF_ERROR(LoadStudies(l));
    PARZEN_RETURN_IF_ERROR(LoadTrials(l));
    PARZEN_RETURN_IF_ERROR(LoadParams(l));
    LoadValuesAndAttrs(l);
  } catch (const SQLite::Exception& e) {
    return Translate(e, "loading " + path_);
  }
  LoadedDatabase& db = l.db;
  for (const LoadedStudy& ls : db.studies) {
    db.max_study_id = std::max(db.max_study_id, ls.record.study_id);
  }
  committer_ = std::thread([this] { CommitLoop(); });
  return std::move(db);
}

Storage::Ticket SqliteStorage::Submit(Mutation m) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(m));
  return ++submitted_;
}

absl::Status SqliteStorage::WaitDurable(Ticket ticket) {
  absl::MutexLock lock(&mu_);
  struct Done {
    const SqliteStorage* storage;
    Ticket ticket;
    // Read only under mu_, which Await holds while it evaluates this.
    bool operator()() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return storage->finished_ >= ticket;
    }
  } done{this, ticket};
  mu_.Await(absl::Condition(&done));
  return ticket <= last_good_ ? absl::OkStatus() : failure_;
}

void SqliteStorage::OnDurable(Ticket ticket, std::function<void(absl::Status)> done) {
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ < ticket) {
      callbacks_.emplace(ticket, std::move(done));
      return;
    }
    status = ticket <= last_good_ ? absl::OkStatus() : failure_;
  }
  done(status);
}

void SqliteStorage::Backup(const std::string& path, std::function<void(absl::Status)> done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (backups_stopped_) {
      refused = StoppingError();
    } else if (backup_running_) {
      refused = absl::UnavailableError(
          "another backup is being written; try again when it has finished");
    } else {
      backup_running_ = true;
      backup_request_ = std::make_unique<BackupCopy>();
      backup_request_->path = path;
      backup_request_->done = std::move(done);
      backup_request_->after = submitted_;
    }
  }
  if (!refused.ok()) done(refused);
}

bool SqliteStorage::AwaitWork() {
  mu_.Await(absl::Condition(this, &SqliteStorage::HasWorkOrStopping));
  return !queue_.empty() || backup_running_;  // else stopping, and everything is committed
}

std::vector<Mutation> SqliteStorage::TakeBatch(Ticket* last) {
  std::vector<Mutation> batch;
  if (queue_.size() <= kMaxBatch) {
    batch.swap(queue_);
    *last = submitted_;
  } else {
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + kMaxBatch));
    queue_.erase(queue_.begin(), queue_.begin() + kMaxBatch);
    *last = finished_ + kMaxBatch;
  }
  return batch;
}

void SqliteStorage::FinishBatch(size_t size, Ticket last, const absl::Status& committed) {
  std::function<void(const absl::Status&)> notify;
  if (!committed.ok() && failure_.ok()) {
    spdlog::critical("commit of {} changes to {} failed: {}; the server must be restarted", size,
                     path_, committed.ToString());
    // The SQLite text stays in the log; clients get a bounded message.
    failure_ = absl::UnavailableError(
        "the study database could not be written; the server is restarting (see its log)");
    notify = on_failure_;
  }
  finished_ = last;
  ++commits_;
  if (failure_.ok()) last_good_ = last;
  const absl::Status outcome = failure_;
  auto ready_end = callbacks_.upper_bound(last);
  std::vector<std::function<void(absl::Status)>> ready;
  for (auto it = callbacks_.begin(); it != ready_end; ++it) ready.push_back(std::move(it->second));
  callbacks_.erase(callbacks_.begin(), ready_end);
  // Callbacks answer RPCs; run them without holding the queue lock so
  // new submissions keep flowing into the next batch meanwhile.
  mu_.Unlock();
  for (auto& done : ready) done(outcome);
  if (notify) notify(outcome);
  mu_.Lock();
}

void SqliteStorage::CommitLoop() {
  absl::MutexLock lock(&mu_);
  while (AwaitWork()) {
    // A backup goes on a few pages at a time between commits: under steady
    // load the queue is never empty, and neither may wait for the other.
    if (backup_running_) AdvanceBackup();
    if (queue_.empty()) continue;
    Ticket last = 0;
    std::vector<Mutation> batch = TakeBatch(&last);
    const bool healthy = failure_.ok();
    mu_.Unlock();
    absl::Status committed = healthy ? CommitBatch(batch) : absl::OkStatus();
    mu_.Lock();
    FinishBatch(batch.size(), last, committed);
  }
}

void SqliteStorage::AdvanceBackup() {
  if (!backup_) {
    // Not before the changes submitted ahead of the request are in.
    if (!backups_stopped_ && finished_ < backup_request_->after) return;
    backup_ = std::move(backup_request_);
  }
  // After a failed commit the file lacks changes a caller saw accepted:
  // no backup then.
  absl::Status health = failure_;
  if (health.ok() && backups_stopped_) health = StoppingError();
  mu_.Unlock();
  std::optional<absl::Status> ended = health.ok() ? StepBackup(*backup_) : health;
  if (!ended) {
    mu_.Lock();
    return;
  }
  std::function<void(absl::Status)> done = std::move(backup_->done);
  backup_.reset();  // closes the copy
  mu_.Lock();
  // Before `done`: the client may ask for the next backup as soon as it hears.
  backup_running_ = false;
  mu_.Unlock();
  done(*ended);
  mu_.Lock();
}

std::optional<absl::Status> SqliteStorage::StepBackup(BackupCopy& copy) {
  try {
    if (!copy.backup) {
      copy.start = std::chrono::steady_clock::now();
      copy.file = std::make_unique<SQLite::Database>(
          copy.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      // No journal: a copy that fails is thrown away whole. The final
      // commit still syncs the file.
      copy.file->exec("PRAGMA journal_mode=OFF");
      copy.file->exec("PRAGMA synchronous=FULL");
      // SQLite's online backup, driven through this connection: pages
      // this connection changes after they were copied are copied again
      // as it commits, so the copy is the database as of its last step.
      copy.backup = std::make_unique<SQLite::Backup>(*copy.file, *db_);
    }
    // SQLite restarts the backup of an in-memory database whenever that
    // database commits (pager.c), so under load a stepped copy could start
    // over forever: copy it in one go (it is in memory, so quick).
    const int rc = copy.backup->executeStep(path_ == ":memory:" ? -1 : kBackupPagesPerStep);
    if (rc == SQLITE_OK) return std::nullopt;
    if (rc != SQLITE_DONE) {
      // BUSY or LOCKED: someone else holds our private file.
      throw SQLite::Exception(sqlite3_errstr(rc), rc);
    }
    const int pages = copy.backup->getTotalPageCount();
    copy.backup.reset();
    copy.file.reset();
    // Whether SQLite synced with the journal off is its business; the copy
    // is only published once it is on disk.
    // The header still says WAL, as the live database's does: then every
    // reader of the copy would add -wal and -shm files beside it, and a
    // read-only one could not open it at all. A plain rollback-journal file
    // instead, as VACUUM INTO makes.
    {
      SQLite::Database reopened(copy.path, SQLite::OPEN_READWRITE);
      reopened.exec("PRAGMA locking_mode=EXCLUSIVE");
      const std::string mode = reopened.execAndGet("PRAGMA journal_mode=DELETE").getString();
      if (mode != "delete") {
        throw SQLite::Exception("the copy kept journal mode " + mode, SQLITE_ERROR);
      }
    }
    const int fd = ::open(copy.path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) {
      spdlog::error("backup of {} to {}: the copy could not be synced", path_, copy.path);
      return absl::InternalError("the backup could not be synced to disk");
    }
    spdlog::info("database {} backed up to {} ({} pages) in {} ms", path_, copy.path, pages,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - copy.start)
                     .count());
    return absl::OkStatus();
  } catch (const std::exception& e) {
    // Nothing may escape the committer thread.
    spdlog::error("backup of {} to {} failed: {}", path_, copy.path, e.what());
    // The one failure a person can act on: the copy's file system is full
    // (the live database is not, or its commits would have failed).
    const auto* sqlite_error = dynamic_cast<const SQLite::Exception*>(&e);
    if (sqlite_error != nullptr && sqlite_error->getErrorCode() == SQLITE_FULL) {
      return absl::ResourceExhaustedError(
          "no space left for the backup: the backup directory's file system is full");
    }
    // Not UNAVAILABLE: a client would retry a whole copy that failed here.
    return absl::InternalError("the backup could not be written: " + std::string(e.what()));
  }
}

absl::Status SqliteStorage::CommitBatch(const std::vector<Mutation>& batch) {
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    for (const Mutation& m : batch) {
      std::visit([this](const auto& x) { Apply(x); }, m);
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    const absl::Status status = Translate(e, "commit");
    // SQLite says "disk I/O error" whatever lies beneath; the file system
    // can say more (it turned read-only, or the directory went away).
    if (e.getErrorCode() == SQLITE_IOERR) {
      if (const absl::Status why = CheckWritable(path_); !why.ok()) {
        return absl::UnavailableError(std::string(status.message()) + ": " +
                                      std::string(why.message()));
      }
    }
    return status;
  } catch (const std::exception& e) {
    // Nothing may escape the committer thread: that would end the process
    // with acknowledged RPCs still waiting.
    return absl::InternalError(std::string("commit: ") + e.what());
  }
  return absl::OkStatus();
}

SQLite::Statement& SqliteStorage::Stmt(const char* sql) {
  auto& slot = statements_[sql];
  if (!slot) slot = std::make_unique<SQLite::Statement>(*db_, sql);
  slot->reset();
  slot->clearBindings();
  return *slot;
}

void SqliteStorage::Apply(const mutation::PutStudy& m) {
  auto& s = Stmt(
      "INSERT OR REPLACE INTO studies (study_id, name, directions, config_json, create_time_us) "
      "VALUES (?, ?, ?, ?, ?)");
  s.bind(1, m.study.study_id);
  s.bind(2, m.study.name);
  s.bind(3, EncodeDirections(m.study.directions));
  s.bind(4, m.study.config_json);
  s.bind(5, m.study.create_time_us);
  s.exec();
  auto& meta = Stmt(
      "INSERT INTO parzen_meta (key, value) VALUES ('max_study_id', ?) "
      "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)");
  meta.bind(1, m.study.study_id);
  meta.exec();
  auto& d = Stmt("DELETE FROM study_user_attrs WHERE study_id = ?");
  d.bind(1, m.study.study_id);
  d.exec();
  for (const auto& [key, json] : m.study.user_attrs) {
    auto& a = Stmt("INSERT INTO study_user_attrs (study_id, key, value_json) VALUES (?, ?, ?)");
    a.bind(1, m.study.study_id);
    a.bind(2, key);
    a.bind(3, json);
    a.exec();
  }
}

void SqliteStorage::Apply(const mutation::DeleteStudy& m) {
  static constexpr const char* kDeletes[] = {
      "DELETE FROM trial_params WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)",
      "DELETE FROM trial_intermediate_values WHERE trial_id IN "
      "(SELECT trial_id FROM trials WHERE study_id = ?)",
      "DELETE FROM trial_user_attrs WHERE trial_id IN "
      "(SELECT trial_id FROM trials WHERE study_id = ?)",
      "DELETE FROM trial_system_attrs WHERE trial_id IN "
      "(SELECT trial_id FROM trials WHERE study_id = ?)",
      "DELETE FROM trials WHERE study_id = ?",
      "DELETE FROM study_user_attrs WHERE study_id = ?",
      "DELETE FROM studies WHERE study_id = ?",
  };
  for (const char* sql : kDeletes) {
    auto& s = Stmt(sql);
    s.bind(1, m.study_id);
    s.exec();
  }
}

void SqliteStorage::InsertParamRow(TrialId trial_id, int64_t position, const TrialParam& p) {
  auto& s = Stmt(
      "INSERT INTO trial_params (trial_id, position, name, distribution_json, internal_value) "
      "VALUES (?, ?, ?, ?, ?)");
  s.bind(1, trial_id);
  s.bind(2, position);
  s.bind(3, p.name);
  s.bind(4, DistributionToJson(p.distribution));
  s.bind(5, p.internal_value);
  s.exec();
}

void SqliteStorage::InsertAttrRow(const char* sql, TrialId trial_id, const std::string& key,
                                  const std::string& json) {
  auto& s = Stmt(sql);
  s.bind(1, trial_id);
  s.bind(2, key);
  s.bind(3, json);
  s.exec();
}

void SqliteStorage::Apply(const mutation::InsertTrial& m) {
  const FrozenTrial& t = m.trial;
  auto& s = Stmt(
      "INSERT INTO trials (trial_id, study_id, number, state, trial_values, start_time_us, "
      "complete_time_us, fail_reason, retry_of, retry_count, worker_id, fixed_params_json, "
      "ask_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, t.trial_id);
  s.bind(2, t.study_id);
  s.bind(3, t.number);
  s.bind(4, std::string(TrialStateName(t.state)));
  s.bind(5, EncodeValues(t.values));
  s.bind(6, t.start_time_us);
  s.bind(7, t.complete_time_us);
  s.bind(8, t.fail_reason);
  if (t.retry_of) {
    s.bind(9, *t.retry_of);
  } else {
    s.bind(9);
  }
  s.bind(10, t.retry_count);
  s.bind(11, t.worker_id);
  s.bind(12, EncodeFixedParams(t.fixed_params));
  s.bind(13, t.ask_request_id);
  s.exec();
  int64_t position = 0;
  for (const TrialParam& p : t.params) InsertParamRow(t.trial_id, position++, p);
  if (position > 0) param_count_[t.trial_id] = position;
  for (const auto& [key, json] : t.user_attrs) InsertAttrRow(kUserAttrSql, t.trial_id, key, json);
  for (const auto& [key, json] : t.system_attrs) {
    InsertAttrRow(kSystemAttrSql, t.trial_id, key, json);
  }
  for (const auto& [step, value] : t.intermediate_values) {
    Apply(mutation::InsertIntermediate{t.trial_id, step, value});
  }
}

void SqliteStorage::Apply(const mutation::UpdateTrial& m) {
  const FrozenTrial& t = m.trial;
  auto& s = Stmt(
      "UPDATE trials SET state = ?, trial_values = ?, start_time_us = ?, complete_time_us = ?, "
      "fail_reason = ?, worker_id = ?, ask_request_id = ? WHERE trial_id = ?");
  s.bind(1, std::string(TrialStateName(t.state)));
  s.bind(2, EncodeValues(t.values));
  s.bind(3, t.start_time_us);
  s.bind(4, t.complete_time_us);
  s.bind(5, t.fail_reason);
  s.bind(6, t.worker_id);
  s.bind(7, t.ask_request_id);
  s.bind(8, t.trial_id);
  s.exec();
  // Finished trials never receive parameters again.
  if (IsFinished(t.state)) param_count_.erase(t.trial_id);
}

void SqliteStorage::Apply(const mutation::InsertParam& m) {
  int64_t& position = param_count_[m.trial_id];
  InsertParamRow(m.trial_id, position++, m.param);
}

void SqliteStorage::Apply(const mutation::InsertIntermediate& m) {
  auto& s = Stmt(
      "INSERT OR IGNORE INTO trial_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)");
  s.bind(1, m.trial_id);
  s.bind(2, m.step);
  if (std::isnan(m.value)) {
    s.bind(3);
  } else {
    s.bind(3, m.value);
  }
  s.exec();
}

void SqliteStorage::Apply(const mutation::SetStudyUserAttr& m) {
  auto& s = Stmt(
      "INSERT OR REPLACE INTO study_user_attrs (study_id, key, value_json) VALUES (?, ?, ?)");
  s.bind(1, m.study_id);
  s.bind(2, m.key);
  s.bind(3, m.value_json);
  s.exec();
}

void SqliteStorage::Apply(const mutation::SetTrialUserAttr& m) {
  InsertAttrRow(kUserAttrSql, m.trial_id, m.key, m.value_json);
}

void SqliteStorage::Apply(const mutation::SetTrialSystemAttr& m) {
  InsertAttrRow(kSystemAttrSql, m.trial_id, m.key, m.value_json);
}

// SQLite reports a database it cannot write as a "disk I/O error" on the
// first write; this says what is wrong before anything is opened.
absl::Status CheckWritable(const std::string& path) {
  if (path == ":memory:") return absl::OkStatus();
  const std::filesystem::path file(path);
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  const auto read_only = [&] {
    return absl::FailedPreconditionError(
        path + " is on a read-only file system; the server writes every change to its "
               "database (and its -wal file beside it). Remount it read-write, or serve a copy.");
  };
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) return read_only();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(path + ": the directory " + dir.string() +
                                         " does not exist");
  }
  const bool exists = std::filesystem::exists(file, ec);
  if ((exists && ::access(path.c_str(), W_OK) != 0) || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        path + (exists ? " or its directory" : "'s directory") +
        " is not writable by this user; the server needs both (SQLite writes a -wal file "
        "beside the database).");
  }
  // Neither statvfs nor access sees a file system the kernel turned
  // read-only after a disk error (ext4's errors=remount-ro on recent
  // kernels): creating a file does.
  std::string probe = (dir / ("." + file.filename().string() + ".probe-XXXXXX")).string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0 && errno == EROFS) return read_only();
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path) {
  PARZEN_RETURN_IF_ERROR(CheckWritable(path));
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  } catch (const SQLite::Exception& e) {
    return absl::UnavailableError("cannot open database " + path + ": " + e.what());
  }
  auto storage = std::make_unique<SqliteStorage>(std::move(db), path);
  PARZEN_RETURN_IF_ERROR(storage->Prepare());
  return storage;
}

}  // namespace parzen
