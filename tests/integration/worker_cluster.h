// WorkerCluster: a real parzen-server and real parzen-worker processes
// tuning MNIST together, for the worker integration tests. Workers train on
// a small subset with one thread each and a narrow, fast search space that
// still holds hopeless learning rates.
#ifndef PARZEN_TESTS_INTEGRATION_WORKER_CLUSTER_H_
#define PARZEN_TESTS_INTEGRATION_WORKER_CLUSTER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parzen/v1/study_service.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/server_process.h"
#include "tests/testing/wait.h"

namespace parzen::testing {

// The MNIST files: $PARZEN_MNIST_DIR, else data/mnist in the source tree
// (scripts/test.sh fetches them there).
std::string MnistDir();

class WorkerCluster {
 public:
  explicit WorkerCluster(std::string study) : study_(std::move(study)) {}

  // Starts the server (reaping every 100 ms, plus `extra_args`); false and
  // a gtest failure if it cannot. stub() reaches it with
  // `launch.credentials`.
  bool StartServer(const ServerLaunch& launch = {},
                   const std::vector<std::string>& extra_args = {});
  // Kills the server (SIGKILL: a crash) and starts it again on the same
  // database and port, as its supervisor would; false and a gtest failure
  // if it cannot.
  bool RestartServer();
  // Starts a worker named `id` with the study flags every worker of the
  // cluster shares plus `extra` flags, run through `prefix` (e.g. ip netns
  // exec).
  ChildProcess& StartWorker(const std::string& id, const std::vector<std::string>& study_flags,
                            const std::vector<std::string>& prefix = {});

  // The cluster's directory: `name`'s path in it.
  std::string File(const std::string& name) const { return dir_.File(name); }
  // Writes `contents` to `name` in the cluster's directory; its path.
  std::string WriteFile(const std::string& name, const std::string& contents);

  bool StudyExists();
  // In number order; empty while the study does not exist.
  std::vector<v1::Trial> Trials();
  v1::Trial Trial(int64_t number);
  // Trial `number` once it is no longer RUNNING; nullopt after `timeout`.
  std::optional<v1::Trial> WaitForFinished(int64_t number, std::chrono::milliseconds timeout);
  // The number of a RUNNING trial of `worker_id`, once there is one.
  std::optional<int64_t> WaitForRunningTrial(const std::string& worker_id,
                                             std::chrono::milliseconds timeout);

  ServerProcess& server() { return *server_; }
  v1::StudyService::Stub& stub() { return *stub_; }
  const std::string& server_address() const { return server_->address(); }
  // Server and worker logs, for failure messages.
  std::string Logs() const;

 private:
  bool LaunchServer(const ServerLaunch& launch);

  std::string study_;
  TempDir dir_;
  ServerLaunch launch_;
  std::vector<std::string> server_args_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  std::map<std::string, std::unique_ptr<ChildProcess>> workers_;
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_INTEGRATION_WORKER_CLUSTER_H_
