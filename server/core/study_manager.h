// StudyManager: every study of the server, in memory, backed by Storage.
// The core's entry point: the gRPC service calls only this.
#ifndef PARZEN_SERVER_CORE_STUDY_MANAGER_H_
#define PARZEN_SERVER_CORE_STUDY_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "server/core/study_config.h"
#include "server/core/study_state.h"
#include "server/storage/storage.h"

namespace parzen {

// Thread-safe. Each write answers only after its change is durable (the
// storage ticket is awaited outside every lock, so concurrent writes share
// commits). Errors: NotFound for unknown studies or trials; the StudyState
// codes otherwise; Unavailable when storage cannot commit.
class StudyManager {
 public:
  // Loads every study from `storage`. `clock` must outlive the manager.
  static absl::StatusOr<std::unique_ptr<StudyManager>> Open(std::unique_ptr<Storage> storage,
                                                            const Clock* clock);

  // Writes do not wait: each returns its result with the storage ticket to
  // await (OnDurable / WaitDurable) before answering the client. The result
  // is final — the in-memory change is made — but not yet durable.

  // AlreadyExists for a taken name unless `load_if_exists`; `*created`
  // tells which happened.
  absl::StatusOr<Written<StudySnapshot>> CreateStudy(StudyConfig config, bool load_if_exists,
                                                     bool* created);
  // `with_best_trials`: also copy the Pareto front.
  absl::StatusOr<StudySnapshot> GetStudy(const std::string& name, bool with_best_trials) const;
  // Studies in name order, starting after `after`; at most `limit`.
  std::vector<StudySnapshot> ListStudies(const std::string& after, int64_t limit) const;
  absl::StatusOr<Written<bool>> DeleteStudy(const std::string& name);

  // See StudyState::Ask for `request_id`.
  absl::StatusOr<Written<FrozenTrial>> Ask(const std::string& study, const SearchSpace& space,
                                           const std::string& worker_id,
                                           const std::string& request_id = "");
  absl::StatusOr<Written<TrialParam>> Suggest(TrialId trial, const std::string& name,
                                              const Distribution& distribution);
  absl::StatusOr<Written<ReportOutcome>> Report(TrialId trial, int64_t step, double value);
  absl::StatusOr<Written<TellOutcome>> Tell(TrialId trial, TrialState state,
                                            const std::vector<double>& values,
                                            const std::string& fail_reason);
  absl::Status Heartbeat(TrialId trial, const std::string& worker_id);
  absl::StatusOr<Written<FrozenTrial>> Enqueue(const std::string& study,
                                               const std::map<std::string, ParamValue>& params,
                                               const std::map<std::string, std::string>& user_attrs);
  absl::StatusOr<Written<bool>> SetTrialUserAttr(TrialId trial, const std::string& key,
                                                 const std::string& value_json);
  absl::StatusOr<FrozenTrial> GetTrial(TrialId trial) const;
  absl::StatusOr<std::string> StudyNameOfTrial(TrialId trial) const;
  // See Storage::SetFailureHandler.
  void SetStorageFailureHandler(std::function<void(const absl::Status&)> on_failure) {
    storage_->SetFailureHandler(std::move(on_failure));
  }
  absl::StatusOr<std::vector<FrozenTrial>> ListTrials(const std::string& study,
                                                      const std::vector<TrialState>& states,
                                                      int64_t from, int64_t limit,
                                                      int64_t* next) const;
  absl::Status Watch(const std::string& study, const std::shared_ptr<WatchQueue>& queue);

  absl::StatusOr<Written<bool>> SetStudyUserAttr(const std::string& study, const std::string& key,
                                                 const std::string& value_json);

  // See Storage::Backup.
  void Backup(const std::string& path, std::function<void(absl::Status)> done) {
    storage_->Backup(path, std::move(done));
  }
  void StopBackups() { storage_->StopBackups(); }
  // Reads (GetStudy, ListStudies, GetTrial, ListTrials) see every change
  // made in memory, durable or not. Taken after a read and awaited before
  // its result is shown, this ticket makes sure nothing shown can be lost
  // in a crash (a reader never sees a write its writer was not told of).
  Storage::Ticket ReadTicket() const { return storage_->LastSubmitted(); }
  // See Storage::OnDurable and Storage::WaitDurable. Ticket 0 is durable.
  void OnDurable(Storage::Ticket ticket, std::function<void(absl::Status)> done);
  absl::Status WaitDurable(Storage::Ticket ticket) {
    return ticket == 0 ? absl::OkStatus() : storage_->WaitDurable(ticket);
  }

  // One pass of the heartbeat reaper over every study.
  void ReapExpired();

 private:
  StudyManager(std::unique_ptr<Storage> storage, const Clock* clock)
      : storage_(std::move(storage)), clock_(clock) {}
  absl::StatusOr<std::shared_ptr<StudyState>> MakeState(StudyRecord record,
                                                        std::vector<FrozenTrial> trials);
  absl::StatusOr<std::shared_ptr<StudyState>> FindStudy(const std::string& name) const;
  absl::StatusOr<std::shared_ptr<StudyState>> FindStudyOfTrial(TrialId trial) const;

  const std::unique_ptr<Storage> storage_;
  const Clock* const clock_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<StudyState>> by_name_;     // guarded by mu_
  std::unordered_map<StudyId, std::shared_ptr<StudyState>> by_id_;  // guarded by mu_
  StudyId next_study_id_ = 1;                                       // guarded by mu_
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
