#include "server/core/study_manager.h"

#include <spdlog/spdlog.h>

#include "server/core/limits.h"
#include "common/client_text.h"

namespace parzen {
namespace {

// A name no study can have is the caller's mistake, not a missing study,
// and is not echoed back at any length.
absl::Status CheckLookupName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("study name must not be empty");
  if (name.size() > kMaxStudyNameLength) {
    return absl::InvalidArgumentError("study name is " + std::to_string(name.size()) +
                                      " bytes; the limit is " +
                                      std::to_string(kMaxStudyNameLength));
  }
  return absl::OkStatus();
}

}  // namespace

StudyManager::StudyManager(std::unique_ptr<Storage> storage, const Clock* clock,
                           Algorithms algorithms, Options options)
    : storage_(std::move(storage)),
      clock_(clock),
      algorithms_(std::move(algorithms)),
      executor_(std::make_unique<Executor>(options.sampler_threads, options.sampler_queue)) {}

StudyManager::~StudyManager() { executor_.reset(); }

absl::StatusOr<std::unique_ptr<StudyManager>> StudyManager::Open(std::unique_ptr<Storage> storage,
                                                                 const Clock* clock,
                                                                 Algorithms algorithms,
                                                                 Options options) {
  PARZEN_ASSIGN_OR_RETURN(LoadedDatabase db, storage->LoadAll());
  std::unique_ptr<StudyManager> manager(
      new StudyManager(std::move(storage), clock, std::move(algorithms), options));
  absl::MutexLock lock(&manager->mu_);
  manager->next_study_id_ = db.max_study_id + 1;
  int64_t n_trials = 0;
  for (LoadedStudy& ls : db.studies) {
    n_trials += static_cast<int64_t>(ls.trials.size());
    StudyConfig config;
    config.name = ls.record.name;
    config.directions = ls.record.directions;
    PARZEN_RETURN_IF_ERROR(DecodeStudySettings(ls.record.config_json,
                                               manager->algorithms_.samplers,
                                               manager->algorithms_.pruners, &config));
    PARZEN_ASSIGN_OR_RETURN(
        auto study, manager->MakeStudy(std::move(ls.record), std::move(config), std::move(ls.trials)));
    manager->by_name_[study->name()] = study;
    manager->by_id_[study->id()] = study;
  }
  spdlog::info("loaded {} studies with {} trials", db.studies.size(), n_trials);
  return manager;
}

absl::StatusOr<std::shared_ptr<Study>> StudyManager::MakeStudy(StudyRecord record,
                                                               StudyConfig config,
                                                               std::vector<FrozenTrial> trials) {
  PARZEN_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler,
                          algorithms_.samplers.Make(config.sampler));
  PARZEN_ASSIGN_OR_RETURN(std::unique_ptr<Pruner> pruner, algorithms_.pruners.Make(config.pruner));
  return std::make_shared<Study>(std::move(record), std::move(config), std::move(sampler),
                                 std::move(pruner), storage_.get(), clock_, std::move(trials));
}

void StudyManager::OnDurable(Storage::Ticket ticket, std::function<void(absl::Status)> done) {
  if (ticket == 0) {
    done(absl::OkStatus());
    return;
  }
  storage_->OnDurable(ticket, std::move(done));
}

absl::StatusOr<std::shared_ptr<Study>> StudyManager::FindStudy(const std::string& name) const {
  PARZEN_RETURN_IF_ERROR(CheckLookupName(name));
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return absl::NotFoundError("study '" + name + "' does not exist");
  return it->second;
}

absl::StatusOr<std::pair<std::shared_ptr<Study>, int64_t>> StudyManager::FindTrial(
    TrialId trial) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = trial >= 0 ? by_id_.find(StudyOfTrial(trial)) : by_id_.end();
  if (it == by_id_.end()) {
    return absl::NotFoundError("trial id " + std::to_string(trial) + " does not exist");
  }
  return std::pair{it->second, NumberOfTrial(trial)};
}

std::vector<std::shared_ptr<Study>> StudyManager::Studies(const std::string& after,
                                                          int64_t limit) const {
  std::vector<std::shared_ptr<Study>> out;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = by_name_.upper_bound(after);
       it != by_name_.end() && static_cast<int64_t>(out.size()) < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::shared_ptr<Study>> StudyManager::AllStudies() const {
  std::vector<std::shared_ptr<Study>> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, study] : by_id_) out.push_back(study);
  return out;
}

absl::StatusOr<Written<StudySnapshot>> StudyManager::CreateStudy(StudyConfig config,
                                                                 CreateMode mode, bool* created) {
  *created = false;
  PARZEN_RETURN_IF_ERROR(ValidateStudyConfig(config));
  std::shared_ptr<Study> study;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = by_name_.find(config.name); it != by_name_.end()) {
      if (mode == CreateMode::kCreate) {
        return absl::AlreadyExistsError("study '" + config.name +
                                        "' already exists (set load_if_exists to reuse it)");
      }
      study = it->second;
    } else if (mode == CreateMode::kLoadOnly) {
      return absl::NotFoundError("study '" + config.name + "' does not exist");
    } else {
      if (next_study_id_ >= kMaxStudyId) {
        return absl::ResourceExhaustedError("this database has used all " +
                                            std::to_string(kMaxStudyId - 1) + " study ids");
      }
      StudyRecord record;
      record.study_id = next_study_id_;
      record.name = config.name;
      record.directions = config.directions;
      record.config_json = EncodeStudySettings(config);
      record.user_attrs = std::move(config.user_attrs);
      record.create_time_us = clock_->NowMicros();
      PARZEN_ASSIGN_OR_RETURN(study, MakeStudy(record, std::move(config), {}));
      ++next_study_id_;
      by_name_[record.name] = study;
      by_id_[record.study_id] = study;
      // Under our lock: a study's creation is submitted before anything
      // else can find it.
      absl::MutexLock study_lock(&study->mu());
      study->NoteCreated(storage_->Submit(mutation::PutStudy{record}));
      *created = true;
    }
  }
  if (*created) spdlog::info("study '{}' created (id {})", EscapeForLog(study->name()),
                              study->id());
  absl::MutexLock lock(&study->mu());
  // A study found by load_if_exists may still be committing its creation.
  return Written<StudySnapshot>{study->Summarize(false), study->last_ticket()};
}

absl::StatusOr<Written<bool>> StudyManager::DeleteStudy(const std::string& name) {
  PARZEN_RETURN_IF_ERROR(CheckLookupName(name));
  Storage::Ticket ticket;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return absl::NotFoundError("study '" + name + "' does not exist");
    {
      absl::MutexLock study_lock(&it->second->mu());
      ticket = it->second->MarkDeleted();
    }
    by_id_.erase(it->second->id());
    by_name_.erase(it);
  }
  spdlog::info("study '{}' deleted", EscapeForLog(name));
  return Written<bool>{true, ticket};
}

}  // namespace parzen
