// StudyState: one study in memory — its trials, counts, best trial and the
// per-step index the pruner reads — and every transition of its trials.
#ifndef PARZEN_SERVER_CORE_STUDY_STATE_H_
#define PARZEN_SERVER_CORE_STUDY_STATE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/study_history.h"
#include "common/trial.h"
#include "server/core/pareto_front.h"
#include "server/core/study_config.h"
#include "server/core/watch_queue.h"
#include "server/pruners/pruner.h"
#include "server/samplers/sampler.h"
#include "server/storage/storage.h"

namespace parzen {

// Trial ids carry their study: (study_id << kTrialNumberBits) | number, so
// finding a trial's study needs no global index on the hot path.
inline constexpr int kTrialNumberBits = 40;
inline TrialId MakeTrialId(StudyId study, int64_t number) {
  return (study << kTrialNumberBits) | number;
}
inline StudyId StudyOfTrial(TrialId id) { return id >> kTrialNumberBits; }
// Study ids must leave the 23 bits above the trial number.
inline constexpr StudyId kMaxStudyId = StudyId{1} << (63 - kTrialNumberBits);
inline int64_t NumberOfTrial(TrialId id) {
  return id & ((int64_t{1} << kTrialNumberBits) - 1);
}

struct StudySummary {
  int64_t n_trials = 0;
  std::map<TrialState, int64_t> counts;
  std::optional<FrozenTrial> best_trial;
  // Optuna's study.best_trials (the Pareto front), in number order; filled
  // only on request (Snapshot).
  std::vector<FrozenTrial> best_trials;
};

struct StudySnapshot {
  StudyRecord record;
  StudyConfig config;
  StudySummary summary;
};

// Every mutating operation returns the storage ticket the caller must wait
// for (Storage::WaitDurable) before answering; 0 when nothing was written.
template <typename T>
struct Written {
  T value;
  Storage::Ticket ticket = 0;
};

struct ReportOutcome {
  bool should_prune = false;
  bool duplicate_step = false;
};

struct TellOutcome {
  FrozenTrial trial;
  std::string message;  // non-empty when the stored outcome differs from the request
};

// Thread-safe: every public method takes the study's own lock, so studies
// never block each other. Operations validate completely before changing
// anything, so a rejected request leaves the study as it was. Trial numbers
// are handed out under the lock, gap-free.
class StudyState final : public StudyHistory {
 public:
  StudyState(StudyRecord record, StudyConfig config, std::unique_ptr<Sampler> sampler,
             std::unique_ptr<Pruner> pruner, Storage* storage, const Clock* clock,
             std::vector<FrozenTrial> trials);

  StudyId id() const { return record_.study_id; }
  // The study's first change (its creation) is part of its history too.
  void NoteCreated(Storage::Ticket ticket) {
    std::lock_guard lock(mu_);
    last_ticket_ = ticket;
  }
  Storage::Ticket last_ticket() const {
    std::lock_guard lock(mu_);
    return last_ticket_;
  }
  const std::string& name() const { return record_.name; }

  // `with_best_trials`: also copy the Pareto front (a listing of many
  // studies leaves it out).
  StudySnapshot Snapshot(bool with_best_trials = false) const;
  // Adds or replaces one study user attribute (Optuna's
  // study.set_user_attr); RESOURCE_EXHAUSTED beyond kMaxUserAttrs.
  absl::StatusOr<Written<bool>> SetUserAttr(const std::string& key, const std::string& value_json);

  // OutOfRange when max_trials RUNNING/COMPLETE/PRUNED trials exist.
  // InvalidArgument for a bad or incompatible search space. A non-empty
  // `request_id` already used by an Ask whose trial is still RUNNING
  // returns that trial (a retry) when `worker_id` matches, else
  // FailedPrecondition.
  absl::StatusOr<Written<FrozenTrial>> Ask(const SearchSpace& space, const std::string& worker_id,
                                           const std::string& request_id = "");
  absl::StatusOr<Written<TrialParam>> Suggest(int64_t number, const std::string& name,
                                              const Distribution& distribution);
  absl::StatusOr<Written<ReportOutcome>> Report(int64_t number, int64_t step, double value);
  absl::StatusOr<Written<TellOutcome>> Tell(int64_t number, TrialState state,
                                            const std::vector<double>& values,
                                            const std::string& fail_reason);
  absl::Status Heartbeat(int64_t number, const std::string& worker_id);
  absl::StatusOr<Written<FrozenTrial>> Enqueue(const std::map<std::string, ParamValue>& params,
                                               const std::map<std::string, std::string>& user_attrs);
  absl::StatusOr<Written<bool>> SetTrialUserAttr(int64_t number, const std::string& key,
                                                 const std::string& value_json);

  absl::StatusOr<FrozenTrial> GetTrial(int64_t number) const;
  // Trials in number order whose state is in `states` (all when empty),
  // starting at number >= `from`; at most `limit`. `next` is the number to
  // continue from, or -1 at the end.
  std::vector<FrozenTrial> ListTrials(const std::vector<TrialState>& states, int64_t from,
                                      int64_t limit, int64_t* next) const;

  // Registers a watcher; it first receives every existing trial.
  void Watch(const std::shared_ptr<WatchQueue>& queue);

  // Fails RUNNING trials whose last heartbeat is older than the grace
  // period (reason "heartbeat lost") and re-enqueues them when retries are
  // on. Returns the last ticket written (0: none).
  Storage::Ticket ReapExpired();

  // After this every operation answers NotFound and watchers are closed.
  Storage::Ticket MarkDeleted();

  // StudyHistory, for the sampler and pruner. REQUIRES: mu_ held (they are
  // only called from inside the operations above).
  const std::string& study_name() const override { return record_.name; }
  const std::vector<Direction>& directions() const override { return config_.directions; }
  const std::vector<FrozenTrial>& trials() const override { return trials_; }
  int64_t num_complete() const override;
  std::vector<double> CompletedValuesAt(int64_t step) const override;

 private:
  absl::StatusOr<FrozenTrial*> FindLocked(int64_t number);
  absl::StatusOr<FrozenTrial*> FindRunningLocked(int64_t number, const char* action);
  absl::Status CheckKnownDistribution(const std::string& name, const Distribution& d) const;
  // The internal value of the trial's enqueued `name` under `d`;
  // INVALID_ARGUMENT, naming both, when it does not fit (Optuna raises).
  absl::StatusOr<double> FixedInternal(const FrozenTrial& trial, const std::string& name,
                                       const Distribution& d) const;
  absl::StatusOr<double> SampleOne(const FrozenTrial& trial, const std::string& name,
                                   const Distribution& d, const std::map<std::string, double>& relative);
  void AddParamLocked(FrozenTrial& trial, TrialParam param);
  void SetStateLocked(FrozenTrial& trial, TrialState state);
  void FinishLocked(FrozenTrial& trial);
  Storage::Ticket SubmitLocked(Mutation m, const FrozenTrial& changed);
  void IndexLoadedTrial(const FrozenTrial& t);

  // Only user_attrs changes (guarded by mu_); the rest is fixed at creation.
  StudyRecord record_;
  const StudyConfig config_;
  const std::unique_ptr<Sampler> sampler_;
  const std::unique_ptr<Pruner> pruner_;
  Storage* const storage_;
  const Clock* const clock_;

  mutable std::mutex mu_;
  bool deleted_ = false;                       // guarded by mu_
  std::vector<FrozenTrial> trials_;            // guarded by mu_; index == number
  std::deque<int64_t> waiting_;                // guarded by mu_; oldest first
  std::map<TrialState, int64_t> counts_;       // guarded by mu_
  std::optional<int64_t> best_;                // guarded by mu_; number of the best COMPLETE
  ParetoFront front_;                          // guarded by mu_
  std::unordered_map<std::string, Distribution> known_;  // guarded by mu_; first seen per name
  std::unordered_map<int64_t, std::vector<double>> completed_by_step_;  // guarded by mu_
  std::unordered_map<int64_t, int64_t> last_beat_us_;  // guarded by mu_; RUNNING trials
  // guarded by mu_: the Ask request_id of RUNNING trials, both ways.
  std::unordered_map<std::string, int64_t> running_by_request_;
  std::unordered_map<int64_t, std::string> request_of_running_;
  std::vector<std::weak_ptr<WatchQueue>> watchers_;    // guarded by mu_
  // guarded by mu_: the last change submitted; a no-op reply (a repeated
  // Tell, Suggest or report) waits for it, as the original may not be
  // durable yet.
  Storage::Ticket last_ticket_ = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_STUDY_STATE_H_
