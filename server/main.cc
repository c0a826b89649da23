// parzen-server: owns every study in one SQLite file and serves parzen.v1.
#include <malloc.h>
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
#include "common/parse_flags.h"
#include "server/core/reaper.h"
#include "server/core/study_manager.h"
#include "server/service/backup_dir.h"
#include "server/service/listen_address.h"
#include "server/service/library_log.h"
#include "server/service/server_tls.h"
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
  std::string tokens_file;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string backup_dir;
  size_t watch_backlog = 10000;
  size_t sampler_threads = 2;
};

// Everything the server needs before it listens, checked in an order that
// leaves the database untouched when any check fails.
struct Prepared {
  parzen::AccessPolicy access;
  std::unique_ptr<parzen::ServerTls> tls;  // none: plaintext
  std::optional<parzen::BackupDir> backup_dir;
  std::unique_ptr<parzen::StudyManager> manager;
};

absl::StatusOr<parzen::AccessPolicy> ReadAccessPolicy(const Flags& flags) {
  if (!flags.tokens_file.empty()) return parzen::AccessPolicy::FromTokensFile(flags.tokens_file);
  if (!flags.token_file.empty()) return parzen::AccessPolicy::FromTokenFile(flags.token_file);
  return parzen::AccessPolicy();
}

absl::StatusOr<Prepared> Prepare(const Flags& flags, const parzen::ListenAddress& listen,
                                 const parzen::Clock* clock) {
  Prepared out;
  if (!flags.port_file.empty() && listen.kind != parzen::ListenAddress::Kind::kTcp) {
    return absl::InvalidArgumentError("--port-file needs a TCP --listen address; " +
                                      flags.listen + " has no port");
  }
  PARZEN_RETURN_IF_ERROR(parzen::CheckListenAddressFree(listen));
  PARZEN_ASSIGN_OR_RETURN(out.access, ReadAccessPolicy(flags));
  if (!flags.tls_cert.empty()) {
    PARZEN_ASSIGN_OR_RETURN(out.tls, parzen::ServerTls::Open({.cert = flags.tls_cert,
                                                              .key = flags.tls_key,
                                                              .client_ca = flags.tls_client_ca}));
  }
  if (!flags.backup_dir.empty()) {
    PARZEN_ASSIGN_OR_RETURN(out.backup_dir, parzen::BackupDir::Open(flags.backup_dir));
  }
  PARZEN_ASSIGN_OR_RETURN(auto storage, parzen::OpenSqliteStorage(flags.db));
  // Only now: a second server refused the database must not touch the
  // first one's backups in progress.
  if (out.backup_dir) out.backup_dir->RemoveUnfinished();
  absl::StatusOr<std::unique_ptr<parzen::StudyManager>> manager = parzen::StudyManager::Open(
      std::move(storage), clock, parzen::Algorithms{},
      {.sampler_threads = flags.sampler_threads});
  if (!manager.ok()) {
    return absl::Status(manager.status().code(),
                        "cannot load " + flags.db + ": " + std::string(manager.status().message()));
  }
  out.manager = *std::move(manager);
  return out;
}

std::unique_ptr<grpc::Server> StartServer(const Flags& flags, const parzen::ServerTls* tls,
                                          parzen::StudyServiceImpl& service, int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(flags.listen,
                           tls != nullptr ? tls->Credentials() : grpc::InsecureServerCredentials(),
                           port);
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
  return builder.BuildAndStart();
}

void WritePortFile(const std::string& path, int port) {
  // Written whole then renamed, so a reader never sees a partial number.
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

// SIGHUP: the tokens file and the TLS files read again. What does not
// check out is logged and the server goes on with what it had.
void Reload(const Flags& flags, parzen::ServerTls* tls, parzen::StudyServiceImpl& service) {
  if (!flags.tokens_file.empty()) {
    absl::StatusOr<parzen::AccessPolicy> access =
        parzen::AccessPolicy::FromTokensFile(flags.tokens_file);
    if (access.ok()) {
      const size_t n = access->size();
      service.SetAccessPolicy(*std::move(access));
      spdlog::info("reloaded {} access tokens from {}", n, flags.tokens_file);
    } else {
      spdlog::error("kept the previous access tokens: {}", std::string(access.status().message()));
    }
  }
  if (tls != nullptr) {
    if (absl::Status s = tls->Reload(); s.ok()) {
      spdlog::info("reloaded the TLS certificate: {}; new connections get it", tls->description());
    } else {
      spdlog::error("kept the previous TLS certificate: {}", std::string(s.message()));
    }
  }
}

// Waits for a stop signal, reloading on SIGHUP and logging request counts
// and latencies every --stats-period-s meanwhile; returns the signal.
int WaitForStop(const Flags& flags, const sigset_t& signals, parzen::ServerTls* tls,
                parzen::StudyServiceImpl& service) {
  const timespec period{flags.stats_period_s, 0};
  while (true) {
    const int sig = sigtimedwait(&signals, nullptr, &period);
    if (sig == SIGHUP) {
      Reload(flags, tls, service);
    } else if (sig >= 0) {
      return sig;
    } else if (std::string stats = service.TakeStatsSummary(); !stats.empty()) {
      spdlog::info("requests in the last {} s: {}", flags.stats_period_s, stats);
    }
  }
}

int Run(const Flags& flags, const sigset_t& stop_signals) {
  parzen::RealClock clock;
  const parzen::ListenAddress listen = parzen::ParseListenAddress(flags.listen);
  absl::StatusOr<Prepared> prepared = Prepare(flags, listen, &clock);
  if (!prepared.ok()) {
    spdlog::critical("{}", std::string(prepared.status().message()));
    return 2;
  }
  parzen::StudyManager& manager = *prepared->manager;
  // A failed commit leaves memory ahead of disk: stop, so the supervisor
  // restarts the server and it reloads what is durable.
  std::atomic<bool> storage_failed{false};
  manager.SetStorageFailureHandler([&storage_failed](const absl::Status&) {
    storage_failed = true;
    kill(getpid(), SIGTERM);
  });
  const bool open = prepared->access.open();
  const size_t n_tokens = prepared->access.size();
  parzen::StudyServiceImpl service(&manager, {.access = std::move(prepared->access),
                                              .backup_dir = std::move(prepared->backup_dir),
                                              .watch_backlog = flags.watch_backlog});
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(flags, prepared->tls.get(), service, &port);
  if (!server || port == 0) {
    spdlog::critical("cannot listen on {} (address in use or invalid?)", flags.listen);
    return 2;
  }
  // gRPC reports port 1 for a unix socket; only a TCP port means anything.
  const bool tcp = listen.kind == parzen::ListenAddress::Kind::kTcp;
  const parzen::ServerTls* tls = prepared->tls.get();
  spdlog::info("parzen-server listening on {}{}{}, database {}{}", flags.listen,
               tcp ? " (port " + std::to_string(port) + ")" : "",
               tls == nullptr ? ""
               : tls->mutual()
                   ? " with mutual TLS as " + tls->description()
                   : " with TLS as " + tls->description(),
               flags.db,
               open ? "" : fmt::format(", {} access token{} accepted", n_tokens,
                                       n_tokens == 1 ? "" : "s"));
  if (tls == nullptr && !parzen::IsLoopbackOnly(listen)) {
    spdlog::warn("*** {} is reachable from other machines, and without TLS every token and "
                 "every study crosses the network in clear text: start parzen-server with "
                 "--tls-cert and --tls-key (scripts/make-test-ca.sh makes test ones) ***",
                 flags.listen);
  }
  if (!flags.port_file.empty()) WritePortFile(flags.port_file, port);
  {
    parzen::Reaper reaper(&manager, std::chrono::milliseconds(flags.reaper_period_ms));
    const int sig = WaitForStop(flags, stop_signals, prepared->tls.get(), service);
    spdlog::info("received signal {}; shutting down", sig);
    service.BeginShutdown();
    // gRPC's graceful shutdown waits for each connection to acknowledge a
    // ping, which an idle client may do only seconds later. Instead: wait
    // for the replies owed, then close every connection at once.
    if (!service.AwaitCallsAnswered(absl::Seconds(10))) {
      spdlog::warn("calls still unanswered after 10 s; cancelling them");
    }
    server->Shutdown(std::chrono::system_clock::now());
    server->Wait();
  }
  prepared->manager.reset();  // commits what is queued and closes the database
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
  // of the server's CPU under load), ours included.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#ifdef __GLIBC__
  // An Ask with TPE on a large study builds and frees a few MiB of kernels.
  // glibc would return them to the kernel after every Ask (it trims a free
  // heap top beyond 128 KiB and maps blocks beyond 128 KiB on their own)
  // and fault them back in on the next: about 1 ms of a multivariate Ask
  // at 10,000 trials (bench/tpe_latency). Freed memory up to these sizes
  // stays for the next Ask instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  // SIGHUP (reload) is waited for with the stop signals, so blocked in
  // every thread too.
  sigset_t stop_signals = parzen::BlockStopSignals();
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Flags flags;
  CLI::App app{"parzen-server: the Parzen study server"};
  // A repeated flag overrides the earlier one, so wrappers (the container
  // image's entry point, a unit file) can set defaults that users append to.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
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
  auto* token_file = app.add_option(
      "--token-file", flags.token_file,
      "require the token in this file of every call, with every role (clients pass the "
      "same file)");
  app.add_option("--tokens-file", flags.tokens_file,
                 "accept the tokens in this file, one `ROLE TOKEN` per line (roles: read, "
                 "worker, admin); re-read on SIGHUP")
      ->excludes(token_file);
  auto* tls_cert = app.add_option("--tls-cert", flags.tls_cert,
                                  "serve TLS with this PEM certificate chain; re-read on SIGHUP");
  auto* tls_key = app.add_option("--tls-key", flags.tls_key,
                                 "the PEM private key of --tls-cert; re-read on SIGHUP");
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "mutual TLS: require of every client a certificate this PEM CA signed; "
                 "re-read on SIGHUP")
      ->needs(tls_cert);
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
  app.add_option("--sampler-threads", flags.sampler_threads,
                 "threads that run samplers, so a slow one holds up neither other requests "
                 "nor the study it samples for")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{256}));
  // Bad flags exit 2 like every other start-up refusal.
  if (const std::optional<int> code = parzen::ParseFlags(app, argc, argv)) return *code;

  parzen::SetUpLogging("parzen", flags.log_level);
  parzen::RouteLibraryLogsToSpdlog();
  return Run(flags, stop_signals);
}
