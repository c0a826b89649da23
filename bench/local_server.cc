#include "bench/local_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace parzen::bench {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LocalServer::~LocalServer() {
  Stop();
  // The directory (database and log) is kept when something went wrong.
  if (!keep_dir_ && !dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string LocalServer::Start(const std::string& binary,
                               const std::vector<std::string>& extra_args) {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/parzen-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "cannot create a temporary directory";
  dir_ = tmpl;
  db_path_ = dir_ + "/bench.db";
  log_path_ = dir_ + "/server.log";
  return Launch(binary, extra_args);
}

std::string LocalServer::Restart(const std::string& binary,
                                 const std::vector<std::string>& extra_args,
                                 std::chrono::duration<double>* startup) {
  if (pid_ > 0 || dir_.empty()) return "Restart needs a server that was started and stopped";
  const auto start = Clock::now();
  std::string error = Launch(binary, extra_args);
  *startup = Clock::now() - start;
  return error;
}

std::string LocalServer::Launch(const std::string& binary,
                                const std::vector<std::string>& extra_args) {
  const std::string port_file = dir_ + "/port";
  std::filesystem::remove(port_file);
  // The log of every start, in order.

  std::vector<std::string> args = {binary,       "--db",         db_path_,  "--listen",
                                   "127.0.0.1:0", "--port-file", port_file, "--log-level",
                                   "warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return "fork failed";
  if (pid_ == 0) {
    // The server goes when the benchmark does, however it ends (exit from
    // a failure, a kill by timeout), so no server outlives its run. The
    // signal follows the thread that forked: every bench starts its
    // server from main.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (freopen(log_path_.c_str(), "a", stderr) == nullptr) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string port;
  while (port.empty()) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      keep_dir_ = true;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return "parzen-server (" + binary + ") exited during start-up with code " +
             std::to_string(code) + (code == 127 ? " (cannot execute it)" : "") + "; log in " +
             log_path_ + ":\n" + ReadFile(log_path_);
    }
    if (Clock::now() > deadline) {
      keep_dir_ = true;
      return "parzen-server did not write its port file within 30 s";
    }
    std::ifstream in(port_file);
    std::getline(in, port);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  address_ = "127.0.0.1:" + port;
  return "";
}

int LocalServer::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0) keep_dir_ = true;
  return code;
}

}  // namespace parzen::bench
