// StudyManager: every study of the server, found by name or by trial id,
// and what the use cases share (storage, clock, algorithms, the sampling
// executor). It creates and deletes studies; everything else a study does
// is a use case in server/core/ops/ over the Study it finds.
#ifndef PARZEN_SERVER_CORE_STUDY_MANAGER_H_
#define PARZEN_SERVER_CORE_STUDY_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/core/algorithms.h"
#include "server/core/executor.h"
#include "server/core/study.h"
#include "server/core/study_config.h"
#include "server/core/written.h"
#include "server/storage/storage.h"

namespace parzen {

struct StudyManagerOptions {
  // Threads that run samplers, off the studies' locks and gRPC's threads.
  size_t sampler_threads = 2;
  // Asks and Suggests that may wait for one (more: UNAVAILABLE).
  size_t sampler_queue = 4096;
};

// Thread-safe. Errors: InvalidArgument for a name no study can have,
// NotFound for unknown studies and trials.
class StudyManager {
 public:
  using Options = StudyManagerOptions;

  // Loads every study from `storage`. `clock` must outlive the manager.
  static absl::StatusOr<std::unique_ptr<StudyManager>> Open(std::unique_ptr<Storage> storage,
                                                            const Clock* clock,
                                                            Algorithms algorithms = {},
                                                            Options options = {});
  // Finishes the samplers' queue, then commits what storage holds.
  ~StudyManager();

  // ---- Lookup.
  absl::StatusOr<std::shared_ptr<Study>> FindStudy(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The study of a trial id, with the trial's number in it.
  absl::StatusOr<std::pair<std::shared_ptr<Study>, int64_t>> FindTrial(TrialId trial) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // fn(Study&) on the named study, or the lookup's error.
  template <typename Fn>
  auto WithStudy(const std::string& name, Fn&& fn) const -> decltype(fn(std::declval<Study&>())) {
    absl::StatusOr<std::shared_ptr<Study>> study = FindStudy(name);
    if (!study.ok()) return study.status();
    return fn(**study);
  }
  // fn(Study&, number) on the trial's study, or the lookup's error.
  template <typename Fn>
  auto WithTrial(TrialId trial, Fn&& fn) const
      -> decltype(fn(std::declval<Study&>(), int64_t{})) {
    auto found = FindTrial(trial);
    if (!found.ok()) return found.status();
    return fn(*found->first, found->second);
  }
  // Studies in name order, starting after `after`; at most `limit`.
  std::vector<std::shared_ptr<Study>> Studies(const std::string& after, int64_t limit) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::shared_ptr<Study>> AllStudies() const ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Lifecycle.

  // What CreateStudy does with a name that is taken, or free.
  enum class CreateMode {
    kCreate,         // taken: AlreadyExists
    kCreateOrLoad,   // taken: that study (Optuna's load_if_exists)
    kLoadOnly,       // taken: that study; free: NotFound, nothing created
  };
  // `config`'s sampler and pruner resolved by algorithms(); `*created`
  // tells whether a study was made. ResourceExhausted when the database
  // has used every study id.
  absl::StatusOr<Written<StudySnapshot>> CreateStudy(StudyConfig config, CreateMode mode,
                                                     bool* created) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Written<bool>> DeleteStudy(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- What the use cases share.
  const Algorithms& algorithms() const { return algorithms_; }
  Executor& executor() { return *executor_; }
  const Clock& clock() const { return *clock_; }

  // Reads (GetStudy, ListTrials, ...) see every change made in memory,
  // durable or not. Taken after a read and awaited before its result is
  // shown, this ticket makes sure nothing shown can be lost in a crash.
  Storage::Ticket ReadTicket() const { return storage_->LastSubmitted(); }
  // See Storage::OnDurable and Storage::WaitDurable. Ticket 0 is durable.
  void OnDurable(Storage::Ticket ticket, std::function<void(absl::Status)> done);
  absl::Status WaitDurable(Storage::Ticket ticket) {
    return ticket == 0 ? absl::OkStatus() : storage_->WaitDurable(ticket);
  }
  // See Storage::SetFailureHandler, Backup and StopBackups.
  void SetStorageFailureHandler(std::function<void(const absl::Status&)> on_failure) {
    storage_->SetFailureHandler(std::move(on_failure));
  }
  void Backup(const std::string& path, std::function<void(absl::Status)> done) {
    storage_->Backup(path, std::move(done));
  }
  void StopBackups() { storage_->StopBackups(); }

 private:
  StudyManager(std::unique_ptr<Storage> storage, const Clock* clock, Algorithms algorithms,
               Options options);
  absl::StatusOr<std::shared_ptr<Study>> MakeStudy(StudyRecord record, StudyConfig config,
                                                   std::vector<FrozenTrial> trials);

  const std::unique_ptr<Storage> storage_;
  const Clock* const clock_;
  const Algorithms algorithms_;
  // Destroyed before storage: queued samples still commit their trials.
  std::unique_ptr<Executor> executor_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Study>> by_name_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<StudyId, std::shared_ptr<Study>> by_id_ ABSL_GUARDED_BY(mu_);
  StudyId next_study_id_ ABSL_GUARDED_BY(mu_) = 1;
};

// Blocks until `written` is durable and returns its value: for tests and
// tools, never for RPC handlers.
template <typename T>
absl::StatusOr<T> AwaitDurable(StudyManager& manager, absl::StatusOr<Written<T>> written) {
  if (!written.ok()) return written.status();
  PARZEN_RETURN_IF_ERROR(manager.WaitDurable(written->ticket));
  return std::move(written->value);
}

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_STUDY_MANAGER_H_
