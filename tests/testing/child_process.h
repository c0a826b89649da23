// ChildProcess: a program started by a test, with its stdout and stderr in
// a log file, stopped (SIGKILL) and reaped when the object goes. Not
// thread-safe.
#ifndef PARZEN_TESTS_TESTING_CHILD_PROCESS_H_
#define PARZEN_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parzen::testing {

class ChildProcess {
 public:
  // `args[0]` is looked up in PATH when it has no slash.
  ChildProcess(const std::vector<std::string>& args, std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void Signal(int sig);
  // The exit code once it exits (-1 when a signal ended it); nullopt if it
  // is still running after `timeout`.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// The first sanitizer report in a program's log ("" if none): a sanitized
// build's child processes report there, and the tests fail on it.
std::string SanitizerReport(const std::string& log);

// Everything in the file at `path` ("" if unreadable).
std::string ReadFileOrEmpty(const std::string& path);

// Starts `args` (argv[0] looked up in PATH when it has no slash) with stdout
// and stderr in `log_path` and an empty signal mask; returns its pid.
pid_t SpawnLogged(const std::vector<std::string>& args, const std::string& log_path);

// The exit code in a waitpid status; -1 when a signal ended the process.
int ExitCodeOf(int wait_status);

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_CHILD_PROCESS_H_
