// Storage: the durable log behind the in-memory study state. The core
// decides every change in memory and hands storage a Mutation to make
// durable; storage never decides anything and is read only at start-up.
#ifndef PARZEN_SERVER_STORAGE_STORAGE_H_
#define PARZEN_SERVER_STORAGE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/frozen_trial.h"
#include "common/types.h"

namespace parzen {

// A study's configuration as stored. `config_json` is the sampler, pruner
// and lifecycle settings, encoded and decoded by the core.
struct StudyRecord {
  StudyId study_id = 0;
  std::string name;
  std::vector<Direction> directions;
  std::string config_json;
  std::map<std::string, std::string> user_attrs;  // key -> JSON text
  int64_t create_time_us = 0;
};

namespace mutation {
struct PutStudy {
  StudyRecord study;
};
struct DeleteStudy {
  StudyId study_id;
};
// A new trial with everything it has so far (params, attrs, fixed params,
// intermediate values).
struct InsertTrial {
  FrozenTrial trial;
};
// State, values, times, reason and worker of an existing trial.
struct UpdateTrial {
  FrozenTrial trial;
};
struct InsertParam {
  TrialId trial_id;
  TrialParam param;
};
struct InsertIntermediate {
  TrialId trial_id;
  int64_t step;
  double value;
};
// One attribute of a study, added or replaced.
struct SetStudyUserAttr {
  StudyId study_id;
  std::string key;
  std::string value_json;
};
struct SetTrialUserAttr {
  TrialId trial_id;
  std::string key;
  std::string value_json;
};
// One attribute a sampler or pruner recorded on a trial, added or replaced.
struct SetTrialSystemAttr {
  TrialId trial_id;
  std::string key;
  std::string value_json;
};
}  // namespace mutation

using Mutation = std::variant<mutation::PutStudy, mutation::DeleteStudy, mutation::InsertTrial,
                              mutation::UpdateTrial, mutation::InsertParam,
                              mutation::InsertIntermediate, mutation::SetStudyUserAttr,
                              mutation::SetTrialUserAttr, mutation::SetTrialSystemAttr>;

struct LoadedStudy {
  StudyRecord record;
  std::vector<FrozenTrial> trials;  // in number order
};

struct LoadedDatabase {
  std::vector<LoadedStudy> studies;
  // The largest study id ever stored, deleted studies included, so ids (and
  // the trial ids built from them) are never reused.
  StudyId max_study_id = 0;
};

// Contract: Submit is cheap and never blocks on I/O; mutations become
// durable in submission order (if ticket t is durable, so is every earlier
// ticket), typically many per transaction. WaitDurable(t) returns OK once
// t is committed, or the error that stopped the commit; after a failed
// commit every later ticket fails too (memory and disk may disagree, so
// the server must restart and reload). Thread-safe.
class Storage {
 public:
  using Ticket = uint64_t;
  virtual ~Storage() = default;

  // Every study with all its trials. Called once, before any Submit.
  virtual absl::StatusOr<LoadedDatabase> LoadAll() = 0;
  // `on_failure` runs once, on the committing thread, when a commit fails;
  // after it every write fails, so the server should stop and restart.
  virtual void SetFailureHandler(std::function<void(const absl::Status&)> on_failure) = 0;
  virtual Ticket Submit(Mutation m) = 0;
  // The last ticket Submit handed out (0 before any). Once it is durable,
  // so is every change submitted before this call: what a read saw.
  virtual Ticket LastSubmitted() const = 0;
  virtual absl::Status WaitDurable(Ticket ticket) = 0;
  // Runs `done` once `ticket` is durable (or failed): at once on the
  // calling thread if it already is, else on the committing thread right
  // after the commit, so `done` must be quick and must not block.
  virtual void OnDurable(Ticket ticket, std::function<void(absl::Status)> done) = 0;
  // Writes a consistent copy of the database to `path` (an empty file, or
  // none), holding at least every change submitted before the call, and
  // syncs it; then runs `done` on the committing thread, so `done` must be
  // quick. Commits go on while the copy is written. One backup at a time:
  // while one is under way another is refused with UNAVAILABLE, its `done`
  // run at once on the calling thread. A failed backup leaves the database
  // and later commits unaffected.
  virtual void Backup(const std::string& path, std::function<void(absl::Status)> done) = 0;
  // For shutdown: a backup under way ends with UNAVAILABLE instead of
  // holding the server up for the rest of the copy; later ones are refused.
  virtual void StopBackups() = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_STORAGE_STORAGE_H_
