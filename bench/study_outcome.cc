// study_outcome: the user's real question. With the same wall-clock budget
// per arm, how good a network does each setup find?
//   (a) Parzen: TPE + median pruner,
//   (b) Parzen: random sampling, no pruner,
//   (c) Optuna's TPE + MedianPruner training the same network with PyTorch
//       (bench/optuna_study_outcome.py).
// Each arm runs its workers (2 processes of 1 thread by default) on the
// built-in MNIST search space, 20,000 training and 10,000 validation images,
// up to 4 epochs, the validation loss (or, with --objective val_accuracy,
// the accuracy) reported after every epoch and told as the objective. The
// arms are compared on the best validation accuracy of a completed trial;
// the test set is only measured on finished trials. Every arm trains and
// validates on the same images: Parzen's workers split by --seed, and
// Optuna's arm reads that split from a file (--split-file), because two
// random sets of 10,000 MNIST images differ in difficulty by as much as the
// arms' results do.
// At the deadline the workers are stopped: only trials finished by then
// count, in every arm.
//
// epochs_saved_by_pruning (arm a): the epochs pruned trials did not train,
// as a fraction of the epochs the finished trials would have trained
// without a pruner (finished trials x max epochs).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/key_values.h"
#include "bench/local_server.h"
#include "client/client.h"
#include "client/study.h"
#include "worker/mnist/dataset.h"
#include "worker/mnist/idx.h"

namespace {

struct Flags {
  std::string server_binary = PARZEN_SERVER_BINARY;
  std::string worker_binary = PARZEN_WORKER_BINARY;
  std::string python = "/usr/bin/python3";
  std::string optuna_script = PARZEN_OPTUNA_SCRIPT;
  std::string data_dir = "data/mnist";
  double minutes = 15;
  int workers = 2;
  int threads = 1;
  int train_size = 20000;
  int val_size = 10000;
  int epochs = 4;
  int seed = 1;
  std::string objective = "val_loss";
  std::string tpe_args;
  std::vector<std::string> arms = {"parzen_tpe", "parzen_random", "optuna_tpe"};
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "study_outcome: %s\n", what.c_str());
  std::exit(1);
}

// One finished or stopped trial, as the arms report them.
struct TrialOutcome {
  std::string state;  // COMPLETE, PRUNED, FAIL, ...
  int epochs = 0;     // epochs trained (intermediate values reported)
  double val_accuracy = NAN;
  double test_accuracy = NAN;
};

struct ArmResult {
  int complete = 0, pruned = 0, stopped = 0;
  int epochs_trained = 0;
  double best_val = NAN, best_val_test = NAN;
  double epochs_saved = NAN;  // fraction, see the top of the file
};

ArmResult Summarise(const std::vector<TrialOutcome>& trials, int max_epochs) {
  ArmResult r;
  int saved = 0, finished = 0;
  for (const TrialOutcome& t : trials) {
    r.epochs_trained += t.epochs;
    if (t.state == "COMPLETE") {
      ++r.complete;
      if (!(t.val_accuracy <= r.best_val)) {  // NaN-safe: the first one wins
        r.best_val = t.val_accuracy;
        r.best_val_test = t.test_accuracy;
      }
    } else if (t.state == "PRUNED") {
      ++r.pruned;
      saved += max_epochs - t.epochs;
    } else {
      ++r.stopped;
      continue;
    }
    ++finished;
  }
  r.epochs_saved = finished > 0 ? static_cast<double>(saved) / (finished * max_epochs) : NAN;
  return r;
}

// Starts `argv` with its output in `log_path`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string TempDir() {
  std::string dir = "/tmp/study_outcome.XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) Die("mkdtemp failed");
  return dir;
}

double JsonNumber(const std::map<std::string, std::string>& attrs, const std::string& key) {
  const auto it = attrs.find(key);
  return it == attrs.end() ? NAN : std::strtod(it->second.c_str(), nullptr);
}

std::vector<TrialOutcome> RunParzen(const Flags& f, const std::string& arm, const std::string& dir) {
  parzen::bench::LocalServer server;
  if (std::string error = server.Start(f.server_binary); !error.empty()) Die(error);
  const bool tpe = arm == "parzen_tpe";
  std::string sampler = (tpe ? "tpe:seed=" : "random:seed=") + std::to_string(f.seed);
  if (tpe && !f.tpe_args.empty()) sampler += "," + f.tpe_args;
  std::vector<pid_t> workers;
  for (int w = 0; w < f.workers; ++w) {
    workers.push_back(Spawn({f.worker_binary, "--server", server.address(), "--study", arm, "--sampler",
                             sampler, "--pruner", tpe ? "median" : "nop", "--objective", f.objective,
                             "--epochs", std::to_string(f.epochs), "--train-size",
                             std::to_string(f.train_size), "--val-size", std::to_string(f.val_size),
                             "--threads", std::to_string(f.threads), "--data-dir", f.data_dir, "--seed",
                             std::to_string(f.seed)},
                            dir + "/" + arm + "-worker-" + std::to_string(w) + ".log"));
  }
  // The budget itself. A worker that exits before it (a bad flag, missing
  // data) would leave the arm short of its workers: stop at once instead.
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(60 * f.minutes));
  while (std::chrono::steady_clock::now() < deadline) {
    for (pid_t pid : workers) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) != pid) continue;
      for (pid_t other : workers) kill(other, SIGTERM);
      Die(arm + ": a worker exited before the deadline (status " + std::to_string(status) +
          "); worker logs in " + dir);
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::seconds(1), deadline - std::chrono::steady_clock::now()));
  }
  for (pid_t pid : workers) kill(pid, SIGTERM);
  for (pid_t pid : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
  auto client = parzen::client::Client::Connect({.address = server.address()});
  auto study = client->LoadStudy(arm);
  if (!study.ok()) Die(arm + ": " + study.status().ToString() + " (worker logs in " + dir + ")");
  auto trials = study->Trials();
  if (!trials.ok()) Die(arm + ": " + trials.status().ToString());
  std::vector<TrialOutcome> out;
  for (const parzen::FrozenTrial& t : *trials) {
    TrialOutcome o;
    o.state = parzen::TrialStateName(t.state);
    o.epochs = static_cast<int>(t.intermediate_values.size());
    o.val_accuracy = JsonNumber(t.user_attrs, "val_accuracy");
    o.test_accuracy = JsonNumber(t.user_attrs, "test_accuracy");
    out.push_back(o);
  }
  server.Stop();
  return out;
}

// The training and validation indices Parzen's workers use (they split by
// the same seed), for Optuna's arm to train and validate on the same images.
std::string WriteParzenSplit(const Flags& f, const std::string& dir) {
  auto images = parzen::mnist::ReadMnistSplit(f.data_dir, "train");
  if (!images.ok()) Die(images.status().ToString());
  auto indices = parzen::mnist::SplitTrainValidationIndices(images->count, f.train_size, f.val_size,
                                                            static_cast<uint64_t>(f.seed));
  if (!indices.ok()) Die(indices.status().ToString());
  const std::string path = dir + "/split.txt";
  if (absl::Status written = parzen::mnist::WriteSplitIndices(*indices, path); !written.ok()) {
    Die(written.ToString());
  }
  return path;
}

std::vector<TrialOutcome> RunOptuna(const Flags& f, const std::string& dir) {
  const std::string split_file = WriteParzenSplit(f, dir);
  std::ostringstream cmd;
  cmd << f.python << " " << f.optuna_script << " --minutes " << f.minutes << " --workers " << f.workers
      << " --threads " << f.threads << " --train-size " << f.train_size << " --val-size " << f.val_size
      << " --epochs " << f.epochs << " --objective " << f.objective << " --data-dir " << f.data_dir
      << " --seed " << f.seed << " --split-file " << split_file << " --db "
      << dir << "/optuna.db 2>" << dir << "/optuna.log";
  FILE* pipe = popen(cmd.str().c_str(), "r");
  if (pipe == nullptr) Die("cannot run " + cmd.str());
  std::vector<TrialOutcome> out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    if (!std::string_view(line).starts_with("optuna_trial ")) continue;
    std::map<std::string, std::string> fields = parzen::bench::KeyValues(line);
    TrialOutcome o;
    o.state = fields["state"];
    o.epochs = std::atoi(fields["epochs"].c_str());
    o.val_accuracy = std::strtod(fields["val_accuracy"].c_str(), nullptr);
    o.test_accuracy = std::strtod(fields["test_accuracy"].c_str(), nullptr);
    out.push_back(o);
  }
  if (int rc = pclose(pipe); rc != 0) Die(cmd.str() + " failed (status " + std::to_string(rc) + ")");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"study_outcome: the best network each setup finds in the same wall-clock budget"};
  app.add_option("--minutes", f.minutes, "budget per arm")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--workers", f.workers, "worker processes per arm")->capture_default_str();
  app.add_option("--threads", f.threads, "threads per worker")->capture_default_str();
  app.add_option("--train-size", f.train_size, "training images")->capture_default_str();
  app.add_option("--val-size", f.val_size, "validation images")->capture_default_str();
  app.add_option("--epochs", f.epochs, "epochs per trial at most")->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "the MNIST IDX files")->capture_default_str();
  app.add_option("--seed", f.seed, "samplers' and training's seed")->capture_default_str();
  app.add_option("--objective", f.objective, "reported each epoch and told: val_loss or val_accuracy")
      ->capture_default_str()
      ->check(CLI::IsMember({"val_loss", "val_accuracy"}));
  app.add_option("--arms", f.arms, "parzen_tpe, parzen_random, optuna_tpe")->delimiter(',')->capture_default_str();
  app.add_option("--tpe-args", f.tpe_args,
                 "more arguments for arm (a)'s TPE, as --sampler takes them "
                 "(multivariate=false,constant_liar=false: Optuna 3.1's defaults)");
  app.add_option("--python", f.python, "the Python with Optuna and PyTorch")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::string dir = TempDir();
  std::printf("study_outcome: %.3g min per arm, %d workers x %d threads, %d train / %d val images, "
              "%d epochs, objective %s; logs in %s\n",
              f.minutes, f.workers, f.threads, f.train_size, f.val_size, f.epochs, f.objective.c_str(),
              dir.c_str());
  std::printf("%-14s %9s %7s %8s %7s %9s %9s %13s\n", "arm", "finished", "pruned", "stopped", "epochs",
              "best_val", "its_test", "epochs_saved");
  std::map<std::string, ArmResult> results;
  for (const std::string& arm : f.arms) {
    std::vector<TrialOutcome> trials;
    if (arm == "optuna_tpe") {
      trials = RunOptuna(f, dir);
    } else if (arm == "parzen_tpe" || arm == "parzen_random") {
      trials = RunParzen(f, arm, dir);
    } else {
      Die("unknown arm " + arm);
    }
    const ArmResult r = results[arm] = Summarise(trials, f.epochs);
    std::printf("%-14s %9d %7d %8d %7d %9.4f %9.4f %13.3f\n", arm.c_str(), r.complete + r.pruned,
                r.pruned, r.stopped, r.epochs_trained, r.best_val, r.best_val_test, r.epochs_saved);
    std::fflush(stdout);
  }
  auto best = [&](const std::string& arm) { return results.count(arm) ? results[arm].best_val : NAN; };
  const double saved = results.count("parzen_tpe") ? results["parzen_tpe"].epochs_saved : NAN;
  std::printf("study_outcome minutes=%g parzen_tpe_best_val=%.4f random_best_val=%.4f optuna_best_val=%.4f "
              "epochs_saved_by_pruning=%.3f\n",
              f.minutes, best("parzen_tpe"), best("parzen_random"), best("optuna_tpe"), saved);
  return 0;
}
