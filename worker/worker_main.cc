// parzen-worker: tunes the MNIST network as one of any number of workers
// sharing a study on a parzen-server.
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/access_token.h"
#include "common/algorithm_args.h"
#include "common/logging.h"
#include "common/parse_flags.h"
#include "common/proto_convert.h"
#include "common/search_space.h"
#include "client/client.h"
#include "client/study_options.h"
#include "worker/mnist/dataset.h"
#include "worker/mnist/hyperparameters.h"
#include "worker/mnist/idx.h"
#include "worker/mnist/cpu_peak.h"
#include "worker/mnist/network.h"
#include "worker/worker.h"

namespace {

struct Flags {
  std::string server = "127.0.0.1:50051";
  std::string token_file;
  parzen::client::TlsFiles tls_files;
  std::string study = "mnist";
  parzen::client::StudyFlags study_flags;
  std::string space;
  int64_t n_trials = 0;
  int64_t epochs = 3;
  int64_t train_size = 50000;
  int64_t val_size = 10000;
  int threads = 0;
  std::string data_dir = "data/mnist";
  std::string objective = "val_loss";
  std::string report_every = "epoch";
  uint64_t seed = 1;
  std::string worker_id;
  std::string precision = "fp32";
  // The study-creation flags given on the command line (not defaulted).
  std::vector<std::string> study_flags_given;
  std::string log_level = "info";
  bool print_space = false;
};

// Waits for SIGTERM/SIGINT (blocked in every thread) and records it.
class SignalWatcher {
 public:
  explicit SignalWatcher(const sigset_t& signals)
      : thread_([this, signals] {
          const timespec tick{0, 100'000'000};
          while (!done_.load()) {
            const int sig = sigtimedwait(&signals, nullptr, &tick);
            if (sig <= 0) continue;
            if (signal_.load() != 0) {
              // A second signal: the user will not wait for the clean stop.
              std::fprintf(stderr, "second stop signal; exiting now\n");
              std::_Exit(128 + sig);
            }
            signal_.store(sig);
            spdlog::info("received {}; stopping within one batch (again to exit at once)",
                         sig == SIGINT ? "SIGINT" : "SIGTERM");
          }
        }) {}
  ~SignalWatcher() {
    done_.store(true);
    thread_.join();
  }
  const std::atomic<int>* signal() const { return &signal_; }

 private:
  std::atomic<int> signal_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: starts once the flags above exist
};

// Reporting loss to a maximizing study (or accuracy to a minimizing one)
// would make the pruner stop the best trials.
absl::Status CheckDirections(const std::vector<parzen::Direction>& directions,
                             parzen::Objective objective, const std::string& objective_name,
                             const std::string& where) {
  const parzen::Direction wanted = objective == parzen::Objective::kValidationLoss
                                       ? parzen::Direction::kMinimize
                                       : parzen::Direction::kMaximize;
  if (directions.size() == 1 && directions[0] == wanted) return absl::OkStatus();
  return absl::InvalidArgumentError(
      where + " does not " +
      std::string(wanted == parzen::Direction::kMinimize ? "minimize" : "maximize") +
      " one value, but --objective " + objective_name + " needs it to");
}

int Fail(int code, const absl::Status& status) {
  spdlog::error("{}", std::string(status.message()));
  return code;
}

absl::StatusOr<parzen::v1::CreateStudyRequest> StudyRequest(const Flags& f,
                                                            parzen::Objective objective) {
  parzen::client::StudyFlags flags = f.study_flags;
  if (flags.directions.empty()) {
    flags.directions = {objective == parzen::Objective::kValidationLoss ? "minimize"
                                                                        : "maximize"};
  }
  PARZEN_ASSIGN_OR_RETURN(parzen::v1::CreateStudyRequest request,
                          parzen::client::CreateStudyRequestFrom(flags));
  if (request.name().empty()) request.set_name(f.study);
  request.set_load_if_exists(true);
  return request;
}

absl::StatusOr<parzen::WorkerData> LoadData(const Flags& f) {
  using namespace parzen::mnist;
  PARZEN_ASSIGN_OR_RETURN(LabeledImages train_images, ReadMnistSplit(f.data_dir, "train"));
  PARZEN_ASSIGN_OR_RETURN(LabeledImages test_images, ReadMnistSplit(f.data_dir, "t10k"));
  // The split depends only on --seed: every worker of a study validates on
  // the same images, so their trials compare fairly.
  PARZEN_ASSIGN_OR_RETURN(TrainValidation split,
                          SplitTrainValidation(train_images, f.train_size, f.val_size, f.seed));
  return parzen::WorkerData{std::move(split.train), std::move(split.validation),
                            MakeDataset(test_images)};
}

int Run(const Flags& f, const sigset_t& stop_signals) {
  using namespace parzen;
  WorkerOptions options;
  options.objective =
      f.objective == "val_accuracy" ? Objective::kValidationAccuracy : Objective::kValidationLoss;
  if (f.space.empty()) {
    options.search_space = mnist::DefaultSearchSpace();
  } else {
    auto space = ReadSearchSpaceFile(f.space);
    if (!space.ok()) return Fail(2, space.status());
    options.search_space = *std::move(space);
  }
  if (auto s = mnist::CheckSearchSpace(options.search_space); !s.ok()) return Fail(2, s);
  if (f.report_every != "epoch") {
    try {
      options.report_every_batches = std::stoll(f.report_every);
    } catch (const std::exception&) {
      options.report_every_batches = 0;
    }
    if (options.report_every_batches < 1) {
      return Fail(2, absl::InvalidArgumentError("--report-every takes \"epoch\" or a number of "
                                                "batches >= 1, got \"" + f.report_every + "\""));
    }
  }
  options.max_trials = f.n_trials;
  options.seed = f.seed;
  options.base_config.epochs = f.epochs;
  const bool bf16 = f.precision == "bf16" ||
                    (f.precision == "auto" && mnist::AutoPrecision() == mnist::Precision::kBf16);
  options.base_config.precision = bf16 ? mnist::Precision::kBf16 : mnist::Precision::kFp32;
  options.progress = isatty(fileno(stderr));

  auto request = StudyRequest(f, options.objective);
  if (!request.ok()) return Fail(2, request.status());
  // Checked before the study is created, so a wrong flag leaves no wrong
  // study behind for the next worker.
  std::vector<Direction> requested;
  for (int d : request->directions()) {
    requested.push_back(FromProto(static_cast<v1::Direction>(d)).value_or(Direction::kMinimize));
  }
  if (requested.empty()) requested.push_back(Direction::kMinimize);
  if (auto s = CheckDirections(requested, options.objective, f.objective,
                               f.study_flags.config_file.empty() ? "--direction"
                                                                   : f.study_flags.config_file);
      !s.ok()) {
    return Fail(2, s);
  }
  auto data = LoadData(f);
  if (!data.ok()) return Fail(2, data.status());

  SignalWatcher signals(stop_signals);
  client::ClientOptions client_options;
  client_options.address = f.server;
  client_options.worker_id = f.worker_id;
  if (!f.token_file.empty()) {
    auto token = ReadAccessTokenFile(f.token_file);
    if (!token.ok()) return Fail(2, token.status());
    client_options.access_token = *std::move(token);
  }
  auto tls = client::ReadTlsFiles(f.tls_files);
  if (!tls.ok()) return Fail(2, tls.status());
  client_options.tls = *std::move(tls);
  auto client = client::Client::Connect(client_options);
  auto study = client->CreateStudy(*request);
  if (!study.ok()) return Fail(1, study.status());
  if (auto s = CheckDirections(study->directions(), options.objective, f.objective,
                               "study \"" + study->name() + "\"");
      !s.ok()) {
    return Fail(2, s);
  }
  if (!study->created() && !f.study_flags_given.empty()) {
    // Settings are fixed when a study is created; a worker that joins
    // later cannot change them, and should not look as if it did.
    std::string given;
    for (const std::string& name : f.study_flags_given) given += (given.empty() ? "" : ", ") + name;
    spdlog::warn("study \"{}\" already exists, so {} did not change it: it keeps the sampler, "
                 "pruner and limits it was created with",
                 study->name(), given);
  }
  spdlog::info("study \"{}\": sampler {}, pruner {}", study->name(), parzen::FormatAlgorithmSpec(study->sampler()),
               parzen::FormatAlgorithmSpec(study->pruner()));
  spdlog::info("study \"{}\": max_trials {}, heartbeat grace {} s, max retries {}{}",
               study->name(), study->max_trials(), study->heartbeat_grace_seconds(),
               study->max_retries(),
               study->heartbeat_grace_seconds() > 0 ? "" : " (no reaping: a lost worker's trial "
                                                           "stays RUNNING)");
  spdlog::info("worker {} on study \"{}\" at {}: {} parameters, objective {}, {} epochs on {} "
               "images, {} threads, {}",
               client->worker_id(), study->name(), f.server, options.search_space.size(),
               f.objective, f.epochs, data->train.count, omp_get_max_threads(),
               bf16 ? "bf16" : "fp32");

  Worker worker(&*study, &*data, std::move(options), signals.signal());
  auto exit = worker.Run();
  if (!exit.ok()) return Fail(1, exit.status());
  switch (*exit) {
    case WorkerExit::kStudyBudgetReached:
      spdlog::info("study budget reached; this worker ran {} trial(s)", worker.trials_run());
      break;
    case WorkerExit::kWorkerBudgetReached:
      spdlog::info("ran --n-trials {} trial(s); done", worker.trials_run());
      break;
    case WorkerExit::kStopRequested:
      spdlog::info("stopped after {} trial(s)", worker.trials_run());
      break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Only the watcher's sigtimedwait sees them, so training stops at a batch
  // boundary, not mid-RPC.
  const sigset_t stop_signals = parzen::BlockStopSignals();

  Flags f;
  CLI::App app{"parzen-worker: tunes the MNIST network on a Parzen study"};
  // A repeated flag overrides the earlier one, so wrappers can append.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--server", f.server, "parzen-server address")->capture_default_str();
  app.add_option("--token-file", f.token_file,
                 "the access token the server requires (its --token-file)");
  parzen::client::AddTlsFlags(&app, &f.tls_files);
  app.add_option("--study", f.study, "study name; created if missing")->capture_default_str();
  parzen::client::AddStudyFlags(app, f.study_flags, "--study-config");
  app.add_option("--space", f.space, "search space JSON file (default: the built-in MNIST space)");
  app.add_flag("--print-space", f.print_space, "print the built-in search space and exit");
  app.add_option("--n-trials", f.n_trials, "this worker's budget (0: until the study's)")
      ->capture_default_str();
  app.add_option("--epochs", f.epochs, "epochs per trial")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--train-size", f.train_size, "training images (of 60,000)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--val-size", f.val_size, "validation images (of 60,000)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", f.threads, "oneDNN threads (0: all cores)")->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "directory with the four MNIST IDX files")
      ->capture_default_str();
  app.add_option("--objective", f.objective,
                 "what Tell reports and the pruner judges: val_loss (minimize) or val_accuracy "
                 "(maximize)")
      ->check(CLI::IsMember({"val_loss", "val_accuracy"}))
      ->capture_default_str();
  app.add_option("--report-every", f.report_every,
                 "epoch, or a number of batches (step = batches trained: when batch_size is "
                 "tuned, trials at one step have seen different numbers of images)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "seed for the data split and every trial's training")
      ->capture_default_str();
  app.add_option("--worker-id", f.worker_id, "name on this worker's trials (default host:pid)");
  app.add_option("--precision", f.precision,
                 "fp32, bf16, or auto: bf16 where this CPU runs it faster than fp32 (measured "
                 "at start; see BENCHMARKS.md)")
      ->check(CLI::IsMember({"fp32", "bf16", "auto"}))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember(parzen::LogLevelNames()))
      ->capture_default_str();
  // Bad flags exit 2 like every other refusal before the first trial.
  if (const std::optional<int> code = parzen::ParseFlags(app, argc, argv)) return *code;
  f.study_flags_given = parzen::client::StudyFlagsGiven(app, "--study-config");
  if (f.print_space) {
    std::fputs(parzen::SearchSpaceToJson(parzen::mnist::DefaultSearchSpace()).c_str(), stdout);
    return 0;
  }
  if (f.threads > 0) omp_set_num_threads(f.threads);

  if (f.worker_id.empty()) f.worker_id = parzen::client::DefaultWorkerId();
  // The worker id on every line: many workers' logs often end up together.
  parzen::SetUpLogging("parzen-worker", f.log_level, f.worker_id);
  return Run(f, stop_signals);
}
