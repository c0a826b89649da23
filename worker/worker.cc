#include "worker/worker.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "client/client.h"
#include "worker/mnist/hyperparameters.h"

namespace parzen {
namespace {

using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// Four significant digits: a log line per trial a person can read.
std::string FormatParams(const std::map<std::string, ParamValue>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    std::string text;
    if (const double* d = std::get_if<double>(&value)) {
      text = fmt::format("{:.4g}", *d);
    } else if (const std::string* s = std::get_if<std::string>(&value)) {
      text = *s;
    } else {
      text = FormatValue(value);
    }
    out += (out.empty() ? "" : " ") + name + "=" + text;
  }
  return out;
}

void ClearProgressLine() { std::fprintf(stderr, "\r%*s\r", 78, ""); }

// Refused because the server no longer counts the trial as ours: reaped
// after a lost heartbeat, finished elsewhere, or its study deleted.
bool IsNoLongerOurs(const client::Trial& trial, const absl::Status& status) {
  return trial.lost() || status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kNotFound;
}

// A FAIL told on the way out: two short attempts, not the minutes a normal
// call may retry for.
constexpr client::CallLimits kQuickTell{2, std::chrono::milliseconds(3000)};

}  // namespace

Worker::Worker(client::Study* study, const WorkerData* data, WorkerOptions options,
               const std::atomic<int>* stop_signal)
    : study_(study), data_(data), options_(std::move(options)), stop_signal_(stop_signal) {}

double Worker::Metric(double loss, double accuracy) const {
  return options_.objective == Objective::kValidationLoss ? loss : accuracy;
}

absl::StatusOr<WorkerExit> Worker::Run() {
  int consecutive_failures = 0;
  while (true) {
    if (StopRequested()) return WorkerExit::kStopRequested;
    if (options_.max_trials > 0 && trials_run_ >= options_.max_trials) {
      return WorkerExit::kWorkerBudgetReached;
    }
    absl::StatusOr<client::Trial> trial = study_->Ask(options_.search_space);
    if (client::IsBudgetReached(trial.status())) {
      PARZEN_ASSIGN_OR_RETURN(bool again, WaitForRetries());
      if (!again) {
        return StopRequested() ? WorkerExit::kStopRequested : WorkerExit::kStudyBudgetReached;
      }
      continue;
    }
    if (!trial.ok()) {
      // A stop during Ask's retries is still a stop, not a failure.
      if (StopRequested()) return WorkerExit::kStopRequested;
      return trial.status();
    }
    ++trials_run_;
    PARZEN_ASSIGN_OR_RETURN(Outcome outcome, RunTrial(*trial));
    if (outcome == Outcome::kStopped) return WorkerExit::kStopRequested;
    // Failed trials do not use up the budget: a failure that repeats on
    // every trial (a broken machine, a bad flag) would otherwise fill the
    // study with FAIL trials forever. Optuna's optimize stops too.
    consecutive_failures = outcome == Outcome::kFailed ? consecutive_failures + 1 : 0;
    if (consecutive_failures >= kMaxConsecutiveFailures) {
      return absl::AbortedError(std::to_string(kMaxConsecutiveFailures) +
                                " trials in a row failed to train (last: " + last_failure_ +
                                "); stopping this worker");
    }
  }
}

absl::StatusOr<bool> Worker::WaitForRetries() {
  // Without reaping a running trial never comes back: nothing to wait for.
  if (study_->heartbeat_grace_seconds() <= 0) return false;
  bool announced = false;
  while (!StopRequested()) {
    PARZEN_ASSIGN_OR_RETURN(client::StudyCounts counts, study_->Counts());
    const int64_t used = counts.running + counts.complete + counts.pruned;
    // A slot freed by a trial that failed meanwhile: ask again. (Waiting
    // trials alone do not help: the budget is checked before the queue.)
    if (study_->max_trials() == 0 || used < study_->max_trials()) return true;
    if (counts.running == 0) return false;
    if (!announced) {
      spdlog::info("study budget reached; waiting for {} running trial(s) elsewhere in case one "
                   "is lost and retried",
                   counts.running);
      announced = true;
    }
    for (int i = 0; i < 10 && !StopRequested(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return false;
}

absl::StatusOr<Worker::Outcome> Worker::Settle(client::Trial& trial, const std::string& label,
                                               const absl::Status& status) {
  if (status.ok()) return Outcome::kComplete;
  if (IsNoLongerOurs(trial, status)) {
    spdlog::warn("{} is no longer ours ({}); dropping it", label,
                 trial.lost() ? trial.lost_reason() : std::string(status.message()));
    return Outcome::kLost;
  }
  // Most likely the server is unreachable; a quick FAIL on the way out says
  // why if it is back, and the reaper covers the rest.
  const auto told = study_->TellFail(trial, std::string(status.message()), kQuickTell);
  if (!told.ok()) {
    spdlog::warn("{}: could not tell FAIL ({}); the server will reap it", label,
                 std::string(told.status().message()));
  }
  return status;
}

absl::StatusOr<Worker::Outcome> Worker::RunTrial(client::Trial& trial) {
  const auto start = Steady::now();
  const std::map<std::string, ParamValue> params = trial.params();
  const std::string label =
      "trial " + std::to_string(trial.number()) +
      (trial.retry_of() ? " (retry of " + std::to_string(*trial.retry_of()) + ")" : "");
  spdlog::info("{} started: {}", label, FormatParams(params));

  absl::StatusOr<mnist::TrainConfig> config =
      mnist::ApplyHyperparameters(params, options_.base_config);
  if (!config.ok()) {
    // Only enqueued values get here (the space was checked up front): this
    // trial's fault, not the worker's.
    spdlog::warn("{} failed: {}", label, std::string(config.status().message()));
    PARZEN_ASSIGN_OR_RETURN(
        Outcome o, Settle(trial, label,
                          study_->TellFail(trial, std::string(config.status().message())).status()));
    return o == Outcome::kLost ? o : Outcome::kRejected;
  }
  // A retry re-runs its original's seed, so a re-run reproduces it.
  config->seed = options_.seed * 1'000'003 + static_cast<uint64_t>(
                                                  trial.retry_of().value_or(trial.number()));

  absl::Status report_error;
  bool pruned = false;
  double last_loss = 0, last_accuracy = 0;
  // Reports the objective's metric; false when training must stop.
  auto report = [&](int64_t step, const mnist::Evaluation& v) {
    last_loss = v.loss;
    last_accuracy = v.accuracy;
    spdlog::debug("{} step {}: val_loss={:.4f} val_accuracy={:.4f}", label, step, v.loss,
                  v.accuracy);
    report_error = trial.Report(Metric(v.loss, v.accuracy), step);
    if (!report_error.ok()) return false;
    pruned = trial.ShouldPrune();
    return !pruned;
  };
  auto on_epoch = [&](const mnist::EpochMetrics& m) {
    if (StopRequested()) return false;
    if (options_.report_every_batches > 0) return true;
    return report(m.epoch - 1, mnist::Evaluation{m.validation_loss, m.validation_accuracy, 0});
  };
  auto on_batch = [&](const mnist::BatchProgress& p) {
    if (StopRequested() || trial.lost()) return false;
    const int64_t step = (p.epoch - 1) * p.batches_per_epoch + p.batch;
    if (options_.progress && (p.batch % 10 == 0 || p.batch == p.batches_per_epoch)) {
      std::fprintf(stderr, "\r%s epoch %lld/%lld batch %lld/%lld", label.c_str(),
                   static_cast<long long>(p.epoch),
                   static_cast<long long>(options_.base_config.epochs),
                   static_cast<long long>(p.batch), static_cast<long long>(p.batches_per_epoch));
    }
    if (options_.report_every_batches > 0 && step % options_.report_every_batches == 0) {
      absl::StatusOr<mnist::Evaluation> v = mnist::Evaluate(*p.network, data_->validation);
      if (!v.ok()) {
        report_error = v.status();
        return false;
      }
      return report(step, *v);
    }
    return true;
  };
  absl::StatusOr<mnist::TrainResult> result =
      mnist::Train(*config, data_->train, data_->validation, on_epoch, on_batch);
  if (options_.progress) ClearProgressLine();
  const double seconds = SecondsSince(start);

  if (StopRequested()) {
    const int sig = stop_signal_->load();
    const std::string reason =
        "worker stopped by " + std::string(sig == SIGTERM  ? "SIGTERM"
                                           : sig == SIGINT ? "SIGINT"
                                                           : "signal " + std::to_string(sig));
    spdlog::info("{} stopped: {}; telling FAIL", label, reason);
    // Quick and best effort: the process is on its way out, and a trial we
    // cannot tell is reaped by the server anyway.
    const auto told = study_->TellFail(trial, reason, kQuickTell);
    if (!told.ok()) {
      spdlog::warn("{}: could not tell FAIL ({}); the server will reap it", label,
                   std::string(told.status().message()));
    }
    return Outcome::kStopped;
  }
  if (!report_error.ok() || trial.lost()) {
    return Settle(trial, label,
                  report_error.ok() ? absl::FailedPreconditionError("lost") : report_error);
  }
  if (!result.ok()) {
    last_failure_ = std::string(result.status().message());
    spdlog::warn("{} failed: {}", label, last_failure_);
    PARZEN_ASSIGN_OR_RETURN(Outcome o,
                            Settle(trial, label, study_->TellFail(trial, last_failure_).status()));
    return o == Outcome::kLost ? o : Outcome::kFailed;
  }

  // From here on the trial may be reaped at any call; Settle drops it then.
  Outcome outcome = Outcome::kComplete;
  const absl::Status finished = [&]() -> absl::Status {
    auto set_attr = [&trial](const std::string& key, const ParamValue& value) {
      return trial.SetUserAttr(key, value);
    };
    double images_per_s = 0;
    if (!result->epochs.empty()) {
      // A pruned trial keeps the metrics it was judged on, maybe mid-epoch.
      const mnist::EpochMetrics& last = result->epochs.back();
      if (!pruned) {
        last_loss = last.validation_loss;
        last_accuracy = last.validation_accuracy;
      }
      images_per_s = last.train_images_per_s;
      PARZEN_RETURN_IF_ERROR(set_attr("images_per_s", images_per_s));
    }
    PARZEN_RETURN_IF_ERROR(set_attr("val_loss", last_loss));
    PARZEN_RETURN_IF_ERROR(set_attr("val_accuracy", last_accuracy));
    PARZEN_RETURN_IF_ERROR(set_attr("train_seconds", seconds));
    if (pruned) {
      PARZEN_RETURN_IF_ERROR(study_->TellPruned(trial).status());
      spdlog::info("{} pruned at step {}: {}={:.4f} after {:.1f} s", label,
                   trial.snapshot().last_step().value_or(0),
                   options_.objective == Objective::kValidationLoss ? "val_loss" : "val_accuracy",
                   Metric(last_loss, last_accuracy), seconds);
      outcome = Outcome::kPruned;
      return absl::OkStatus();
    }
    PARZEN_ASSIGN_OR_RETURN(const mnist::Evaluation test,
                            mnist::Evaluate(*result->network, data_->test));
    PARZEN_RETURN_IF_ERROR(set_attr("test_accuracy", test.accuracy));
    PARZEN_ASSIGN_OR_RETURN(client::TellResult told,
                            study_->Tell(trial, Metric(last_loss, last_accuracy)));
    if (told.state != TrialState::kComplete) {
      spdlog::warn("{} stored as {}: {}", label, TrialStateName(told.state), told.message);
      outcome = Outcome::kRejected;
      return absl::OkStatus();
    }
    spdlog::info("{} complete: val_loss={:.4f} val_accuracy={:.4f} test_accuracy={:.4f} in "
                 "{:.1f} s ({:.0f} images/s)",
                 label, last_loss, last_accuracy, test.accuracy, seconds, images_per_s);
    return absl::OkStatus();
  }();
  if (!finished.ok()) return Settle(trial, label, finished);
  return outcome;
}

}  // namespace parzen
