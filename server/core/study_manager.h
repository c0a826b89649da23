// StudyManager: every study of the server, in memory, backed by Storage.
// The core's entry point: the gRPC service calls only this.
#ifndef PARZEN_SERVER_CORE_STUDY_MANAGER_H_
#define PARZEN_SERVER_CORE_STUDY_MANAGER_H_

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

  // AlreadyExists for a taken name unless `load_if_exists`; `*created`
  // tells which happened.
  absl::StatusOr<StudySnapshot> CreateStudy(StudyConfig config, bool load_if_exists,
                                            bool* created);
  absl::StatusOr<StudySnapshot> GetStudy(const std::string& name) const;
  // Studies in name order, starting after `after`; at most `limit`.
  std::vector<StudySnapshot> ListStudies(const std::string& after, int64_t limit) const;
  absl::Status DeleteStudy(const std::string& name);

  absl::StatusOr<FrozenTrial> Ask(const std::string& study, const SearchSpace& space,
                                  const std::string& worker_id);
  absl::StatusOr<TrialParam> Suggest(TrialId trial, const std::string& name,
                                     const Distribution& distribution);
  absl::StatusOr<ReportOutcome> Report(TrialId trial, int64_t step, double value);
  absl::StatusOr<TellOutcome> Tell(TrialId trial, TrialState state,
                                   const std::vector<double>& values,
                                   const std::string& fail_reason);
  absl::Status Heartbeat(TrialId trial, const std::string& worker_id);
  absl::StatusOr<FrozenTrial> Enqueue(const std::string& study,
                                      const std::map<std::string, ParamValue>& params,
                                      const std::map<std::string, std::string>& user_attrs);
  absl::Status SetTrialUserAttr(TrialId trial, const std::string& key,
                                const std::string& value_json);
  absl::StatusOr<FrozenTrial> GetTrial(TrialId trial) const;
  absl::StatusOr<std::vector<FrozenTrial>> ListTrials(const std::string& study,
                                                      const std::vector<TrialState>& states,
                                                      int64_t from, int64_t limit,
                                                      int64_t* next) const;
  absl::Status Watch(const std::string& study, const std::shared_ptr<WatchQueue>& queue);

  // Blocks until `ticket` is durable (for watch streams).
  absl::Status WaitDurable(Storage::Ticket ticket) { return storage_->WaitDurable(ticket); }

  // One pass of the heartbeat reaper over every study.
  void ReapExpired();

 private:
  StudyManager(std::unique_ptr<Storage> storage, const Clock* clock)
      : storage_(std::move(storage)), clock_(clock) {}
  absl::StatusOr<std::shared_ptr<StudyState>> MakeState(StudyRecord record,
                                                        std::vector<FrozenTrial> trials);
  absl::StatusOr<std::shared_ptr<StudyState>> FindStudy(const std::string& name) const;
  absl::StatusOr<std::shared_ptr<StudyState>> FindStudyOfTrial(TrialId trial) const;
  template <typename T>
  absl::StatusOr<T> Durable(absl::StatusOr<Written<T>> written);

  const std::unique_ptr<Storage> storage_;
  const Clock* const clock_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<StudyState>> by_name_;     // guarded by mu_
  std::unordered_map<StudyId, std::shared_ptr<StudyState>> by_id_;  // guarded by mu_
  StudyId next_study_id_ = 1;                                       // guarded by mu_
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_STUDY_MANAGER_H_
