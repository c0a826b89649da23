#include "tests/testing/server_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/testing/child_process.h"

namespace parzen::testing {

std::string BinaryPath(const std::string& name) {
  return std::string(PARZEN_BINARY_DIR) + "/" + name;
}

TempDir::TempDir() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/parzen-test-XXXXXX";
  path_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& db_path, const std::vector<std::string>& extra_args,
    const ServerLaunch& launch) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  const std::string port_file = db_path + ".port";
  std::filesystem::remove(port_file);
  // One log per start, so a restarted server keeps the earlier log.
  const std::string log_base =
      launch.log_dir.empty()
          ? db_path
          : launch.log_dir + "/" + std::filesystem::path(db_path).filename().string();
  p->log_path_ = log_base + ".log." +
                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  std::vector<std::string> args = launch.prefix;
  for (const std::string& arg : {BinaryPath("parzen-server"), std::string("--db"), db_path,
                                 std::string("--listen"), launch.host + ":" + std::to_string(launch.port),
                                 std::string("--port-file"), port_file}) {
    args.push_back(arg);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  p->process_ = std::make_unique<ChildProcess>(args, p->log_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string port;
  while (port.empty()) {
    if (const std::optional<int> code = p->process_->WaitFor(std::chrono::milliseconds(0))) {
      return absl::InternalError("parzen-server exited with code " + std::to_string(*code));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError("parzen-server did not write its port file");
    }
    std::ifstream in(port_file);
    std::getline(in, port);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  p->address_ = launch.host + ":" + port;
  p->channel_ = grpc::CreateChannel(
      p->address_, launch.credentials ? launch.credentials : grpc::InsecureChannelCredentials());
  if (!p->channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError("cannot connect to parzen-server at " + p->address_);
  }
  return p;
}

int ServerProcess::RunToExit(const std::vector<std::string>& args, std::string* output) {
  std::vector<std::string> full = {BinaryPath("parzen-server")};
  full.insert(full.end(), args.begin(), args.end());
  TempDir dir;
  ChildProcess server(full, dir.File("stderr"));
  const std::optional<int> code = server.WaitFor(std::chrono::minutes(5));
  *output = server.Log();
  return code.value_or(-1);
}

ServerProcess::~ServerProcess() {
  if (running()) Terminate();
}

std::unique_ptr<v1::StudyService::Stub> ServerProcess::NewStub() const {
  return v1::StudyService::NewStub(channel_);
}

std::string ServerProcess::Log() const { return ReadFileOrEmpty(log_path_); }

void ServerProcess::Kill() {
  if (!running()) return;
  process_->Signal(SIGKILL);
  process_->WaitFor(std::chrono::minutes(1));
}

std::optional<int> ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (!process_) return std::nullopt;
  return process_->WaitFor(timeout);
}

void ServerProcess::Signal(int sig) const {
  if (running()) process_->Signal(sig);
}

int ServerProcess::Terminate() {
  if (!running()) return -1;
  // An idle client never answers the server's shutdown ping, which would
  // hold a graceful shutdown for seconds: close our side first.
  channel_.reset();
  process_->Signal(SIGTERM);
  return process_->WaitFor(std::chrono::minutes(5)).value_or(-1);
}

}  // namespace parzen::testing
