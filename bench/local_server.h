// LocalServer: a parzen-server started by a benchmark on a temporary
// database and a free loopback port, stopped (SIGTERM) when it goes. The
// directory is kept, and named, when something went wrong. Not thread-safe.
#ifndef PARZEN_BENCH_LOCAL_SERVER_H_
#define PARZEN_BENCH_LOCAL_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace parzen::bench {

std::string ReadFile(const std::string& path);

class LocalServer {
 public:
  LocalServer() = default;
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  ~LocalServer();

  // Starts `binary` (with `extra_args`) and waits until it has written its
  // port. Returns an empty string on success, else what went wrong.
  std::string Start(const std::string& binary, const std::vector<std::string>& extra_args = {});
  // After Stop: starts `binary` again on the same database, as Start does;
  // the time it took until the port was written goes to `*startup`.
  std::string Restart(const std::string& binary, const std::vector<std::string>& extra_args,
                      std::chrono::duration<double>* startup);
  // SIGTERM, then waits. Returns the exit code (-1 if not running or killed
  // by a signal).
  int Stop();

  void KeepDir() { keep_dir_ = true; }
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const std::string& db_path() const { return db_path_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const { return ReadFile(log_path_); }

 private:
  std::string Launch(const std::string& binary, const std::vector<std::string>& extra_args);

  pid_t pid_ = -1;
  bool keep_dir_ = false;
  std::string dir_;
  std::string db_path_;
  std::string log_path_;
  std::string address_;
};

}  // namespace parzen::bench

#endif  // PARZEN_BENCH_LOCAL_SERVER_H_
