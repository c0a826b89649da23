// Worker: the loop parzen-worker runs. Ask for a trial, build the MNIST
// trainer from its parameters, train while reporting the objective's
// validation metric at every report point, stop at once when pruned, tell
// the outcome; until the study's budget or this worker's own is used up, or
// a stop is requested.
#ifndef PARZEN_WORKER_WORKER_H_
#define PARZEN_WORKER_WORKER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "common/search_space.h"
#include "common/status.h"
#include "client/study.h"
#include "worker/mnist/dataset.h"
#include "worker/mnist/trainer.h"

namespace parzen {

enum class Objective { kValidationLoss, kValidationAccuracy };

struct WorkerOptions {
  SearchSpace search_space;
  Objective objective = Objective::kValidationLoss;
  // 0: report at the end of every epoch (step = epoch index from 0, as in
  // Optuna's examples); N: every N batches (step = batches trained).
  int64_t report_every_batches = 0;
  int64_t max_trials = 0;  // this worker's own budget; 0: the study's
  // Every trial's TrainConfig before its parameters are applied (epochs,
  // precision, defaults for what the space leaves out).
  mnist::TrainConfig base_config;
  uint64_t seed = 1;
  bool progress = false;  // a live progress line on stderr
};

struct WorkerData {
  mnist::Dataset train;
  mnist::Dataset validation;
  mnist::Dataset test;
};

// Why Run returned.
enum class WorkerExit { kStudyBudgetReached, kWorkerBudgetReached, kStopRequested };

class Worker {
 public:
  // `stop_signal` becomes non-zero (the signal number) when a stop is
  // requested, from another thread. `study` and `data` must outlive Run.
  Worker(client::Study* study, const WorkerData* data, WorkerOptions options,
         const std::atomic<int>* stop_signal);

  // Errors are ones the loop cannot get past (server unreachable after the
  // client's retries, study deleted); a trial whose parameters the trainer
  // rejects is told FAIL and the loop goes on.
  absl::StatusOr<WorkerExit> Run();

  int64_t trials_run() const { return trials_run_; }

 private:
  // kFailed: training failed (counts towards kMaxConsecutiveFailures);
  // kRejected: the trial's own parameters or value were unusable.
  enum class Outcome { kComplete, kPruned, kFailed, kRejected, kLost, kStopped };
  static constexpr int kMaxConsecutiveFailures = 3;

  absl::StatusOr<Outcome> RunTrial(client::Trial& trial);
  // `status` of a call on `trial`: kLost when the server no longer counts
  // the trial as ours (dropped, the loop goes on); other errors are
  // returned after a quick FAIL; OK is kComplete.
  absl::StatusOr<Outcome> Settle(client::Trial& trial, const std::string& label,
                                 const absl::Status& status);
  // The study's budget is used up; waits while trials still run elsewhere
  // (one may be reaped and handed back for a retry). True when Ask may
  // succeed again.
  absl::StatusOr<bool> WaitForRetries();
  double Metric(double loss, double accuracy) const;

  client::Study* study_;
  const WorkerData* data_;
  WorkerOptions options_;
  bool StopRequested() const { return stop_signal_->load(std::memory_order_relaxed) != 0; }

  const std::atomic<int>* stop_signal_;
  int64_t trials_run_ = 0;
  std::string last_failure_;
};

}  // namespace parzen

#endif  // PARZEN_WORKER_WORKER_H_
