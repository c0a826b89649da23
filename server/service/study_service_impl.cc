#include "server/service/study_service_impl.h"

#include <algorithm>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include "common/access_token.h"
#include "common/grpc_status.h"
#include "common/proto_convert.h"

namespace parzen {
namespace {

constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 1000;
constexpr size_t kPageBytes = 2 << 20;
constexpr size_t kMaxWorkerIdLength = 256;
constexpr size_t kMaxRequestIdLength = 64;
constexpr int kMaxOpenWatches = 256;

// Messages quote what clients sent: in the log they stay one line of
// bounded length, so a request cannot forge or flood log lines.
std::string LogText(const absl::Status& s) {
  constexpr size_t kMaxLogged = 1024;
  std::string out = absl::StatusCodeToString(s.code()) + ": ";
  for (unsigned char c : s.message().substr(0, kMaxLogged)) {
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.message().size() > kMaxLogged) {
    out += "... (" + std::to_string(s.message().size()) + " bytes)";
  }
  return out;
}

// Logs failures once, here at the boundary, and converts them.
grpc::Status Reply(const char* method, const absl::Status& s) {
  if (!s.ok()) {
    const bool expected = s.code() == absl::StatusCode::kOutOfRange;
    if (expected) {
      spdlog::debug("{}: {}", method, LogText(s));
    } else if (s.code() == absl::StatusCode::kInternal ||
               s.code() == absl::StatusCode::kDataLoss ||
               s.code() == absl::StatusCode::kUnavailable) {
      spdlog::error("{}: {}", method, LogText(s));
    } else {
      spdlog::info("{} rejected: {}", method, LogText(s));
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

// Optuna's defaults for every argument the message leaves unset; the median
// and percentile messages share the field names.
template <typename PrunerMessage>
PercentilePrunerOptions PercentileOptions(double percentile, const PrunerMessage& m) {
  PercentilePrunerOptions o;
  o.percentile = percentile;
  if (m.has_n_startup_trials()) o.n_startup_trials = m.n_startup_trials();
  if (m.has_n_warmup_steps()) o.n_warmup_steps = m.n_warmup_steps();
  if (m.has_interval_steps()) o.interval_steps = m.interval_steps();
  if (m.has_n_min_trials()) o.n_min_trials = m.n_min_trials();
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
  // A kind this server does not know (from a newer client) arrives as an
  // unknown field: refuse it rather than quietly use the default.
  if (r.has_sampler() && r.sampler().kind_case() == v1::SamplerConfig::KIND_NOT_SET &&
      !r.sampler().GetReflection()->GetUnknownFields(r.sampler()).empty()) {
    return absl::InvalidArgumentError(
        "sampler: unknown kind (from a newer client?); this server knows: random");
  }
  if (r.has_pruner() && r.pruner().kind_case() == v1::PrunerConfig::KIND_NOT_SET &&
      !r.pruner().GetReflection()->GetUnknownFields(r.pruner()).empty()) {
    return absl::InvalidArgumentError(
        "pruner: unknown kind (from a newer client?); this server knows: median, percentile, nop");
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
      if (!q.has_percentile()) {
        return absl::InvalidArgumentError(
            "pruner: percentile needs its percentile (0-100); Optuna has no default");
      }
      c.pruner.kind = PrunerKind::kPercentile;
      c.pruner.options = PercentileOptions(q.percentile(), q);
      break;
    }
    case v1::PrunerConfig::kMedian:
    case v1::PrunerConfig::KIND_NOT_SET: {
      const auto& m = p.median();
      c.pruner.kind = PrunerKind::kMedian;
      c.pruner.options = PercentileOptions(50.0, m);
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
  for (const auto& [key, json] : s.record.user_attrs) {
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
  for (const FrozenTrial& t : s.summary.best_trials) ToProto(t, s.record.name, sum->add_best_trials());
}

// One parameter of an Ask's search space or a Suggest. The name is checked
// first, so a message never echoes a name no parameter can have; a bad
// distribution's message names the parameter.
absl::StatusOr<Distribution> ParamDistributionFromProto(const std::string& name,
                                                        const v1::Distribution& proto) {
  PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
  absl::StatusOr<Distribution> d = FromProto(proto);
  if (!d.ok()) {
    return absl::InvalidArgumentError("parameter '" + name + "': " +
                                      std::string(d.status().message()));
  }
  return d;
}

absl::StatusOr<SearchSpace> SpaceFromProto(
    const google::protobuf::RepeatedPtrField<v1::ParameterSpec>& specs) {
  SearchSpace space;
  for (const v1::ParameterSpec& p : specs) {
    PARZEN_ASSIGN_OR_RETURN(Distribution d, ParamDistributionFromProto(p.name(), p.distribution()));
    space.push_back({p.name(), std::move(d)});
  }
  return space;
}

absl::StatusOr<int64_t> ParsePageToken(const std::string& token) {
  int64_t from = 0;
  if (token.empty()) return from;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), from);
  if (ec != std::errc() || ptr != token.data() + token.size() || from < 0) {
    return absl::InvalidArgumentError("page_token '" + token + "' was not issued by ListTrials");
  }
  return from;
}

absl::StatusOr<std::vector<TrialState>> StatesFromProto(
    const google::protobuf::RepeatedField<int>& states) {
  std::vector<TrialState> out;
  for (int s : states) {
    PARZEN_ASSIGN_OR_RETURN(TrialState st, FromProto(static_cast<v1::TrialState>(s)));
    // At most the five states, however long the list: the filter is
    // applied to every trial under the study's lock.
    if (std::find(out.begin(), out.end(), st) == out.end()) out.push_back(st);
  }
  return out;
}

absl::StatusOr<std::map<std::string, ParamValue>> ParamsFromProto(
    const google::protobuf::Map<std::string, v1::Value>& params) {
  std::map<std::string, ParamValue> out;
  for (const auto& [name, value] : params) {
    absl::StatusOr<ParamValue> v = FromProto(value);
    if (!v.ok()) {
      return absl::InvalidArgumentError("parameter '" + name + "': " +
                                        std::string(v.status().message()));
    }
    out.emplace(name, *std::move(v));
  }
  return out;
}

// One WatchStudy stream. Waiting for events may take hours, so it happens
// on a thread of the stream's own, never on a gRPC thread. The thread is
// the only caller of StartWrite and Finish; it touches the reactor no more
// after Finish, so OnDone may delete it.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchStudyResponse> {
 public:
  WatchReactor(StudyManager* manager, std::string study, std::string peer,
               std::shared_ptr<WatchQueue> queue, const std::atomic<bool>* stopping,
               std::function<void()> on_exit)
      : manager_(manager),
        study_(std::move(study)),
        peer_(std::move(peer)),
        queue_(std::move(queue)),
        stopping_(stopping) {
    std::thread([this, on_exit = std::move(on_exit)] {
      Run();
      on_exit();
    }).detach();
  }

  void OnSendInitialMetadataDone(bool ok) override { OnWriteDone(ok); }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    write_pending_ = false;
    write_ok_ = ok;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  // Sends `op` (an initial-metadata send or a write) and waits until it is
  // done; false when the stream broke. gRPC always calls the matching Done
  // callback, with ok=false after a cancel.
  template <typename StartOp>
  bool SendAndWait(StartOp start) {
    std::unique_lock lock(mu_);
    write_pending_ = true;
    start();
    cv_.wait(lock, [&] { return !write_pending_; });
    return write_ok_;
  }

  void Run() {
    absl::Status status;
    // The watch is registered before this reactor exists, so initial
    // metadata tells the client that every later change will be streamed.
    if (!SendAndWait([this] { StartSendInitialMetadata(); })) {
      spdlog::info("watch of study '{}' by {} ended: the client went away", study_, peer_);
      Finish(grpc::Status::CANCELLED);
      return;
    }
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (cancelled_) break;
      }
      if (stopping_->load()) break;
      std::optional<TrialEvent> event = queue_->Pop(std::chrono::milliseconds(200));
      if (!event) {
        if (queue_->closed()) break;
        continue;
      }
      // Show only what is durable, in commit order.
      status = manager_->WaitDurable(event->ticket);
      if (!status.ok()) break;
      response_.Clear();
      ToProto(event->trial, study_, response_.mutable_trial());
      response_.set_snapshot(event->snapshot);
      if (!SendAndWait([this] { StartWrite(&response_); })) break;
    }
    if (status.ok() && queue_->overflowed()) {
      status = absl::ResourceExhaustedError("watcher fell more than " +
                                            std::to_string(queue_->capacity()) +
                                            " events behind; watch again");
    }
    spdlog::info("watch of study '{}' by {} ended: {}", study_, peer_, EndReason(status));
    Finish(Reply("WatchStudy", status));
  }

  std::string EndReason(const absl::Status& status) const {
    if (!status.ok()) return std::string(status.message());
    if (stopping_->load()) return "the server is stopping";
    if (queue_->closed()) return "the study was deleted";
    // Cancelled by the client, or its connection found dead by keepalive.
    return "the client went away";
  }

  StudyManager* const manager_;
  const std::string study_;
  const std::string peer_;
  const std::shared_ptr<WatchQueue> queue_;
  const std::atomic<bool>* const stopping_;
  v1::WatchStudyResponse response_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool write_pending_ = false;  // guarded by mu_
  bool write_ok_ = true;        // guarded by mu_
  bool cancelled_ = false;      // guarded by mu_
};

// A stream that ends at once with an error.
class FailedWatch final : public grpc::ServerWriteReactor<v1::WatchStudyResponse> {
 public:
  explicit FailedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

StudyServiceImpl::~StudyServiceImpl() {
  std::unique_lock lock(watch_mu_);
  watch_cv_.wait(lock, [&] { return open_watches_ == 0; });
}

absl::Status StudyServiceImpl::Authorize(const Ctx& ctx) const {
  if (token_.empty()) return absl::OkStatus();
  const auto& metadata = ctx.client_metadata();
  const auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "this server requires an access token; give the client the server's token file "
        "(--token-file)");
  }
  if (!TokenMatches(std::string_view(it->second.data(), it->second.size()), token_)) {
    return absl::UnauthenticatedError("the access token does not match this server's");
  }
  return absl::OkStatus();
}

StudyServiceImpl::Unary* StudyServiceImpl::FinishNow(Ctx* ctx, const char* method,
                                                     RequestStats::Clock::time_point start,
                                                     const absl::Status& status) {
  Unary* reactor = ctx->DefaultReactor();
  stats_.Record(method, status.ok(), RequestStats::Clock::now() - start);
  reactor->Finish(Reply(method, status));
  return reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::FinishWhenDurable(
    Ctx* ctx, const char* method, RequestStats::Clock::time_point start, Storage::Ticket ticket) {
  Unary* reactor = ctx->DefaultReactor();
  manager_->OnDurable(ticket, [this, reactor, method, start](absl::Status s) {
    stats_.Record(method, s.ok(), RequestStats::Clock::now() - start);
    reactor->Finish(Reply(method, s));
  });
  return reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::CreateStudy(Ctx* ctx, const v1::CreateStudyRequest* req,
                                                       v1::CreateStudyResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "CreateStudy", start, s);
  absl::StatusOr<StudyConfig> config = ConfigFromRequest(*req);
  if (!config.ok()) return FinishNow(ctx, "CreateStudy", start, config.status());
  bool created = false;
  auto snapshot = manager_->CreateStudy(*std::move(config), req->load_if_exists(), &created);
  if (!snapshot.ok()) return FinishNow(ctx, "CreateStudy", start, snapshot.status());
  StudyToProto(snapshot->value, resp->mutable_study());
  resp->set_created(created);
  return FinishWhenDurable(ctx, "CreateStudy", start, snapshot->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::GetStudy(Ctx* ctx, const v1::GetStudyRequest* req,
                                                    v1::GetStudyResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "GetStudy", start, s);
  auto snapshot = manager_->GetStudy(req->name(), !req->omit_best_trials());
  if (!snapshot.ok()) return FinishNow(ctx, "GetStudy", start, snapshot.status());
  SnapshotToProto(*snapshot, resp);
  return FinishWhenDurable(ctx, "GetStudy", start, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::ListStudies(Ctx* ctx, const v1::ListStudiesRequest* req,
                                                       v1::ListStudiesResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "ListStudies", start, s);
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return FinishNow(ctx, "ListStudies", start, limit.status());
  // The token is the last name returned: stable under concurrent creation.
  std::vector<StudySnapshot> studies = manager_->ListStudies(req->page_token(), *limit + 1);
  for (size_t i = 0; i < studies.size() && static_cast<int64_t>(i) < *limit; ++i) {
    SnapshotToProto(studies[i], resp->add_studies());
  }
  if (static_cast<int64_t>(studies.size()) > *limit) {
    resp->set_next_page_token(studies[*limit - 1].record.name);
  }
  return FinishWhenDurable(ctx, "ListStudies", start, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::DeleteStudy(Ctx* ctx, const v1::DeleteStudyRequest* req,
                                                       v1::DeleteStudyResponse*) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "DeleteStudy", start, s);
  auto deleted = manager_->DeleteStudy(req->name());
  if (!deleted.ok()) return FinishNow(ctx, "DeleteStudy", start, deleted.status());
  return FinishWhenDurable(ctx, "DeleteStudy", start, deleted->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Ask(Ctx* ctx, const v1::AskRequest* req,
                                               v1::AskResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "Ask", start, s);
  absl::StatusOr<SearchSpace> space = SpaceFromProto(req->search_space());
  if (!space.ok()) return FinishNow(ctx, "Ask", start, space.status());
  if (auto s = CheckWorkerId(req->worker_id()); !s.ok()) return FinishNow(ctx, "Ask", start, s);
  if (req->request_id().size() > kMaxRequestIdLength) {
    return FinishNow(ctx, "Ask", start,
                     absl::InvalidArgumentError("request_id is longer than 64 bytes"));
  }
  auto trial = manager_->Ask(req->study(), *space, req->worker_id(), req->request_id());
  if (!trial.ok()) return FinishNow(ctx, "Ask", start, trial.status());
  ToProto(trial->value, req->study(), resp->mutable_trial());
  return FinishWhenDurable(ctx, "Ask", start, trial->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Suggest(Ctx* ctx, const v1::SuggestRequest* req,
                                                   v1::SuggestResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "Suggest", start, s);
  absl::StatusOr<Distribution> d = ParamDistributionFromProto(req->name(), req->distribution());
  if (!d.ok()) return FinishNow(ctx, "Suggest", start, d.status());
  auto param = manager_->Suggest(req->trial_id(), req->name(), *d);
  if (!param.ok()) return FinishNow(ctx, "Suggest", start, param.status());
  ToProto(param->value, resp->mutable_parameter());
  return FinishWhenDurable(ctx, "Suggest", start, param->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::ReportIntermediate(
    Ctx* ctx, const v1::ReportIntermediateRequest* req, v1::ReportIntermediateResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) {
    return FinishNow(ctx, "ReportIntermediate", start, s);
  }
  auto outcome = manager_->Report(req->trial_id(), req->step(), req->value());
  if (!outcome.ok()) return FinishNow(ctx, "ReportIntermediate", start, outcome.status());
  resp->set_should_prune(outcome->value.should_prune);
  resp->set_duplicate_step(outcome->value.duplicate_step);
  return FinishWhenDurable(ctx, "ReportIntermediate", start, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Tell(Ctx* ctx, const v1::TellRequest* req,
                                                v1::TellResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "Tell", start, s);
  absl::StatusOr<TrialState> state = FromProto(req->state());
  if (!state.ok()) return FinishNow(ctx, "Tell", start, state.status());
  std::vector<double> values(req->values().begin(), req->values().end());
  auto outcome = manager_->Tell(req->trial_id(), *state, values, req->fail_reason());
  if (!outcome.ok()) return FinishNow(ctx, "Tell", start, outcome.status());
  ToProto(outcome->value.trial, manager_->StudyNameOfTrial(req->trial_id()).value_or(""),
          resp->mutable_trial());
  resp->set_message(outcome->value.message);
  return FinishWhenDurable(ctx, "Tell", start, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Heartbeat(Ctx* ctx, const v1::HeartbeatRequest* req,
                                                     v1::HeartbeatResponse*) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "Heartbeat", start, s);
  if (absl::Status s = CheckWorkerId(req->worker_id()); !s.ok()) {
    return FinishNow(ctx, "Heartbeat", start, s);
  }
  return FinishNow(ctx, "Heartbeat", start, manager_->Heartbeat(req->trial_id(), req->worker_id()));
}

StudyServiceImpl::Unary* StudyServiceImpl::EnqueueTrial(Ctx* ctx,
                                                        const v1::EnqueueTrialRequest* req,
                                                        v1::EnqueueTrialResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "EnqueueTrial", start, s);
  auto params = ParamsFromProto(req->params());
  if (!params.ok()) return FinishNow(ctx, "EnqueueTrial", start, params.status());
  auto attrs = UserAttrsFromProto(req->user_attrs());
  if (!attrs.ok()) return FinishNow(ctx, "EnqueueTrial", start, attrs.status());
  auto trial = manager_->Enqueue(req->study(), *params, *attrs);
  if (!trial.ok()) return FinishNow(ctx, "EnqueueTrial", start, trial.status());
  ToProto(trial->value, req->study(), resp->mutable_trial());
  return FinishWhenDurable(ctx, "EnqueueTrial", start, trial->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::SetTrialUserAttr(Ctx* ctx,
                                                            const v1::SetTrialUserAttrRequest* req,
                                                            v1::SetTrialUserAttrResponse*) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) {
    return FinishNow(ctx, "SetTrialUserAttr", start, s);
  }
  absl::StatusOr<std::string> json = ValueToJson(req->value());
  if (!json.ok()) {
    // The key's own checks come later; only its first bytes are quoted.
    return FinishNow(ctx, "SetTrialUserAttr", start,
                     absl::InvalidArgumentError("user attribute '" + req->key().substr(0, 64) +
                                                "': " + std::string(json.status().message())));
  }
  auto written = manager_->SetTrialUserAttr(req->trial_id(), req->key(), *json);
  if (!written.ok()) return FinishNow(ctx, "SetTrialUserAttr", start, written.status());
  return FinishWhenDurable(ctx, "SetTrialUserAttr", start, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::SetStudyUserAttr(Ctx* ctx,
                                                            const v1::SetStudyUserAttrRequest* req,
                                                            v1::SetStudyUserAttrResponse*) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) {
    return FinishNow(ctx, "SetStudyUserAttr", start, s);
  }
  absl::StatusOr<std::string> json = ValueToJson(req->value());
  if (!json.ok()) {
    return FinishNow(ctx, "SetStudyUserAttr", start,
                     absl::InvalidArgumentError("user attribute '" + req->key().substr(0, 64) +
                                                "': " + std::string(json.status().message())));
  }
  auto written = manager_->SetStudyUserAttr(req->study(), req->key(), *json);
  if (!written.ok()) return FinishNow(ctx, "SetStudyUserAttr", start, written.status());
  return FinishWhenDurable(ctx, "SetStudyUserAttr", start, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::GetTrial(Ctx* ctx, const v1::GetTrialRequest* req,
                                                    v1::GetTrialResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "GetTrial", start, s);
  auto trial = manager_->GetTrial(req->trial_id());
  if (!trial.ok()) return FinishNow(ctx, "GetTrial", start, trial.status());
  ToProto(*trial, manager_->StudyNameOfTrial(req->trial_id()).value_or(""), resp->mutable_trial());
  return FinishWhenDurable(ctx, "GetTrial", start, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::ListTrials(Ctx* ctx, const v1::ListTrialsRequest* req,
                                                      v1::ListTrialsResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "ListTrials", start, s);
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return FinishNow(ctx, "ListTrials", start, limit.status());
  absl::StatusOr<int64_t> from = ParsePageToken(req->page_token());
  if (!from.ok()) return FinishNow(ctx, "ListTrials", start, from.status());
  auto states = StatesFromProto(req->states());
  if (!states.ok()) return FinishNow(ctx, "ListTrials", start, states.status());
  int64_t next = -1;
  auto trials = manager_->ListTrials(req->study(), *states, *from, *limit, &next);
  if (!trials.ok()) return FinishNow(ctx, "ListTrials", start, trials.status());
  // A page also ends before it passes 2 MiB (a lone larger trial makes a
  // page of its own), so pages stay under the 4 MiB a gRPC client accepts
  // by default; the token resumes at the first trial left out.
  size_t bytes = 0;
  for (const FrozenTrial& t : *trials) {
    v1::Trial proto;
    ToProto(t, req->study(), &proto);
    const size_t size = proto.ByteSizeLong();
    if (resp->trials_size() > 0 && bytes + size > kPageBytes) {
      next = t.number;
      break;
    }
    bytes += size;
    *resp->add_trials() = std::move(proto);
  }
  if (next >= 0) resp->set_next_page_token(std::to_string(next));
  return FinishWhenDurable(ctx, "ListTrials", start, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::BackupDatabase(Ctx* ctx,
                                                          const v1::BackupDatabaseRequest* req,
                                                          v1::BackupDatabaseResponse* resp) {
  const auto start = RequestStats::Clock::now();
  if (absl::Status s = Authorize(*ctx); !s.ok()) return FinishNow(ctx, "BackupDatabase", start, s);
  if (!backup_dir_) {
    return FinishNow(ctx, "BackupDatabase", start,
                     absl::FailedPreconditionError(
                         "backups are off on this server; start parzen-server with "
                         "--backup-dir DIR"));
  }
  absl::StatusOr<std::string> partial = backup_dir_->Reserve(req->name());
  if (!partial.ok()) return FinishNow(ctx, "BackupDatabase", start, partial.status());
  Unary* reactor = ctx->DefaultReactor();
  manager_->Backup(*partial, [this, reactor, start, resp, partial = *partial,
                              name = req->name()](absl::Status s) {
    if (s.ok()) {
      absl::StatusOr<BackupDir::Placed> placed = backup_dir_->Publish(partial, name);
      if (placed.ok()) {
        resp->set_path(placed->path);
        resp->set_bytes(placed->bytes);
      }
      s = placed.status();
    } else {
      backup_dir_->Discard(partial);
    }
    stats_.Record("BackupDatabase", s.ok(), RequestStats::Clock::now() - start);
    reactor->Finish(Reply("BackupDatabase", s));
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchStudyResponse>* StudyServiceImpl::WatchStudy(
    Ctx* ctx, const v1::WatchStudyRequest* req) {
  if (absl::Status s = Authorize(*ctx); !s.ok()) return new FailedWatch(Reply("WatchStudy", s));
  {
    // Each stream holds a thread: bound them.
    std::lock_guard lock(watch_mu_);
    if (open_watches_ >= kMaxOpenWatches) {
      return new FailedWatch(Reply(
          "WatchStudy", absl::ResourceExhaustedError("too many open WatchStudy streams (" +
                                                     std::to_string(kMaxOpenWatches) +
                                                     "); close one or try later")));
    }
    ++open_watches_;
  }
  auto queue = std::make_shared<WatchQueue>(watch_backlog_);
  if (absl::Status s = manager_->Watch(req->study(), queue); !s.ok()) {
    std::lock_guard lock(watch_mu_);
    --open_watches_;
    watch_cv_.notify_all();
    return new FailedWatch(Reply("WatchStudy", s));
  }
  spdlog::info("watch of study '{}' by {} began", req->study(), ctx->peer());
  return new WatchReactor(manager_, req->study(), ctx->peer(), std::move(queue), &stopping_,
                          [this] {
    std::lock_guard lock(watch_mu_);
    --open_watches_;
    watch_cv_.notify_all();
  });
}

}  // namespace parzen
