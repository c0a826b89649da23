#include "client/study.h"

#include <utility>

#include "common/grpc_status.h"
#include "common/proto_convert.h"
#include "client/client.h"

namespace parzen::client {

using Stub = v1::StudyService::StubInterface;

Study::Study(Client* client, const v1::Study& study, bool created)
    : client_(client),
      name_(study.name()),
      heartbeat_grace_seconds_(study.heartbeat_grace_seconds()),
      max_trials_(study.max_trials()),
      max_retries_(study.max_retries()),
      sampler_(study.sampler()),
      pruner_(study.pruner()),
      created_(created) {
  for (int d : study.directions()) {
    directions_.push_back(FromProto(static_cast<v1::Direction>(d)).value_or(Direction::kMinimize));
  }
}

absl::StatusOr<Trial> Study::Ask(const SearchSpace& search_space) {
  v1::AskRequest request;
  request.set_study(name_);
  request.set_worker_id(client_->worker_id());
  for (const SearchSpaceEntry& entry : search_space) ToProto(entry, request.add_search_space());
  // Every attempt carries the same request id, so the server answers a
  // retry with the trial the lost reply held: no orphan RUNNING trial.
  request.set_request_id(client_->NewRequestId());
  v1::AskResponse response;
  PARZEN_RETURN_IF_ERROR(
      client_->Call("Ask", Idempotency::kIdempotent, &Stub::Ask, request, &response));
  absl::StatusOr<FrozenTrial> trial = FromProto(response.trial());
  if (!trial.ok()) {
    // The server started a trial this client cannot read (a newer server's
    // state or distribution): fail it rather than leave it RUNNING with
    // nobody working on it.
    const std::string why =
        "the server's reply to Ask could not be read (" + std::string(trial.status().message()) +
        "); is the server newer than this client?";
    v1::TellRequest fail;
    fail.set_trial_id(response.trial().trial_id());
    fail.set_state(v1::FAIL);
    fail.set_fail_reason(why);
    v1::TellResponse failed;
    const absl::Status told =
        client_->Call("Tell", Idempotency::kIdempotent, &Stub::Tell, fail, &failed);
    return absl::InternalError(why + (told.ok() ? "; the trial was told FAIL"
                                                : "; telling the trial FAIL failed too: " +
                                                      std::string(told.message())));
  }
  auto lease = client_->StartHeartbeats(trial->trial_id, heartbeat_grace_seconds_);
  return Trial(client_, *std::move(trial), std::move(lease));
}

absl::StatusOr<TellResult> Study::Tell(Trial& trial, double value) {
  return TellState(trial, TrialState::kComplete, {value}, "");
}

absl::StatusOr<TellResult> Study::Tell(Trial& trial, const std::vector<double>& values) {
  return TellState(trial, TrialState::kComplete, values, "");
}

absl::StatusOr<TellResult> Study::TellPruned(Trial& trial) {
  // The server stores the last intermediate value as the value, as Optuna.
  return TellState(trial, TrialState::kPruned, {}, "");
}

absl::StatusOr<TellResult> Study::TellFail(Trial& trial, const std::string& reason,
                                           const CallLimits& limits) {
  return TellState(trial, TrialState::kFail, {}, reason, limits);
}

absl::StatusOr<TellResult> Study::TellState(Trial& trial, TrialState state,
                                            const std::vector<double>& values,
                                            const std::string& fail_reason,
                                            const CallLimits& limits) {
  v1::TellRequest request;
  request.set_trial_id(trial.id());
  request.set_state(ToProto(state));
  for (double v : values) request.add_values(v);
  request.set_fail_reason(fail_reason);
  v1::TellResponse response;
  if (trial.lease_) trial.lease_->SetTelling(true);
  // Safe to repeat after a lost reply: the server accepts an identical Tell.
  const absl::Status told =
      client_->Call("Tell", Idempotency::kIdempotent, &Stub::Tell, request, &response, limits);
  if (!told.ok()) {
    if (trial.lease_) trial.lease_->SetTelling(false);
    return told;
  }
  trial.Finish();
  PARZEN_ASSIGN_OR_RETURN(trial.trial_, FromProto(response.trial()));
  return TellResult{trial.trial_.state, response.message()};
}

absl::StatusOr<int64_t> Study::Enqueue(const std::map<std::string, ParamValue>& params) {
  v1::EnqueueTrialRequest request;
  request.set_study(name_);
  for (const auto& [name, value] : params) (*request.mutable_params())[name] = ToProto(value);
  v1::EnqueueTrialResponse response;
  PARZEN_RETURN_IF_ERROR(client_->Call("EnqueueTrial", Idempotency::kNever, &Stub::EnqueueTrial,
                                       request, &response));
  return response.trial().number();
}

absl::StatusOr<v1::GetStudyResponse> Study::Get(bool with_best_trials) {
  v1::GetStudyRequest request;
  request.set_name(name_);
  request.set_omit_best_trials(!with_best_trials);
  v1::GetStudyResponse response;
  PARZEN_RETURN_IF_ERROR(
      client_->Call("GetStudy", Idempotency::kIdempotent, &Stub::GetStudy, request, &response));
  return response;
}

absl::StatusOr<std::optional<FrozenTrial>> Study::BestTrial() {
  if (directions_.size() > 1) {
    // As Optuna's study.best_trial: no one trial is best of several objectives.
    return absl::FailedPreconditionError(
        "study '" + name_ + "' has " + std::to_string(directions_.size()) +
        " objectives, so no single trial is best; use BestTrials() for the Pareto front");
  }
  PARZEN_ASSIGN_OR_RETURN(v1::GetStudyResponse response, Get());
  if (!response.summary().has_best_trial()) return std::optional<FrozenTrial>();
  PARZEN_ASSIGN_OR_RETURN(FrozenTrial best, FromProto(response.summary().best_trial()));
  return std::optional<FrozenTrial>(std::move(best));
}

absl::Status Study::SetUserAttr(const std::string& key, const ParamValue& value) {
  return SetUserAttrValue(key, ToAttrValue(value));
}

absl::Status Study::SetUserAttrJson(const std::string& key, const std::string& json) {
  absl::StatusOr<google::protobuf::Value> value = JsonToValue(json);
  // The caller's text, not a stored value gone bad (JsonToValue's DATA_LOSS).
  if (!value.ok()) {
    return absl::InvalidArgumentError("user attribute '" + key + "' is not JSON: " + json);
  }
  return SetUserAttrValue(key, *std::move(value));
}

absl::Status Study::SetUserAttrValue(const std::string& key, google::protobuf::Value value) {
  v1::SetStudyUserAttrRequest request;
  request.set_study(name_);
  request.set_key(key);
  *request.mutable_value() = std::move(value);
  v1::SetStudyUserAttrResponse response;
  // Setting the same value twice is harmless: safe to retry.
  return client_->Call("SetStudyUserAttr", Idempotency::kIdempotent, &Stub::SetStudyUserAttr,
                       request, &response);
}

absl::StatusOr<std::map<std::string, std::string>> Study::UserAttrs() {
  PARZEN_ASSIGN_OR_RETURN(v1::GetStudyResponse response, Get());
  return UserAttrsFromProto(response.study().user_attrs());
}

absl::StatusOr<std::vector<FrozenTrial>> Study::BestTrials() {
  PARZEN_ASSIGN_OR_RETURN(v1::GetStudyResponse response, Get(/*with_best_trials=*/true));
  std::vector<FrozenTrial> out;
  for (const v1::Trial& t : response.summary().best_trials()) {
    PARZEN_ASSIGN_OR_RETURN(FrozenTrial trial, FromProto(t));
    out.push_back(std::move(trial));
  }
  return out;
}

absl::StatusOr<StudyCounts> Study::Counts() {
  PARZEN_ASSIGN_OR_RETURN(v1::GetStudyResponse response, Get());
  const v1::StudySummary& s = response.summary();
  return StudyCounts{s.n_trials(),  s.n_running(), s.n_waiting(),
                     s.n_complete(), s.n_pruned(),  s.n_fail()};
}

absl::StatusOr<std::vector<FrozenTrial>> Study::Trials(const std::vector<TrialState>& states) {
  v1::ListTrialsRequest request;
  request.set_study(name_);
  request.set_page_size(1000);
  for (TrialState s : states) request.add_states(ToProto(s));
  std::vector<FrozenTrial> trials;
  do {
    v1::ListTrialsResponse response;
    PARZEN_RETURN_IF_ERROR(client_->Call("ListTrials", Idempotency::kIdempotent,
                                         &Stub::ListTrials, request, &response));
    for (const v1::Trial& t : response.trials()) {
      PARZEN_ASSIGN_OR_RETURN(FrozenTrial trial, FromProto(t));
      trials.push_back(std::move(trial));
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return trials;
}

void WatchCancel::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_) context_->TryCancel();
}

absl::Status Study::Watch(const std::function<bool(const TrialChange&)>& on_change,
                          WatchCancel* cancel) {
  grpc::ClientContext context;
  if (cancel) {
    absl::MutexLock lock(&cancel->mu_);
    if (cancel->cancelled_) return absl::OkStatus();
    cancel->context_ = &context;
  }
  // Unregistered before `context` goes.
  struct Unregister {
    WatchCancel* cancel;
    ~Unregister() {
      if (!cancel) return;
      absl::MutexLock lock(&cancel->mu_);
      cancel->context_ = nullptr;
    }
  } unregister{cancel};
  v1::WatchStudyRequest request;
  request.set_study(name_);
  auto reader = client_->OpenWatch(&context, request);
  v1::WatchStudyResponse response;
  while (reader->Read(&response)) {
    absl::StatusOr<FrozenTrial> trial = FromProto(response.trial());
    bool more = trial.ok();
    if (more) more = on_change(TrialChange{*std::move(trial), response.snapshot()});
    if (!more) {
      context.TryCancel();
      while (reader->Read(&response)) {
      }
      reader->Finish();
      if (!trial.ok()) return trial.status();
      return absl::OkStatus();
    }
  }
  const absl::Status status = FromGrpcStatus(reader->Finish());
  if (status.ok()) return status;
  if (cancel) {
    absl::MutexLock lock(&cancel->mu_);
    if (cancel->cancelled_) return absl::OkStatus();
  }
  return absl::Status(status.code(), "WatchStudy: " + std::string(status.message()));
}

}  // namespace parzen::client
