#include "server/core/study_manager.h"

#include <mutex>
#include <random>

#include <spdlog/spdlog.h>

namespace parzen {

absl::StatusOr<std::unique_ptr<StudyManager>> StudyManager::Open(
    std::unique_ptr<Storage> storage, const Clock* clock) {
  PARZEN_ASSIGN_OR_RETURN(LoadedDatabase db, storage->LoadAll());
  std::unique_ptr<StudyManager> manager(new StudyManager(std::move(storage), clock));
  manager->next_study_id_ = db.max_study_id + 1;
  std::vector<LoadedStudy>& loaded = db.studies;
  int64_t n_trials = 0;
  for (LoadedStudy& ls : loaded) {
    n_trials += static_cast<int64_t>(ls.trials.size());
    PARZEN_ASSIGN_OR_RETURN(auto state,
                            manager->MakeState(std::move(ls.record), std::move(ls.trials)));
    manager->by_name_[state->name()] = state;
    manager->by_id_[state->id()] = state;
  }
  spdlog::info("loaded {} studies with {} trials", loaded.size(), n_trials);
  return manager;
}

absl::StatusOr<std::shared_ptr<StudyState>> StudyManager::MakeState(
    StudyRecord record, std::vector<FrozenTrial> trials) {
  StudyConfig config;
  config.name = record.name;
  config.directions = record.directions;
  PARZEN_RETURN_IF_ERROR(DecodeStudySettings(record.config_json, &config));
  PARZEN_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler, MakeSampler(config.sampler));
  PARZEN_ASSIGN_OR_RETURN(std::unique_ptr<Pruner> pruner, MakePruner(config.pruner));
  return std::make_shared<StudyState>(std::move(record), std::move(config), std::move(sampler),
                                      std::move(pruner), storage_.get(), clock_,
                                      std::move(trials));
}

void StudyManager::OnDurable(Storage::Ticket ticket, std::function<void(absl::Status)> done) {
  if (ticket == 0) {
    done(absl::OkStatus());
    return;
  }
  storage_->OnDurable(ticket, std::move(done));
}

absl::StatusOr<Written<StudySnapshot>> StudyManager::CreateStudy(StudyConfig config,
                                                                 bool load_if_exists,
                                                                 bool* created) {
  *created = false;
  PARZEN_RETURN_IF_ERROR(ValidateStudyConfig(config));
  std::shared_ptr<StudyState> state;
  Storage::Ticket ticket;
  {
    std::unique_lock lock(mu_);
    if (auto it = by_name_.find(config.name); it != by_name_.end()) {
      if (!load_if_exists) {
        return absl::AlreadyExistsError("study '" + config.name +
                                        "' already exists (set load_if_exists to reuse it)");
      }
      std::shared_ptr<StudyState> existing = it->second;
      lock.unlock();
      // Its creation may still be committing.
      return Written<StudySnapshot>{existing->Snapshot(), existing->last_ticket()};
    }
    if (next_study_id_ >= kMaxStudyId) {
      return absl::ResourceExhaustedError("this database has used all " +
                                          std::to_string(kMaxStudyId - 1) + " study ids");
    }
    if (!config.sampler.seed) config.sampler.seed = std::random_device{}();
    StudyRecord record;
    record.study_id = next_study_id_;
    record.name = config.name;
    record.directions = config.directions;
    record.config_json = EncodeStudySettings(config);
    record.user_attrs = std::move(config.user_attrs);
    record.create_time_us = clock_->NowMicros();
    PARZEN_ASSIGN_OR_RETURN(state, MakeState(record, {}));
    ++next_study_id_;
    by_name_[record.name] = state;
    by_id_[record.study_id] = state;
    ticket = storage_->Submit(mutation::PutStudy{record});
    state->NoteCreated(ticket);
  }
  *created = true;
  spdlog::info("study '{}' created (id {})", state->name(), state->id());
  return Written<StudySnapshot>{state->Snapshot(), ticket};
}

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

absl::StatusOr<std::shared_ptr<StudyState>> StudyManager::FindStudy(const std::string& name) const {
  PARZEN_RETURN_IF_ERROR(CheckLookupName(name));
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return absl::NotFoundError("study '" + name + "' does not exist");
  return it->second;
}

absl::StatusOr<std::shared_ptr<StudyState>> StudyManager::FindStudyOfTrial(TrialId trial) const {
  std::shared_lock lock(mu_);
  auto it = trial >= 0 ? by_id_.find(StudyOfTrial(trial)) : by_id_.end();
  if (it == by_id_.end()) {
    return absl::NotFoundError("trial id " + std::to_string(trial) + " does not exist");
  }
  return it->second;
}

absl::StatusOr<std::string> StudyManager::StudyNameOfTrial(TrialId trial) const {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->name();
}

absl::StatusOr<StudySnapshot> StudyManager::GetStudy(const std::string& name,
                                                    bool with_best_trials) const {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(name));
  return state->Snapshot(with_best_trials);
}

std::vector<StudySnapshot> StudyManager::ListStudies(const std::string& after,
                                                     int64_t limit) const {
  std::vector<std::shared_ptr<StudyState>> states;
  {
    std::shared_lock lock(mu_);
    for (auto it = by_name_.upper_bound(after);
         it != by_name_.end() && static_cast<int64_t>(states.size()) < limit; ++it) {
      states.push_back(it->second);
    }
  }
  std::vector<StudySnapshot> out;
  for (const auto& s : states) out.push_back(s->Snapshot());
  return out;
}

absl::StatusOr<Written<bool>> StudyManager::DeleteStudy(const std::string& name) {
  PARZEN_RETURN_IF_ERROR(CheckLookupName(name));
  Storage::Ticket ticket;
  {
    std::unique_lock lock(mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return absl::NotFoundError("study '" + name + "' does not exist");
    ticket = it->second->MarkDeleted();
    by_id_.erase(it->second->id());
    by_name_.erase(it);
  }
  spdlog::info("study '{}' deleted", name);
  return Written<bool>{true, ticket};
}

absl::StatusOr<Written<FrozenTrial>> StudyManager::Ask(const std::string& study,
                                                       const SearchSpace& space,
                                                       const std::string& worker_id,
                                                       const std::string& request_id) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(study));
  return state->Ask(space, worker_id, request_id);
}

absl::StatusOr<Written<TrialParam>> StudyManager::Suggest(TrialId trial, const std::string& name,
                                                 const Distribution& distribution) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->Suggest(NumberOfTrial(trial), name, distribution);
}

absl::StatusOr<Written<ReportOutcome>> StudyManager::Report(TrialId trial, int64_t step, double value) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->Report(NumberOfTrial(trial), step, value);
}

absl::StatusOr<Written<TellOutcome>> StudyManager::Tell(TrialId trial, TrialState s,
                                               const std::vector<double>& values,
                                               const std::string& fail_reason) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->Tell(NumberOfTrial(trial), s, values, fail_reason);
}

absl::Status StudyManager::Heartbeat(TrialId trial, const std::string& worker_id) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->Heartbeat(NumberOfTrial(trial), worker_id);
}

absl::StatusOr<Written<FrozenTrial>> StudyManager::Enqueue(
    const std::string& study, const std::map<std::string, ParamValue>& params,
    const std::map<std::string, std::string>& user_attrs) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(study));
  return state->Enqueue(params, user_attrs);
}

absl::StatusOr<Written<bool>> StudyManager::SetTrialUserAttr(TrialId trial, const std::string& key,
                                            const std::string& value_json) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->SetTrialUserAttr(NumberOfTrial(trial), key, value_json);
}

absl::StatusOr<Written<bool>> StudyManager::SetStudyUserAttr(const std::string& study,
                                                             const std::string& key,
                                                             const std::string& value_json) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(study));
  return state->SetUserAttr(key, value_json);
}

absl::StatusOr<FrozenTrial> StudyManager::GetTrial(TrialId trial) const {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudyOfTrial(trial));
  return state->GetTrial(NumberOfTrial(trial));
}

absl::StatusOr<std::vector<FrozenTrial>> StudyManager::ListTrials(
    const std::string& study, const std::vector<TrialState>& states, int64_t from, int64_t limit,
    int64_t* next) const {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(study));
  return state->ListTrials(states, from, limit, next);
}

absl::Status StudyManager::Watch(const std::string& study,
                                 const std::shared_ptr<WatchQueue>& queue) {
  PARZEN_ASSIGN_OR_RETURN(auto state, FindStudy(study));
  state->Watch(queue);
  return absl::OkStatus();
}

void StudyManager::ReapExpired() {
  std::vector<std::shared_ptr<StudyState>> states;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, s] : by_id_) states.push_back(s);
  }
  for (const auto& s : states) {
    if (Storage::Ticket t = s->ReapExpired(); t != 0) {
      absl::Status st = storage_->WaitDurable(t);
      if (!st.ok()) spdlog::error("reaper: {}", st.ToString());
    }
  }
}

}  // namespace parzen
