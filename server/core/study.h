// Study: the kernel of the core. One study's record in memory — its trials
// and their indexes (counts by state, best trial, Pareto front, the queue,
// leases, Ask request ids, intermediate values by step) — behind one lock,
// with the writes that keep those indexes true. The use cases
// (server/core/ops/) are short functions over it; samplers and pruners
// never see it, only Snapshot()s of it.
#ifndef PARZEN_SERVER_CORE_STUDY_H_
#define PARZEN_SERVER_CORE_STUDY_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/common.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/frozen_trial.h"
#include "server/core/history.h"
#include "server/core/pareto_front.h"
#include "server/core/persistent_vector.h"
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
inline int64_t NumberOfTrial(TrialId id) { return id & ((int64_t{1} << kTrialNumberBits) - 1); }

// "COMPLETE with value 0.5", "FAIL (heartbeat lost)": a finished trial's
// outcome, for messages.
std::string DescribeOutcome(const FrozenTrial& trial);

struct StudySummary {
  int64_t n_trials = 0;
  std::map<TrialState, int64_t> counts;
  std::optional<FrozenTrial> best_trial;
  // Optuna's study.best_trials (the Pareto front), in number order; filled
  // only on request.
  std::vector<FrozenTrial> best_trials;
};

struct StudySnapshot {
  StudyRecord record;
  StudyConfig config;
  StudySummary summary;
};

// Thread-safe through its lock: a use case holds mu() for the whole of
// its check-then-write, so a rejected request changes nothing, and every
// method below but the fixed accessors REQUIRES it (checked by clang's
// -Wthread-safety). Studies never share a lock.
class Study {
 public:
  // `trials`: as loaded, in number order. `storage` and `clock` must
  // outlive the study.
  Study(StudyRecord record, StudyConfig config, std::unique_ptr<Sampler> sampler,
        std::unique_ptr<Pruner> pruner, Storage* storage, const Clock* clock,
        std::vector<FrozenTrial> trials);
  Study(const Study&) = delete;
  Study& operator=(const Study&) = delete;

  // Fixed at creation: no lock.
  StudyId id() const { return id_; }
  const std::string& name() const { return config_->name; }
  const StudyConfig& config() const { return *config_; }
  const Sampler& sampler() const { return *sampler_; }
  const Pruner& pruner() const { return *pruner_; }
  const Clock& clock() const { return *clock_; }
  // "trial 3 of study 'mnist'"
  std::string TrialLabel(int64_t number) const;

  absl::Mutex& mu() const ABSL_LOCK_RETURNED(mu_) { return mu_; }

  // ---- Reads.

  // NotFound once the study was deleted.
  absl::Status CheckLive() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // NotFound for a deleted study or a number it does not have.
  absl::StatusOr<const FrozenTrial*> Find(int64_t number) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // As Find, and FailedPrecondition ("cannot <action>: ...") unless RUNNING.
  absl::StatusOr<const FrozenTrial*> FindRunning(int64_t number, std::string_view action) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t num_trials() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int64_t>(trials_.size());
  }
  // REQUIRES: 0 <= number < num_trials().
  const FrozenTrial& trial(int64_t number) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return *trials_[number];
  }
  int64_t count(TrialState state) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  StudySnapshot Summarize(bool with_best_trials) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const StudyRecord& record() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return record_; }
  // The distribution a parameter of this name was first used with.
  const Distribution* Known(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // InvalidArgument when `d` does not match how `name` was used before.
  absl::Status CheckKnownDistribution(const std::string& name, const Distribution& d) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The RUNNING trial an Ask with this request_id started.
  std::optional<int64_t> RunningByRequest(const std::string& request_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<int64_t> FrontOfQueue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RUNNING trials whose last beat is older than the grace period, in
  // number order.
  std::vector<int64_t> ExpiredLeases() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The last change submitted: a reply that changed nothing (a repeat)
  // waits for it, as the original may still be committing.
  Storage::Ticket last_ticket() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return last_ticket_; }
  // The history as of now, for samplers and pruners: O(1), immutable.
  std::shared_ptr<const History> Snapshot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- Asks in flight between their two halves (sampling happens off
  // the lock in between).

  // Starts one: a number for its new trial, distinct from every other Ask
  // in flight, and the one it gets if Asks commit in the order they began.
  int64_t BeginAsk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The Ask committed or gave up.
  void EndAsk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t asks_in_flight() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return asks_in_flight_; }
  // An Ask's request_id while it is in flight: false if already taken.
  bool HoldRequest(const std::string& request_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseRequest(const std::string& request_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- Writes. Each keeps every index true; none reaches storage or the
  // watchers until Publish.

  // Adds `trial` (RUNNING or WAITING) as the next number, setting its
  // number and ids; returns the number.
  int64_t Append(FrozenTrial trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the oldest WAITING trial off the queue, or puts one back first.
  std::optional<int64_t> PopWaiting() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushWaitingFront(int64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // WAITING -> RUNNING: start time, worker, lease and request_id.
  void Start(int64_t number, const std::string& worker_id, const std::string& request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddParam(int64_t number, TrialParam param) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddIntermediate(int64_t number, int64_t step, double value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetUserAttr(int64_t number, const std::string& key, std::string json)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetSystemAttr(int64_t number, const std::string& key, std::string json)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetStudyUserAttr(const std::string& key, std::string json)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RUNNING or WAITING -> `state` (finished) with its outcome: completion
  // time, counts, best trial, front and pruner index; ends the lease.
  void Finish(int64_t number, TrialState state, std::vector<double> values,
              std::string fail_reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Renews a RUNNING trial's lease.
  void Beat(int64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Hands `changes` to storage in order and returns the last one's ticket,
  // the one to await before answering. With a trial number, watchers then
  // see that trial as it is now (one event, whatever the number of
  // changes; a report's event carries the step reported).
  Storage::Ticket Publish(std::vector<Mutation> changes, std::optional<int64_t> number)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Storage::Ticket Publish(Mutation change, std::optional<int64_t> number)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Logs `line` at `level` once `ticket` is durable, so the log never tells
  // of a change that a crash then loses; a commit that fails stops the
  // server, which logs why, and the line is dropped.
  void LogWhenDurable(Storage::Ticket ticket, spdlog::level::level_enum level,
                      std::string line) const;

  // Registers a watcher; it first receives every existing trial. A
  // deleted study's watcher is closed at once.
  void AddWatcher(const std::shared_ptr<WatchQueue>& queue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After this every use case answers NotFound and watchers are closed.
  Storage::Ticket MarkDeleted() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The study's first change (its creation) is part of its history too.
  void NoteCreated(Storage::Ticket ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    last_ticket_ = ticket;
  }

 private:
  FrozenTrial& Mutable(int64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetState(FrozenTrial& trial, TrialState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void IndexCompleted(const FrozenTrial& trial, bool loading) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Index(const FrozenTrial& trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const StudyId id_;
  const std::shared_ptr<const StudyConfig> config_;
  const std::unique_ptr<Sampler> sampler_;
  const std::unique_ptr<Pruner> pruner_;
  Storage* const storage_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  StudyRecord record_ ABSL_GUARDED_BY(mu_);  // its user_attrs change
  bool deleted_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  // index == number; copy-on-write, shared with the snapshots.
  PersistentVector<std::shared_ptr<FrozenTrial>> trials_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<StepIndex> completed_by_step_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> waiting_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::map<TrialState, int64_t> counts_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> best_ ABSL_GUARDED_BY(mu_);  // number of the best COMPLETE
  ParetoFront front_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Distribution> known_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<int64_t, int64_t> last_beat_us_ ABSL_GUARDED_BY(mu_);  // RUNNING trials
  // The Ask request_id of RUNNING trials, both ways.
  std::unordered_map<std::string, int64_t> running_by_request_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<int64_t, std::string> request_of_running_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> requests_in_flight_ ABSL_GUARDED_BY(mu_);
  int64_t asks_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_reserved_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::weak_ptr<WatchQueue>> watchers_ ABSL_GUARDED_BY(mu_);
  Storage::Ticket last_ticket_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_STUDY_H_
