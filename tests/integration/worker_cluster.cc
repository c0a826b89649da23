#include "tests/integration/worker_cluster.h"

#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace parzen::testing {
namespace {

// Wide enough for hopeless trials (Adam or momentum SGD at lr 0.3 diverge),
// small enough that a trial takes seconds.
constexpr char kSearchSpace[] = R"({
  "lr": {"type": "float", "low": 1e-4, "high": 0.3, "log": true},
  "momentum": {"type": "float", "low": 0.0, "high": 0.95},
  "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
  "batch_size": {"type": "categorical", "choices": [32, 64, 128]},
  "dropout1": {"type": "float", "low": 0.0, "high": 0.5},
  "dropout2": {"type": "float", "low": 0.0, "high": 0.5},
  "fc_units": {"type": "int", "low": 32, "high": 128, "log": true},
  "conv1_channels": {"type": "int", "low": 8, "high": 16, "step": 8},
  "conv2_channels": {"type": "int", "low": 16, "high": 32, "step": 16},
  "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-3, "log": true}
})";

}  // namespace

std::string MnistDir() {
  if (const char* dir = std::getenv("PARZEN_MNIST_DIR")) return dir;
  return std::string(PARZEN_SOURCE_DIR) + "/data/mnist";
}

bool WorkerCluster::StartServer(const ServerLaunch& launch,
                                const std::vector<std::string>& extra_args) {
  WriteFile("space.json", kSearchSpace);
  launch_ = launch;
  server_args_ = {"--reaper-period-ms", "100"};
  server_args_.insert(server_args_.end(), extra_args.begin(), extra_args.end());
  return LaunchServer(launch_);
}

bool WorkerCluster::RestartServer() {
  const std::string address = server_->address();
  ServerLaunch launch = launch_;
  launch.port = std::stoi(address.substr(address.rfind(':') + 1));
  server_->Kill();
  return LaunchServer(launch);
}

bool WorkerCluster::LaunchServer(const ServerLaunch& launch) {
  auto server = ServerProcess::Start(dir_.File("study.db"), server_args_, launch);
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start parzen-server: " << server.status();
    return false;
  }
  server_ = *std::move(server);
  stub_ = server_->NewStub();
  return true;
}

ChildProcess& WorkerCluster::StartWorker(const std::string& id,
                                         const std::vector<std::string>& study_flags,
                                         const std::vector<std::string>& prefix) {
  std::vector<std::string> args = prefix;
  const std::vector<std::string> common = {
      PARZEN_WORKER_BINARY, "--server", server_->address(), "--study", study_,
      "--worker-id", id, "--data-dir", MnistDir(), "--space", dir_.File("space.json"),
      "--train-size", "3000", "--val-size", "1000", "--epochs", "2", "--threads", "1",
      "--sampler", "random:seed=7"};
  args.insert(args.end(), common.begin(), common.end());
  args.insert(args.end(), study_flags.begin(), study_flags.end());
  auto& worker = workers_[id];
  worker = std::make_unique<ChildProcess>(args, dir_.File(id + ".log"));
  return *worker;
}

std::string WorkerCluster::WriteFile(const std::string& name, const std::string& contents) {
  std::ofstream(dir_.File(name)) << contents;
  return dir_.File(name);
}

bool WorkerCluster::StudyExists() {
  v1::GetStudyRequest request;
  request.set_name(study_);
  v1::GetStudyResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status = stub_->GetStudy(&context, request, &response);
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
    ADD_FAILURE() << "GetStudy(" << study_ << "): " << status.error_message();
  }
  return status.ok();
}

std::vector<v1::Trial> WorkerCluster::Trials() {
  v1::ListTrialsRequest request;
  request.set_study(study_);
  request.set_page_size(1000);
  v1::ListTrialsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status = stub_->ListTrials(&context, request, &response);
  if (!status.ok()) {
    // Before the first worker creates the study there are simply no trials.
    if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
      ADD_FAILURE() << "ListTrials(" << study_ << "): " << status.error_message();
    }
    return {};
  }
  return {response.trials().begin(), response.trials().end()};
}

v1::Trial WorkerCluster::Trial(int64_t number) {
  for (v1::Trial& t : Trials()) {
    if (t.number() == number) return t;
  }
  return {};
}

std::optional<v1::Trial> WorkerCluster::WaitForFinished(int64_t number,
                                                        std::chrono::milliseconds timeout) {
  v1::Trial trial;
  if (!WaitUntil(
          [&] {
            trial = Trial(number);
            return trial.state() != v1::RUNNING;
          },
          timeout, std::chrono::milliseconds(50))) {
    return std::nullopt;
  }
  return trial;
}

std::optional<int64_t> WorkerCluster::WaitForRunningTrial(const std::string& worker_id,
                                                          std::chrono::milliseconds timeout) {
  std::optional<int64_t> number;
  WaitUntil(
      [&] {
        for (const v1::Trial& t : Trials()) {
          if (t.state() == v1::RUNNING && t.worker_id() == worker_id) number = t.number();
        }
        return number.has_value();
      },
      timeout, std::chrono::milliseconds(50));
  return number;
}

std::string WorkerCluster::Logs() const {
  std::string out = "---- server log\n" + (server_ ? server_->Log() : std::string());
  for (const auto& [id, worker] : workers_) out += "---- " + id + " log\n" + worker->Log();
  return out;
}

}  // namespace parzen::testing
