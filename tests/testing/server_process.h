// ServerProcess: a real parzen-server binary started for a test, on a free
// loopback port, with its log in a file. Not thread-safe.
#ifndef PARZEN_TESTS_TESTING_SERVER_PROCESS_H_
#define PARZEN_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/status.h"
#include "parzen/v1/study_service.grpc.pb.h"
#include "tests/testing/child_process.h"

namespace parzen::testing {

// A fresh directory under the test temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Where and how the server runs: by default on loopback, directly.
struct ServerLaunch {
  // Runs the server through this command, e.g. {"ip", "netns", "exec", "srv"}.
  std::vector<std::string> prefix;
  // Address to listen on and to reach it by.
  std::string host = "127.0.0.1";
  // 0: a free one. A restarted server takes its predecessor's port, so its
  // clients find it again.
  int port = 0;
  // How channel() reaches the server: plaintext when null. Give TLS
  // credentials for a server started with --tls-cert.
  std::shared_ptr<grpc::ChannelCredentials> credentials{};
  // Where its logs go: beside the database when empty. A test that makes the
  // database's file system fail keeps them elsewhere, to read them after.
  std::string log_dir{};
};

class ServerProcess {
 public:
  // Starts the server on `db_path` and waits until it accepts RPCs.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& db_path, const std::vector<std::string>& extra_args = {},
      const ServerLaunch& launch = {});
  // Runs the server to completion (for start-up failures): its exit code
  // and everything it wrote to stderr.
  static int RunToExit(const std::vector<std::string>& args, std::string* output);

  ~ServerProcess();

  const std::string& address() const { return address_; }
  bool running() const { return process_ && process_->running(); }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::unique_ptr<v1::StudyService::Stub> NewStub() const;
  std::string Log() const;

  // SIGKILL: the crash case. The process is reaped before returning.
  void Kill();
  // SIGTERM and wait; returns the exit code (-1 if killed by a signal).
  int Terminate();
  // Its exit code once it exits by itself (-1 when a signal ended it);
  // nullopt if it still runs after `timeout`.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // Sends `sig` (SIGHUP: reload) and returns at once.
  void Signal(int sig) const;

 private:
  ServerProcess() = default;
  // Its sanitizer report, if any, fails the test when it goes.
  std::unique_ptr<ChildProcess> process_;
  std::string address_;
  std::string log_path_;
  std::shared_ptr<grpc::Channel> channel_;
};

// The path of a binary built next to the tests (CMake passes the dir).
std::string BinaryPath(const std::string& name);

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_SERVER_PROCESS_H_
