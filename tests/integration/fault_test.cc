// Faults under a real server, each checked on the data: the database's file
// system filling up while a study runs, turning read-only while it runs
// (the kernel's answer to a failing disk), read-only at start, a truncated
// or corrupted database at start, watchers that vanish mid-stream. The
// file-system tests mount small tmpfs or loop-device file systems, which
// needs root: scripts/test.sh runs as root (or through sudo), and they fail,
// saying so, rather than skip.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mount.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/testing/child_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/wait.h"

namespace parzen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

// A tmpfs mounted for one test, unmounted (lazily, so an open file cannot
// keep it) when the object goes.
class Tmpfs {
 public:
  Tmpfs(std::string dir, const std::string& options) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    mounted_ = mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) {
      ADD_FAILURE() << "cannot mount a tmpfs at " << dir_ << " (" << std::strerror(errno)
                    << "): these tests need root (scripts/test.sh runs them as root)";
    }
  }
  ~Tmpfs() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  // Remounts with `flags` (MS_RDONLY, or 0 for read-write) and `options`.
  bool Remount(unsigned long flags, const std::string& options) {
    const bool done =
        mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | flags, options.c_str()) == 0;
    EXPECT_TRUE(done) << "remount " << dir_ << " " << options << ": " << std::strerror(errno);
    return done;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Runs `args` to its end; its exit code (-1 if it did not end in a minute),
// with its output in `*output`.
int Run(const TempDir& dir, const std::vector<std::string>& args, std::string* output) {
  const std::string log = dir.File("command.log");
  ChildProcess child(args, log);
  const std::optional<int> code = child.WaitFor(std::chrono::minutes(1));
  *output = child.Log();
  return code.value_or(-1);
}

// An ext4 file system in a file, loop-mounted with errors=remount-ro: what
// the kernel does when a disk starts failing is turn the file system
// read-only under the files open on it, which no remount by hand can do (it
// is refused while a file is open for writing). ext4's trigger_fs_error
// raises such an error on demand.
class Ext4OnLoop {
 public:
  Ext4OnLoop(const TempDir& dir, int size_mb)
      : dir_(dir), image_(dir.File("ext4.img")), mount_point_(dir.File("ext4")) {
    std::filesystem::create_directories(mount_point_);
    std::ofstream{image_}.close();
    std::filesystem::resize_file(image_, static_cast<uintmax_t>(size_mb) << 20);
    std::string out;
    if (Run(dir_, {"mkfs.ext4", "-q", "-F", image_}, &out) != 0) {
      ADD_FAILURE() << "mkfs.ext4 " << image_ << ":\n" << out;
      return;
    }
    mounted_ = Mount();
  }
  ~Ext4OnLoop() {
    // The loop device goes with the mount (mount -o loop sets autoclear).
    if (mounted_) umount2(mount_point_.c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  std::string File(const std::string& name) const { return mount_point_ + "/" + name; }

  // Raises an ext4 error, as a failing disk would; true once the file system
  // is read-only.
  bool FailIntoReadOnly() {
    const std::optional<std::string> device = Device();
    if (!device) return false;
    const std::string trigger = "/sys/fs/ext4/" + *device + "/trigger_fs_error";
    std::ofstream(trigger) << "parzen FaultTest: a disk error\n";
    return WaitUntil([&] { return !Writable(); }, seconds(10));
  }
  // What an operator does after the disk is replaced: unmount, repair
  // (replaying the journal), mount read-write.
  bool Repair() {
    if (umount2(mount_point_.c_str(), 0) != 0) {
      ADD_FAILURE() << "umount " << mount_point_ << ": " << std::strerror(errno);
      return false;
    }
    mounted_ = false;
    std::string out;
    // 1: errors were corrected, as they are after the error above.
    const int code = Run(dir_, {"e2fsck", "-f", "-y", image_}, &out);
    EXPECT_TRUE(code == 0 || code == 1) << "e2fsck exited " << code << ":\n" << out;
    mounted_ = Mount();
    return mounted_ && Writable();
  }

 private:
  bool Mount() {
    std::string out;
    const int code =
        Run(dir_, {"mount", "-o", "loop,errors=remount-ro", image_, mount_point_}, &out);
    EXPECT_EQ(code, 0) << "mount -o loop " << image_ << " (needs root and a free loop device):\n"
                       << out;
    return code == 0;
  }
  // The mount's device in /proc/mounts.
  std::optional<std::string> MountEntry() const {
    std::ifstream mounts("/proc/mounts");
    std::string device, point, rest;
    while (mounts >> device >> point && std::getline(mounts, rest)) {
      if (point == mount_point_) return device;
    }
    return std::nullopt;
  }
  std::optional<std::string> Device() const {
    const auto entry = MountEntry();
    if (!entry) return std::nullopt;
    return std::filesystem::path(*entry).filename().string();
  }
  // Whether a file can be created; /proc/mounts may go on saying "rw" (with
  // "emergency_ro") after an error.
  bool Writable() const {
    const std::string probe = File(".probe");
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno != EROFS;
    ::close(fd);
    ::unlink(probe.c_str());
    return true;
  }

  const TempDir& dir_;
  std::string image_;
  std::string mount_point_;
  bool mounted_ = false;
};

std::string Bytes(const std::string& path) { return ReadFileOrEmpty(path); }

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string IntegrityCheck(const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA integrity_check").getString();
}

grpc::Status SetUserAttr(v1::StudyService::Stub& stub, int64_t trial_id, const std::string& key,
                         const std::string& value) {
  v1::SetTrialUserAttrRequest req;
  req.set_trial_id(trial_id);
  req.set_key(key);
  req.mutable_value()->set_string_value(value);
  v1::SetTrialUserAttrResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
  return stub.SetTrialUserAttr(&ctx, req, &resp);
}

// What the server acknowledged about one trial.
struct Acked {
  int64_t trial_id = 0;
  double x = 0;
  std::string blob;  // the user attribute, once acknowledged
  bool told = false;
};

TEST(FaultTest, DiskFullStopsTheServerAndARestartWithSpaceServesEveryAcknowledgedWrite) {
  TempDir dir;
  Tmpfs fs(dir.File("fs"), "size=1m");
  ASSERT_TRUE(fs.ok());
  const std::string db = fs.File("full.db");
  auto server = ServerProcess::Start(db);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("full");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub, create).ok());

  // Trials with an 8 KiB attribute each until a write fails: 1 MiB holds
  // about a hundred.
  std::vector<Acked> acked;
  grpc::Status failure;
  for (int i = 0; i < 10000 && failure.ok(); ++i) {
    v1::AskResponse asked;
    failure = Ask(*stub, "full", {FloatSpec("x", 0, 1)}, &asked);
    if (!failure.ok()) break;
    Acked& a = acked.emplace_back();
    a.trial_id = asked.trial().trial_id();
    a.x = asked.trial().params(0).internal_value();
    const std::string blob(8192, static_cast<char>('a' + i % 26));
    failure = SetUserAttr(*stub, a.trial_id, "blob", blob);
    if (!failure.ok()) break;
    a.blob = blob;
    failure = Tell(*stub, a.trial_id, v1::COMPLETE, {a.x});
    a.told = failure.ok();
  }
  ASSERT_FALSE(failure.ok()) << "1 MiB never filled up";
  ASSERT_GE(acked.size(), 20u);
  // The call whose commit failed is told to come back later, as the README
  // says; the server stops with exit code 3 for its supervisor to restart.
  EXPECT_EQ(failure.error_code(), grpc::StatusCode::UNAVAILABLE) << failure.error_message();
  const std::optional<int> code = (*server)->WaitForExit(seconds(30));
  ASSERT_TRUE(code.has_value()) << "the server kept running with a full disk\n" << (*server)->Log();
  EXPECT_EQ(*code, 3) << (*server)->Log();
  EXPECT_THAT((*server)->Log(), HasSubstr("database or disk is full"));

  // Space comes back; the restarted server holds every acknowledged write.
  ASSERT_TRUE(fs.Remount(0, "size=64m"));
  EXPECT_EQ(IntegrityCheck(db), "ok");
  stub.reset();
  server = ServerProcess::Start(db);
  ASSERT_TRUE(server.ok()) << server.status();
  stub = (*server)->NewStub();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*stub, "full", &trials).ok());
  std::map<int64_t, v1::Trial> by_id;
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number(), static_cast<int64_t>(i)) << "numbering has a gap";
    by_id[trials[i].trial_id()] = trials[i];
  }
  int told = 0;
  for (const Acked& a : acked) {
    ASSERT_TRUE(by_id.count(a.trial_id)) << "acknowledged trial id " << a.trial_id << " is gone";
    const v1::Trial& t = by_id[a.trial_id];
    ASSERT_EQ(t.params_size(), 1);
    EXPECT_EQ(t.params(0).internal_value(), a.x);
    if (!a.blob.empty()) {
      EXPECT_EQ(t.user_attrs().at("blob").string_value(), a.blob);
    }
    if (a.told) {
      ++told;
      EXPECT_EQ(t.state(), v1::COMPLETE) << "trial id " << a.trial_id;
      ASSERT_EQ(t.values_size(), 1);
      EXPECT_EQ(t.values(0), a.x);
    }
  }
  EXPECT_GE(told, 19);
  // And it goes on.
  v1::AskResponse asked;
  EXPECT_TRUE(Ask(*stub, "full", {FloatSpec("x", 0, 1)}, &asked).ok());
  stub.reset();
  EXPECT_EQ((*server)->Terminate(), 0);
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

TEST(FaultTest, AFileSystemTurnedReadOnlyWhileRunningStopsTheServerAndLosesNothing) {
  TempDir dir;
  Ext4OnLoop fs(dir, 32);
  ASSERT_TRUE(fs.ok());
  const std::string db = fs.File("ro.db");
  ServerLaunch launch;
  launch.log_dir = dir.path();
  auto server = ServerProcess::Start(db, {}, launch);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("ro");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub, create).ok());
  std::vector<Acked> acked;
  for (int i = 0; i < 20; ++i) {
    v1::AskResponse asked;
    ASSERT_TRUE(Ask(*stub, "ro", {FloatSpec("x", 0, 1)}, &asked).ok());
    Acked& a = acked.emplace_back();
    a.trial_id = asked.trial().trial_id();
    a.x = asked.trial().params(0).internal_value();
    // The last one stays RUNNING.
    if (i < 19) {
      ASSERT_TRUE(Tell(*stub, a.trial_id, v1::COMPLETE, {a.x}).ok());
      a.told = true;
    }
  }

  ASSERT_TRUE(fs.FailIntoReadOnly()) << "the file system did not turn read-only";
  // The next write cannot commit: its caller is told to come back later, and
  // the server stops with exit code 3 for its supervisor to restart it.
  const grpc::Status failure = Tell(*stub, acked.back().trial_id, v1::COMPLETE, {acked.back().x});
  EXPECT_EQ(failure.error_code(), grpc::StatusCode::UNAVAILABLE) << failure.error_message();
  const std::optional<int> code = (*server)->WaitForExit(seconds(30));
  ASSERT_TRUE(code.has_value()) << "the server kept running on a read-only file system\n"
                                << (*server)->Log();
  EXPECT_EQ(*code, 3) << (*server)->Log();
  EXPECT_THAT((*server)->Log(), HasSubstr("commit: disk I/O error: " + db + " is on a read-only file system"));
  EXPECT_THAT((*server)->Log(), HasSubstr("stopped because the database could not be written"));
  // The log tells only of what was recorded: the acknowledged Tells, not
  // the one that failed.
  EXPECT_THAT((*server)->Log(), HasSubstr("trial 18 COMPLETE with value"));
  EXPECT_THAT((*server)->Log(), Not(HasSubstr("trial 19 COMPLETE")));
  // A restart on the still read-only file system is refused clearly.
  std::string out;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--listen", "127.0.0.1:0"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("is on a read-only file system"));

  // Once repaired, the restarted server holds every acknowledged write.
  stub.reset();
  ASSERT_TRUE(fs.Repair());
  EXPECT_EQ(IntegrityCheck(db), "ok");
  server = ServerProcess::Start(db, {}, launch);
  ASSERT_TRUE(server.ok()) << server.status();
  stub = (*server)->NewStub();
  std::vector<v1::Trial> trials;
  ASSERT_TRUE(ListAllTrials(*stub, "ro", &trials).ok());
  ASSERT_EQ(trials.size(), acked.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.number(), static_cast<int64_t>(i));
    EXPECT_EQ(t.trial_id(), acked[i].trial_id);
    ASSERT_EQ(t.params_size(), 1);
    EXPECT_EQ(t.params(0).internal_value(), acked[i].x);
    if (acked[i].told) {
      EXPECT_EQ(t.state(), v1::COMPLETE) << "trial " << i;
      ASSERT_EQ(t.values_size(), 1);
      EXPECT_EQ(t.values(0), acked[i].x);
    }
  }
  // The Tell that failed was not half-applied: the trial is still RUNNING,
  // and the client's retry now lands.
  EXPECT_EQ(trials.back().state(), v1::RUNNING);
  EXPECT_TRUE(Tell(*stub, acked.back().trial_id, v1::COMPLETE, {acked.back().x}).ok());
  stub.reset();
  EXPECT_EQ((*server)->Terminate(), 0);
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

// A database with study "s" of `n` told trials, made by a server; its path.
std::string MakeDatabase(const std::string& path, int n) {
  auto server = ServerProcess::Start(path);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return path;
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("s");
  EXPECT_TRUE(CreateStudy(*stub, create).ok());
  for (int i = 0; i < n; ++i) {
    v1::AskResponse asked;
    EXPECT_TRUE(Ask(*stub, "s", {FloatSpec("x", 0, 1)}, &asked).ok());
    EXPECT_TRUE(Tell(*stub, asked.trial().trial_id(), v1::COMPLETE, {0.5 + i}).ok());
  }
  stub.reset();
  EXPECT_EQ((*server)->Terminate(), 0);
  return path;
}

int64_t CompleteTrials(const std::string& db) {
  auto server = ServerProcess::Start(db);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return -1;
  auto stub = (*server)->NewStub();
  v1::GetStudyResponse got;
  EXPECT_TRUE(GetStudy(*stub, "s", &got).ok());
  return got.summary().n_complete();
}

TEST(FaultTest, AReadOnlyFileSystemAtStartIsRefusedClearlyAndTheDatabaseLeftAsItWas) {
  TempDir dir;
  Tmpfs fs(dir.File("fs"), "size=8m");
  ASSERT_TRUE(fs.ok());
  const std::string db = MakeDatabase(fs.File("ro.db"), 5);
  const std::string before = Bytes(db);
  ASSERT_TRUE(fs.Remount(MS_RDONLY, ""));
  std::string out;
  EXPECT_EQ(ServerProcess::RunToExit({"--db", db, "--listen", "127.0.0.1:0"}, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("is on a read-only file system"));
  EXPECT_EQ(Bytes(db), before);
  ASSERT_TRUE(fs.Remount(0, ""));
  EXPECT_EQ(CompleteTrials(db), 5);
}

TEST(FaultTest, ATruncatedOrCorruptedDatabaseAtStartIsRefusedAndLeftAsItWas) {
  TempDir dir;
  const std::string good = MakeDatabase(dir.File("good.db"), 200);
  const std::string bytes = Bytes(good);
  ASSERT_GT(bytes.size(), 16384u);
  struct Case {
    const char* what;
    std::string contents;
    const char* error;
  };
  std::string garbage_pages = bytes;
  for (size_t i = 3 * 4096; i < 5 * 4096 && i < garbage_pages.size(); ++i) {
    garbage_pages[i] = static_cast<char>((i * 7919) % 251);
  }
  std::string garbage_header = bytes;
  for (size_t i = 0; i < 100; ++i) garbage_header[i] = static_cast<char>(i * 31);
  const std::vector<Case> cases = {
      {"truncated to half", bytes.substr(0, bytes.size() / 2), "database disk image is malformed"},
      {"truncated to 1000 bytes", bytes.substr(0, 1000), "database disk image is malformed"},
      {"two pages of garbage", garbage_pages, "database disk image is malformed"},
      {"a garbage header", garbage_header, "is not a SQLite database; refusing to modify it"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.File("bad.db");
    std::filesystem::remove(path);
    std::ofstream(path, std::ios::binary) << c.contents;
    std::string out;
    EXPECT_EQ(ServerProcess::RunToExit({"--db", path, "--listen", "127.0.0.1:0"}, &out), 2)
        << c.what << "\n" << out;
    EXPECT_THAT(out, HasSubstr(c.error)) << c.what;
    EXPECT_EQ(Bytes(path), c.contents) << c.what << ": the server changed the file";
    EXPECT_FALSE(std::filesystem::exists(path + "-wal")) << c.what;
  }
  EXPECT_EQ(CompleteTrials(good), 200);
}

TEST(FaultTest, WatchersThatVanishMidStreamAreLetGoAndOthersMissNothing) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("watch.db"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  v1::CreateStudyRequest create;
  create.set_name("w");
  create.mutable_pruner()->mutable_nop();
  ASSERT_TRUE(CreateStudy(*stub, create).ok());

  // One watcher that stays, reading every event.
  grpc::ClientContext watch_context;
  v1::WatchStudyRequest watch;
  watch.set_study("w");
  auto reader = stub->WatchStudy(&watch_context, watch);
  std::mutex mu;
  std::set<int64_t> complete_seen;
  std::thread staying([&] {
    v1::WatchStudyResponse event;
    while (reader->Read(&event)) {
      if (event.trial().state() == v1::COMPLETE) {
        std::lock_guard lock(mu);
        complete_seen.insert(event.trial().trial_id());
      }
    }
  });

  // Writes go on while watcher processes are killed mid-stream.
  std::atomic<bool> stop{false};
  std::vector<int64_t> told;  // the writer's until it is joined
  std::atomic<size_t> told_count{0};
  std::thread writer([&] {
    auto own = (*server)->NewStub();
    while (!stop.load()) {
      v1::AskResponse asked;
      if (!Ask(*own, "w", {FloatSpec("x", 0, 1)}, &asked).ok()) continue;
      if (Tell(*own, asked.trial().trial_id(), v1::COMPLETE, {0.5}).ok()) {
        told.push_back(asked.trial().trial_id());
        told_count.store(told.size());
      }
    }
  });
  constexpr int kVanishing = 6;
  for (int i = 0; i < kVanishing; ++i) {
    ChildProcess watcher({PARZEN_CLI_BINARY, "--server", (*server)->address(), "watch", "w"},
                         dir.File("watcher" + std::to_string(i)));
    // Mid-stream: its watch began (after the staying one's) and trials
    // finished since.
    ASSERT_TRUE(WaitUntil([&] { return Count((*server)->Log(), "began") == i + 2; }))
        << (*server)->Log();
    const size_t told_then = told_count.load();
    ASSERT_TRUE(WaitUntil([&] { return told_count.load() >= told_then + 3; }));
    watcher.Signal(SIGKILL);
    watcher.WaitFor(seconds(10));
  }
  // The server lets each go at once (no keepalive wait: the kernel closed
  // the connection).
  EXPECT_TRUE(WaitUntil([&] {
    return Count((*server)->Log(), "ended: the client went away") == kVanishing;
  })) << (*server)->Log();
  stop.store(true);
  writer.join();
  ASSERT_GT(told.size(), 0u);

  // The watcher that stayed saw every trial finish.
  EXPECT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return std::all_of(told.begin(), told.end(),
                       [&](int64_t id) { return complete_seen.count(id) > 0; });
  })) << "the staying watcher missed trials";
  watch_context.TryCancel();
  staying.join();
  v1::GetStudyResponse got;
  ASSERT_TRUE(GetStudy(*stub, "w", &got).ok());
  EXPECT_EQ(got.summary().n_complete(), static_cast<int64_t>(told.size()));
  EXPECT_EQ(got.summary().n_running(), 0);
}

}  // namespace
}  // namespace parzen::testing
