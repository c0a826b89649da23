// parzen-server: owns every study in one SQLite file and serves parzen.v1.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include "common/access_token.h"
#include "common/clock.h"
#include "common/logging.h"
#include "server/core/backup_dir.h"
#include "server/core/listen_address.h"
#include "server/core/reaper.h"
#include "server/core/study_manager.h"
#include "server/service/study_service_impl.h"
#include "server/storage/sqlite_storage.h"

namespace {

struct Flags {
  std::string db = "parzen.db";
  std::string listen = "127.0.0.1:50051";
  std::string log_level = "info";
  std::string port_file;
  int reaper_period_ms = 500;
  int stats_period_s = 60;
  int keepalive_s = 60;
  std::string token_file;
  std::string backup_dir;
  size_t watch_backlog = 10000;
};

int Run(const Flags& flags, const sigset_t& stop_signals) {
  parzen::RealClock clock;
  const parzen::ListenAddress listen = parzen::ParseListenAddress(flags.listen);
  if (!flags.port_file.empty() && listen.kind != parzen::ListenAddress::Kind::kTcp) {
    spdlog::critical("--port-file needs a TCP --listen address; {} has no port", flags.listen);
    return 2;
  }
  // Before the database, like every start-up check: a refused server
  // changes nothing.
  if (absl::Status free = parzen::CheckListenAddressFree(listen); !free.ok()) {
    spdlog::critical("{}", std::string(free.message()));
    return 2;
  }
  // Before the database: a bad token file must leave it untouched.
  std::string token;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> read = parzen::ReadAccessTokenFile(flags.token_file);
    if (!read.ok()) {
      spdlog::critical("{}", std::string(read.status().message()));
      return 2;
    }
    token = *std::move(read);
  }
  std::optional<parzen::BackupDir> backup_dir;
  if (!flags.backup_dir.empty()) {
    absl::StatusOr<parzen::BackupDir> opened = parzen::BackupDir::Open(flags.backup_dir);
    if (!opened.ok()) {
      spdlog::critical("{}", std::string(opened.status().message()));
      return 2;
    }
    backup_dir = *std::move(opened);
  }
  auto storage = parzen::OpenSqliteStorage(flags.db);
  if (!storage.ok()) {
    spdlog::critical("{}", std::string(storage.status().message()));
    return 2;
  }
  // Only now: a second server refused the database must not touch the
  // first one's backups in progress.
  if (backup_dir) backup_dir->RemoveUnfinished();
  auto manager = parzen::StudyManager::Open(*std::move(storage), &clock);
  if (!manager.ok()) {
    spdlog::critical("cannot load {}: {}", flags.db, std::string(manager.status().message()));
    return 2;
  }

  // A failed commit leaves memory ahead of disk: stop, so the supervisor
  // restarts the server and it reloads what is durable.
  std::atomic<bool> storage_failed{false};
  (*manager)->SetStorageFailureHandler([&storage_failed](const absl::Status&) {
    storage_failed = true;
    kill(getpid(), SIGTERM);
  });

  parzen::StudyServiceImpl service(manager->get(),
                                   {.access_token = token,
                                    .backup_dir = std::move(backup_dir),
                                    .watch_backlog = flags.watch_backlog});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &port);
  // Clients ping while a call is open, also on a quiet WatchStudy stream;
  // accept that every 5 s (4 s: slack for timers) instead of calling it
  // abuse after two pings.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 4'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Our own pings find clients that vanished without closing their
  // connection, so their watch streams (and the threads behind them) end.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, flags.keepalive_s * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, std::min(flags.keepalive_s, 20) * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::critical("cannot listen on {} (address in use or invalid?)", flags.listen);
    return 2;
  }
  // gRPC reports port 1 for a unix socket; only a TCP port means anything.
  const bool tcp = listen.kind == parzen::ListenAddress::Kind::kTcp;
  spdlog::info("parzen-server listening on {}{}, database {}{}", flags.listen,
               tcp ? " (port " + std::to_string(port) + ")" : "", flags.db,
               token.empty() ? "" : ", access token required");
  if (!flags.port_file.empty()) {
    // Written whole then renamed, so a reader never sees a partial number.
    const std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), flags.port_file.c_str());
  }

  {
    parzen::Reaper reaper(manager->get(), std::chrono::milliseconds(flags.reaper_period_ms));
    // Wait for a stop signal, logging request counts and latencies every
    // --stats-period-s meanwhile.
    int sig = -1;
    const timespec period{flags.stats_period_s, 0};
    while (sig < 0) {
      sig = sigtimedwait(&stop_signals, nullptr, &period);
      if (sig < 0) {
        if (std::string stats = service.TakeStatsSummary(); !stats.empty()) {
          spdlog::info("requests in the last {} s: {}", flags.stats_period_s, stats);
        }
      }
    }
    spdlog::info("received signal {}; shutting down", sig);
    service.BeginShutdown();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    server->Wait();
  }
  manager->reset();  // commits what is queued and closes the database
  if (storage_failed) {
    spdlog::critical("stopped because the database could not be written");
    return 3;
  }
  spdlog::info("shut down cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds Abseil with its Mutex deadlock detector on; every lock
  // gRPC takes then updates a global lock graph (measured: several percent
  // of the server's CPU under load). Our own locks are std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const sigset_t stop_signals = parzen::BlockStopSignals();

  Flags flags;
  CLI::App app{"parzen-server: the Parzen study server"};
  app.add_option("--db", flags.db, "SQLite database file (created if missing)")
      ->capture_default_str();
  app.add_option("--listen", flags.listen, "address to serve on; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warning, error, critical")
      ->capture_default_str()
      ->check(CLI::IsMember(parzen::LogLevelNames()));
  app.add_option("--port-file", flags.port_file, "write the bound port to this file");
  app.add_option("--reaper-period-ms", flags.reaper_period_ms,
                 "how often to look for lost heartbeats")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app.add_option("--stats-period-s", flags.stats_period_s,
                 "how often to log request counts and latencies")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--token-file", flags.token_file,
                 "require the token in this file of every call (clients pass the same file)");
  app.add_option("--backup-dir", flags.backup_dir,
                 "let BackupDatabase (parzen backup NAME) write copies of the database here");
  app.add_option("--keepalive-s", flags.keepalive_s,
                 "ping each client connection every this many seconds; one that does not "
                 "answer within as long (20 s at most) is closed, ending its calls")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--watch-backlog", flags.watch_backlog,
                 "end a WatchStudy stream that falls this many events behind (its client "
                 "watches again), so a slow reader cannot hold unbounded memory")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  CLI11_PARSE(app, argc, argv);

  parzen::SetUpLogging("parzen", flags.log_level);
  return Run(flags, stop_signals);
}
