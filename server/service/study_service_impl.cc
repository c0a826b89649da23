#include "server/service/study_service_impl.h"

#include <charconv>
#include <cmath>

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include "common/grpc_status.h"
#include "common/proto_convert.h"

namespace parzen {
namespace {

constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 1000;
constexpr size_t kMaxWorkerIdLength = 256;
constexpr size_t kWatchQueueCapacity = 10000;

// Logs failures once, here at the boundary, and converts them.
grpc::Status Reply(const char* method, const absl::Status& s) {
  if (!s.ok()) {
    const bool expected = s.code() == absl::StatusCode::kOutOfRange;
    if (expected) {
      spdlog::debug("{}: {}", method, std::string(s.message()));
    } else if (s.code() == absl::StatusCode::kInternal ||
               s.code() == absl::StatusCode::kDataLoss ||
               s.code() == absl::StatusCode::kUnavailable) {
      spdlog::error("{}: {}", method, s.ToString());
    } else {
      spdlog::info("{} rejected: {}", method, s.ToString());
    }
  }
  return ToGrpcStatus(s);
}

absl::StatusOr<int64_t> PageSize(int32_t requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size must be >= 0");
  return requested == 0 ? kDefaultPageSize : std::min<int64_t>(requested, kMaxPageSize);
}

absl::Status CheckWorkerId(const std::string& id) {
  if (id.size() > kMaxWorkerIdLength) {
    return absl::InvalidArgumentError("worker_id is longer than 256 bytes");
  }
  return absl::OkStatus();
}

absl::StatusOr<PercentilePrunerOptions> PercentileOptions(
    double percentile, bool has_startup, int64_t startup, bool has_warmup, int64_t warmup,
    bool has_interval, int64_t interval, bool has_min, int64_t min_trials) {
  PercentilePrunerOptions o;
  o.percentile = percentile;
  if (has_startup) o.n_startup_trials = startup;
  if (has_warmup) o.n_warmup_steps = warmup;
  if (has_interval) o.interval_steps = interval;
  if (has_min) o.n_min_trials = min_trials;
  return o;
}

absl::StatusOr<StudyConfig> ConfigFromRequest(const v1::CreateStudyRequest& r) {
  StudyConfig c;
  c.name = r.name();
  if (r.directions_size() > 0) {
    c.directions.clear();
    for (int d : r.directions()) {
      PARZEN_ASSIGN_OR_RETURN(Direction dir, FromProto(static_cast<v1::Direction>(d)));
      c.directions.push_back(dir);
    }
  }
  if (r.sampler().has_random() && r.sampler().random().has_seed()) {
    c.sampler.seed = r.sampler().random().seed();
  }
  const v1::PrunerConfig& p = r.pruner();
  switch (p.kind_case()) {
    case v1::PrunerConfig::kNop:
      c.pruner.kind = PrunerKind::kNop;
      break;
    case v1::PrunerConfig::kPercentile: {
      const auto& q = p.percentile();
      c.pruner.kind = PrunerKind::kPercentile;
      PARZEN_ASSIGN_OR_RETURN(
          c.pruner.options,
          PercentileOptions(q.percentile(), q.has_n_startup_trials(), q.n_startup_trials(),
                            q.has_n_warmup_steps(), q.n_warmup_steps(), q.has_interval_steps(),
                            q.interval_steps(), q.has_n_min_trials(), q.n_min_trials()));
      break;
    }
    case v1::PrunerConfig::kMedian:
    case v1::PrunerConfig::KIND_NOT_SET: {
      const auto& m = p.median();
      c.pruner.kind = PrunerKind::kMedian;
      PARZEN_ASSIGN_OR_RETURN(
          c.pruner.options,
          PercentileOptions(50.0, m.has_n_startup_trials(), m.n_startup_trials(),
                            m.has_n_warmup_steps(), m.n_warmup_steps(), m.has_interval_steps(),
                            m.interval_steps(), m.has_n_min_trials(), m.n_min_trials()));
      break;
    }
  }
  c.max_trials = r.max_trials();
  c.heartbeat_grace_seconds = r.heartbeat_grace_seconds();
  c.max_retries = r.max_retries();
  PARZEN_ASSIGN_OR_RETURN(c.user_attrs, UserAttrsFromProto(r.user_attrs()));
  return c;
}

void StudyToProto(const StudySnapshot& s, v1::Study* out) {
  out->set_name(s.record.name);
  out->set_study_id(s.record.study_id);
  for (Direction d : s.config.directions) out->add_directions(ToProto(d));
  out->mutable_sampler()->mutable_random()->set_seed(s.config.sampler.seed.value_or(0));
  const PercentilePrunerOptions& o = s.config.pruner.options;
  auto fill = [&o](auto* p) {
    p->set_n_startup_trials(o.n_startup_trials);
    p->set_n_warmup_steps(o.n_warmup_steps);
    p->set_interval_steps(o.interval_steps);
    p->set_n_min_trials(o.n_min_trials);
  };
  switch (s.config.pruner.kind) {
    case PrunerKind::kNop:
      out->mutable_pruner()->mutable_nop();
      break;
    case PrunerKind::kMedian:
      fill(out->mutable_pruner()->mutable_median());
      break;
    case PrunerKind::kPercentile:
      out->mutable_pruner()->mutable_percentile()->set_percentile(o.percentile);
      fill(out->mutable_pruner()->mutable_percentile());
      break;
  }
  out->set_max_trials(s.config.max_trials);
  out->set_heartbeat_grace_seconds(s.config.heartbeat_grace_seconds);
  out->set_max_retries(s.config.max_retries);
  for (const auto& [key, json] : s.config.user_attrs) {
    if (auto v = JsonToValue(json); v.ok()) (*out->mutable_user_attrs())[key] = *v;
  }
  *out->mutable_create_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(s.record.create_time_us);
}

void SnapshotToProto(const StudySnapshot& s, v1::GetStudyResponse* out) {
  StudyToProto(s, out->mutable_study());
  v1::StudySummary* sum = out->mutable_summary();
  auto count = [&s](TrialState st) {
    auto it = s.summary.counts.find(st);
    return it == s.summary.counts.end() ? int64_t{0} : it->second;
  };
  sum->set_n_trials(s.summary.n_trials);
  sum->set_n_running(count(TrialState::kRunning));
  sum->set_n_waiting(count(TrialState::kWaiting));
  sum->set_n_complete(count(TrialState::kComplete));
  sum->set_n_pruned(count(TrialState::kPruned));
  sum->set_n_fail(count(TrialState::kFail));
  if (s.summary.best_trial) ToProto(*s.summary.best_trial, s.record.name, sum->mutable_best_trial());
}

absl::StatusOr<SearchSpace> SpaceFromProto(
    const google::protobuf::RepeatedPtrField<v1::ParameterSpec>& specs) {
  SearchSpace space;
  for (const v1::ParameterSpec& p : specs) {
    absl::StatusOr<Distribution> d = FromProto(p.distribution());
    if (!d.ok()) {
      return absl::InvalidArgumentError("parameter '" + p.name() + "': " +
                                        std::string(d.status().message()));
    }
    space.emplace_back(p.name(), *std::move(d));
  }
  return space;
}

}  // namespace

grpc::Status StudyServiceImpl::CreateStudy(grpc::ServerContext*, const v1::CreateStudyRequest* req,
                                           v1::CreateStudyResponse* resp) {
  absl::StatusOr<StudyConfig> config = ConfigFromRequest(*req);
  if (!config.ok()) return Reply("CreateStudy", config.status());
  bool created = false;
  auto snapshot = manager_->CreateStudy(*std::move(config), req->load_if_exists(), &created);
  if (!snapshot.ok()) return Reply("CreateStudy", snapshot.status());
  StudyToProto(*snapshot, resp->mutable_study());
  resp->set_created(created);
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::GetStudy(grpc::ServerContext*, const v1::GetStudyRequest* req,
                                        v1::GetStudyResponse* resp) {
  auto snapshot = manager_->GetStudy(req->name());
  if (!snapshot.ok()) return Reply("GetStudy", snapshot.status());
  SnapshotToProto(*snapshot, resp);
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::ListStudies(grpc::ServerContext*,
                                           const v1::ListStudiesRequest* req,
                                           v1::ListStudiesResponse* resp) {
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return Reply("ListStudies", limit.status());
  // The token is the last name returned: stable under concurrent creation.
  std::vector<StudySnapshot> studies = manager_->ListStudies(req->page_token(), *limit + 1);
  for (size_t i = 0; i < studies.size() && static_cast<int64_t>(i) < *limit; ++i) {
    SnapshotToProto(studies[i], resp->add_studies());
  }
  if (static_cast<int64_t>(studies.size()) > *limit) {
    resp->set_next_page_token(studies[*limit - 1].record.name);
  }
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::DeleteStudy(grpc::ServerContext*, const v1::DeleteStudyRequest* req,
                                           v1::DeleteStudyResponse*) {
  return Reply("DeleteStudy", manager_->DeleteStudy(req->name()));
}

grpc::Status StudyServiceImpl::Ask(grpc::ServerContext*, const v1::AskRequest* req,
                                   v1::AskResponse* resp) {
  absl::StatusOr<SearchSpace> space = SpaceFromProto(req->search_space());
  if (!space.ok()) return Reply("Ask", space.status());
  if (auto s = CheckWorkerId(req->worker_id()); !s.ok()) return Reply("Ask", s);
  auto trial = manager_->Ask(req->study(), *space, req->worker_id());
  if (!trial.ok()) return Reply("Ask", trial.status());
  ToProto(*trial, req->study(), resp->mutable_trial());
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::Suggest(grpc::ServerContext*, const v1::SuggestRequest* req,
                                       v1::SuggestResponse* resp) {
  absl::StatusOr<Distribution> d = FromProto(req->distribution());
  if (!d.ok()) return Reply("Suggest", d.status());
  auto param = manager_->Suggest(req->trial_id(), req->name(), *d);
  if (!param.ok()) return Reply("Suggest", param.status());
  ToProto(*param, resp->mutable_parameter());
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::ReportIntermediate(grpc::ServerContext*,
                                                  const v1::ReportIntermediateRequest* req,
                                                  v1::ReportIntermediateResponse* resp) {
  auto outcome = manager_->Report(req->trial_id(), req->step(), req->value());
  if (!outcome.ok()) return Reply("ReportIntermediate", outcome.status());
  resp->set_should_prune(outcome->should_prune);
  resp->set_duplicate_step(outcome->duplicate_step);
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::Tell(grpc::ServerContext*, const v1::TellRequest* req,
                                    v1::TellResponse* resp) {
  absl::StatusOr<TrialState> state = FromProto(req->state());
  if (!state.ok()) return Reply("Tell", state.status());
  std::vector<double> values(req->values().begin(), req->values().end());
  auto outcome = manager_->Tell(req->trial_id(), *state, values, req->fail_reason());
  if (!outcome.ok()) return Reply("Tell", outcome.status());
  // The study name is not needed by a worker that just told its own trial.
  ToProto(outcome->trial, "", resp->mutable_trial());
  resp->set_message(outcome->message);
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* req,
                                         v1::HeartbeatResponse*) {
  return Reply("Heartbeat", manager_->Heartbeat(req->trial_id(), req->worker_id()));
}

grpc::Status StudyServiceImpl::EnqueueTrial(grpc::ServerContext*,
                                            const v1::EnqueueTrialRequest* req,
                                            v1::EnqueueTrialResponse* resp) {
  std::map<std::string, ParamValue> params;
  for (const auto& [name, value] : req->params()) {
    absl::StatusOr<ParamValue> v = FromProto(value);
    if (!v.ok()) {
      return Reply("EnqueueTrial", absl::InvalidArgumentError("parameter '" + name + "': " +
                                                              std::string(v.status().message())));
    }
    params.emplace(name, *std::move(v));
  }
  auto attrs = UserAttrsFromProto(req->user_attrs());
  if (!attrs.ok()) return Reply("EnqueueTrial", attrs.status());
  auto trial = manager_->Enqueue(req->study(), params, *attrs);
  if (!trial.ok()) return Reply("EnqueueTrial", trial.status());
  ToProto(*trial, req->study(), resp->mutable_trial());
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::SetTrialUserAttr(grpc::ServerContext*,
                                                const v1::SetTrialUserAttrRequest* req,
                                                v1::SetTrialUserAttrResponse*) {
  absl::StatusOr<std::string> json = ValueToJson(req->value());
  if (!json.ok()) return Reply("SetTrialUserAttr", json.status());
  return Reply("SetTrialUserAttr", manager_->SetTrialUserAttr(req->trial_id(), req->key(), *json));
}

grpc::Status StudyServiceImpl::GetTrial(grpc::ServerContext*, const v1::GetTrialRequest* req,
                                        v1::GetTrialResponse* resp) {
  auto trial = manager_->GetTrial(req->trial_id());
  if (!trial.ok()) return Reply("GetTrial", trial.status());
  ToProto(*trial, "", resp->mutable_trial());
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::ListTrials(grpc::ServerContext*, const v1::ListTrialsRequest* req,
                                          v1::ListTrialsResponse* resp) {
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return Reply("ListTrials", limit.status());
  int64_t from = 0;
  const std::string& token = req->page_token();
  if (!token.empty()) {
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), from);
    if (ec != std::errc() || ptr != token.data() + token.size() || from < 0) {
      return Reply("ListTrials", absl::InvalidArgumentError("page_token '" + token +
                                                            "' was not issued by ListTrials"));
    }
  }
  std::vector<TrialState> states;
  for (int s : req->states()) {
    absl::StatusOr<TrialState> st = FromProto(static_cast<v1::TrialState>(s));
    if (!st.ok()) return Reply("ListTrials", st.status());
    states.push_back(*st);
  }
  int64_t next = -1;
  auto trials = manager_->ListTrials(req->study(), states, from, *limit, &next);
  if (!trials.ok()) return Reply("ListTrials", trials.status());
  for (const FrozenTrial& t : *trials) ToProto(t, req->study(), resp->add_trials());
  if (next >= 0) resp->set_next_page_token(std::to_string(next));
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::WatchStudy(grpc::ServerContext* ctx,
                                          const v1::WatchStudyRequest* req,
                                          grpc::ServerWriter<v1::WatchStudyResponse>* writer) {
  auto queue = std::make_shared<WatchQueue>(kWatchQueueCapacity);
  if (auto s = manager_->Watch(req->study(), queue); !s.ok()) return Reply("WatchStudy", s);
  while (!ctx->IsCancelled() && !stopping_) {
    std::optional<TrialEvent> event = queue->Pop(std::chrono::milliseconds(200));
    if (!event) {
      if (queue->closed()) break;
      continue;
    }
    // Show only what is durable, in commit order.
    if (auto s = manager_->WaitDurable(event->ticket); !s.ok()) return Reply("WatchStudy", s);
    v1::WatchStudyResponse resp;
    ToProto(event->trial, req->study(), resp.mutable_trial());
    resp.set_snapshot(event->ticket == 0);
    if (!writer->Write(resp)) break;
  }
  if (queue->overflowed()) {
    return Reply("WatchStudy", absl::ResourceExhaustedError(
                                   "watcher fell more than 10000 events behind; watch again"));
  }
  return grpc::Status::OK;
}

}  // namespace parzen
