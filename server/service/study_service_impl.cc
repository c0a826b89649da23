#include "server/service/study_service_impl.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "common/access_token.h"
#include "common/client_text.h"
#include "common/proto_convert.h"
#include "common/status.h"
#include "server/core/limits.h"
#include "server/core/ops/ask.h"
#include "server/core/ops/attrs.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/heartbeat.h"
#include "server/core/ops/read.h"
#include "server/core/ops/report.h"
#include "server/core/ops/suggest.h"
#include "server/core/ops/tell.h"
#include "server/service/reply.h"
#include "server/service/request_parse.h"
#include "server/service/study_convert.h"
#include "server/service/watch_reactor.h"

namespace parzen {
namespace {

// The caller's `authorization` metadata; nullopt when it sent none.
std::optional<std::string_view> PresentedToken(const grpc::CallbackServerContext& ctx) {
  const auto& metadata = ctx.client_metadata();
  const auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 1000;
constexpr size_t kPageBytes = 2 << 20;
constexpr size_t kMaxWorkerIdLength = 256;
constexpr size_t kMaxRequestIdLength = 64;
constexpr int kMaxOpenWatches = 256;

absl::StatusOr<int64_t> PageSize(int32_t requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size must be >= 0");
  return requested == 0 ? kDefaultPageSize : std::min<int64_t>(requested, kMaxPageSize);
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

absl::Status CheckWorkerId(const std::string& id) {
  if (id.size() > kMaxWorkerIdLength) {
    return absl::InvalidArgumentError("worker_id is longer than " +
                                      std::to_string(kMaxWorkerIdLength) + " bytes");
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(const std::string& id) {
  if (id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError("request_id is longer than " +
                                      std::to_string(kMaxRequestIdLength) + " bytes");
  }
  return absl::OkStatus();
}

// A user attribute's value as JSON. The key is checked first so that a value
// error can quote it: a 1 MiB key is refused for its length, not quoted.
absl::StatusOr<std::string> AttrJson(const std::string& key, const google::protobuf::Value& v) {
  PARZEN_RETURN_IF_ERROR(ValidateUserAttrKey(key));
  absl::StatusOr<std::string> json = ValueToJson(v);
  if (json.ok()) return json;
  return absl::InvalidArgumentError("user attribute '" + key + "': " + std::string(json.status().message()));
}

}  // namespace

// One unary call: owns its request and response until gRPC is done with
// it, and serializes the response when the call succeeds.
class StudyServiceImpl::Call final : public grpc::ServerUnaryReactor {
 public:
  Call(StudyServiceImpl* service, const char* method, Bytes* out)
      : service_(service), method_(method), out_(out), start_(RequestStats::Clock::now()) {}

  const char* method() const { return method_; }
  RequestStats::Clock::time_point start() const { return start_; }
  Role role = Role::kRead;  // the caller's, once admitted

  void Keep(std::unique_ptr<google::protobuf::Message> request,
            std::unique_ptr<google::protobuf::Message> response) {
    request_ = std::move(request);
    response_ = std::move(response);
  }
  void Answer(const absl::Status& s) {
    grpc::Status status = Reply(method_, s);
    if (status.ok() && response_ != nullptr) {
      bool own_buffer = false;
      status = grpc::SerializationTraits<google::protobuf::Message>::Serialize(*response_, out_,
                                                                              &own_buffer);
    }
    Finish(status);
  }
  void OnDone() override {
    StudyServiceImpl* service = service_;
    delete this;
    service->CallDone();
  }

 private:
  StudyServiceImpl* const service_;
  const char* const method_;
  Bytes* const out_;
  const RequestStats::Clock::time_point start_;
  std::unique_ptr<google::protobuf::Message> request_;
  std::unique_ptr<google::protobuf::Message> response_;
};

StudyServiceImpl::StudyServiceImpl(StudyManager* manager, Options options)
    : manager_(manager),
      backup_dir_(std::move(options.backup_dir)),
      watch_backlog_(options.watch_backlog),
      access_(std::make_shared<const AccessPolicy>(std::move(options.access))) {}

StudyServiceImpl::~StudyServiceImpl() {
  {
    absl::MutexLock lock(&calls_mu_);
    calls_mu_.Await(absl::Condition(
        +[](int* unanswered) { return *unanswered == 0; }, &calls_unanswered_));
  }
  absl::MutexLock lock(&watch_mu_);
  watch_mu_.Await(absl::Condition(
      +[](int* open) { return *open == 0; }, &open_watches_));
}

void StudyServiceImpl::SetAccessPolicy(AccessPolicy access) {
  auto replacement = std::make_shared<const AccessPolicy>(std::move(access));
  {
    absl::MutexLock lock(&access_mu_);
    access_ = std::move(replacement);
  }
  ++access_generation_;
}

void StudyServiceImpl::BeginShutdown() {
  stopping_ = true;
  manager_->StopBackups();
}

bool StudyServiceImpl::AwaitCallsAnswered(absl::Duration timeout) {
  absl::MutexLock lock(&calls_mu_);
  return calls_mu_.AwaitWithTimeout(
      absl::Condition(
          +[](int* unanswered) { return *unanswered == 0; }, &calls_unanswered_),
      timeout);
}

void StudyServiceImpl::CallDone() {
  absl::MutexLock lock(&calls_mu_);
  --calls_unanswered_;
}

absl::StatusOr<Role> StudyServiceImpl::Admit(const Ctx& ctx, Role needed,
                                             std::string_view method) const {
  if (stopping_) {
    return absl::UnavailableError("the server is shutting down; retry when it is back");
  }
  return Authorize(PresentedToken(ctx), needed, method);
}

absl::StatusOr<Role> StudyServiceImpl::Authorize(std::optional<std::string_view> presented,
                                                 Role needed, std::string_view method) const {
  std::shared_ptr<const AccessPolicy> access;
  {
    absl::MutexLock lock(&access_mu_);
    access = access_;
  }
  PARZEN_ASSIGN_OR_RETURN(Role role, access->Authenticate(presented));
  PARZEN_RETURN_IF_ERROR(AccessPolicy::Permit(role, needed, method));
  return role;
}

template <typename Request, typename Response>
StudyServiceImpl::Unary* StudyServiceImpl::Serve(Ctx* ctx, const Bytes* in, Bytes* out,
                                                 const char* method, Role needed) {
  {
    absl::MutexLock lock(&calls_mu_);
    ++calls_unanswered_;
  }
  auto* call = new Call(this, method, out);  // deletes itself in OnDone
  absl::StatusOr<Role> role = Admit(*ctx, needed, method);
  if (!role.ok()) return Finish(call, role.status());
  call->role = *role;
  grpc::Slice bytes;
  if (!in->DumpToSingleSlice(&bytes).ok()) bytes = grpc::Slice();  // an empty message
  auto request = std::make_unique<Request>();
  absl::Status parsed = ParseRequest(
      std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()),
      request.get());
  if (!parsed.ok()) return Finish(call, parsed);
  auto response = std::make_unique<Response>();
  const Request& req = *request;
  Response* resp = response.get();
  call->Keep(std::move(request), std::move(response));
  return Handle(call, req, resp);
}

StudyServiceImpl::Unary* StudyServiceImpl::Finish(Call* call, const absl::Status& status) {
  stats_.Record(call->method(), status.ok(), RequestStats::Clock::now() - call->start());
  call->Answer(status);
  return call;
}

StudyServiceImpl::Unary* StudyServiceImpl::FinishWhenDurable(Call* call, Storage::Ticket ticket) {
  manager_->OnDurable(ticket, [this, call](absl::Status s) { Finish(call, s); });
  return call;
}

// The raw methods: who may call each, and its message types.
#define PARZEN_SERVE(Method, needed)                                                   \
  StudyServiceImpl::Unary* StudyServiceImpl::Method(Ctx* ctx, const Bytes* in, Bytes* out) { \
    return Serve<v1::Method##Request, v1::Method##Response>(ctx, in, out, #Method, needed); \
  }
PARZEN_SERVE(GetStudy, Role::kRead)
PARZEN_SERVE(ListStudies, Role::kRead)
PARZEN_SERVE(GetTrial, Role::kRead)
PARZEN_SERVE(ListTrials, Role::kRead)
// Workers open existing studies; creating one takes admin (see Handle).
PARZEN_SERVE(CreateStudy, Role::kWorker)
PARZEN_SERVE(Ask, Role::kWorker)
PARZEN_SERVE(Suggest, Role::kWorker)
PARZEN_SERVE(ReportIntermediate, Role::kWorker)
PARZEN_SERVE(Tell, Role::kWorker)
PARZEN_SERVE(Heartbeat, Role::kWorker)
PARZEN_SERVE(SetTrialUserAttr, Role::kWorker)
PARZEN_SERVE(SetStudyUserAttr, Role::kWorker)
PARZEN_SERVE(DeleteStudy, Role::kAdmin)
PARZEN_SERVE(EnqueueTrial, Role::kAdmin)
PARZEN_SERVE(BackupDatabase, Role::kAdmin)
#undef PARZEN_SERVE

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::CreateStudyRequest& req,
                                                  v1::CreateStudyResponse* resp) {
  const bool admin = call->role >= Role::kAdmin;
  if (!admin && !req.load_if_exists()) {
    return Finish(call, AccessPolicy::Permit(call->role, Role::kAdmin, "creating a study"));
  }
  absl::StatusOr<StudyConfig> config = ConfigFromRequest(req, manager_->algorithms());
  if (!config.ok()) return Finish(call, config.status());
  using Mode = StudyManager::CreateMode;
  const Mode mode = !admin ? Mode::kLoadOnly
                    : req.load_if_exists() ? Mode::kCreateOrLoad
                                           : Mode::kCreate;
  bool created = false;
  auto snapshot = manager_->CreateStudy(*std::move(config), mode, &created);
  if (!admin && absl::IsNotFound(snapshot.status())) {
    return Finish(call, AccessPolicy::Permit(call->role, Role::kAdmin, "creating a study"));
  }
  if (!snapshot.ok()) return Finish(call, snapshot.status());
  StudyToProto(snapshot->value, manager_->algorithms(), resp->mutable_study());
  resp->set_created(created);
  return FinishWhenDurable(call, snapshot->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::GetStudyRequest& req,
                                                  v1::GetStudyResponse* resp) {
  auto snapshot = manager_->WithStudy(
      req.name(), [&](Study& s) { return ops::GetStudy(s, !req.omit_best_trials()); });
  if (!snapshot.ok()) return Finish(call, snapshot.status());
  SnapshotToProto(*snapshot, manager_->algorithms(), resp);
  return FinishWhenDurable(call, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::ListStudiesRequest& req,
                                                  v1::ListStudiesResponse* resp) {
  absl::StatusOr<int64_t> limit = PageSize(req.page_size());
  if (!limit.ok()) return Finish(call, limit.status());
  // The token is the last name returned: stable under concurrent creation.
  std::vector<StudySnapshot> studies = ops::ListStudies(*manager_, req.page_token(), *limit + 1);
  for (size_t i = 0; i < studies.size() && static_cast<int64_t>(i) < *limit; ++i) {
    SnapshotToProto(studies[i], manager_->algorithms(), resp->add_studies());
  }
  if (static_cast<int64_t>(studies.size()) > *limit) {
    resp->set_next_page_token(studies[*limit - 1].record.name);
  }
  return FinishWhenDurable(call, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::DeleteStudyRequest& req,
                                                  v1::DeleteStudyResponse*) {
  auto deleted = manager_->DeleteStudy(req.name());
  if (!deleted.ok()) return Finish(call, deleted.status());
  return FinishWhenDurable(call, deleted->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::AskRequest& req,
                                                  v1::AskResponse* resp) {
  absl::StatusOr<SearchSpace> space = SpaceFromProto(req.search_space());
  if (!space.ok()) return Finish(call, space.status());
  if (auto s = CheckWorkerId(req.worker_id()); !s.ok()) return Finish(call, s);
  if (auto s = CheckRequestId(req.request_id()); !s.ok()) return Finish(call, s);
  // Sampling runs on the core's executor; the answer comes from there.
  ops::Ask(*manager_, req.study(), {*std::move(space), req.worker_id(), req.request_id()},
           [this, call, &req, resp](absl::StatusOr<Written<FrozenTrial>> trial) {
             if (!trial.ok()) return (void)Finish(call, trial.status());
             ToProto(trial->value, req.study(), resp->mutable_trial());
             FinishWhenDurable(call, trial->ticket);
           });
  return call;
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::SuggestRequest& req,
                                                  v1::SuggestResponse* resp) {
  absl::StatusOr<Distribution> d = ParamDistributionFromProto(req.name(), req.distribution());
  if (!d.ok()) return Finish(call, d.status());
  ops::Suggest(*manager_, req.trial_id(), req.name(), *std::move(d),
               [this, call, resp](absl::StatusOr<Written<TrialParam>> param) {
                 if (!param.ok()) return (void)Finish(call, param.status());
                 ToProto(param->value, resp->mutable_parameter());
                 FinishWhenDurable(call, param->ticket);
               });
  return call;
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::ReportIntermediateRequest& req,
                                                  v1::ReportIntermediateResponse* resp) {
  auto outcome = manager_->WithTrial(req.trial_id(), [&](Study& s, int64_t number) {
    return ops::Report(s, number, req.step(), req.value());
  });
  if (!outcome.ok()) return Finish(call, outcome.status());
  resp->set_should_prune(outcome->value.should_prune);
  resp->set_duplicate_step(outcome->value.duplicate_step);
  return FinishWhenDurable(call, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::TellRequest& req,
                                                  v1::TellResponse* resp) {
  absl::StatusOr<TrialState> state = FromProto(req.state());
  if (!state.ok()) return Finish(call, state.status());
  const std::vector<double> values(req.values().begin(), req.values().end());
  auto outcome = manager_->WithTrial(req.trial_id(), [&](Study& s, int64_t number) {
    auto told = ops::Tell(s, number, *state, values, req.fail_reason());
    if (told.ok()) ToProto(told->value.trial, s.name(), resp->mutable_trial());
    return told;
  });
  if (!outcome.ok()) return Finish(call, outcome.status());
  resp->set_message(outcome->value.message);
  return FinishWhenDurable(call, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::HeartbeatRequest& req,
                                                  v1::HeartbeatResponse*) {
  if (absl::Status s = CheckWorkerId(req.worker_id()); !s.ok()) return Finish(call, s);
  return Finish(call, manager_->WithTrial(req.trial_id(), [&](Study& s, int64_t number) {
    return ops::Heartbeat(s, number, req.worker_id());
  }));
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::EnqueueTrialRequest& req,
                                                  v1::EnqueueTrialResponse* resp) {
  auto params = ParamsFromProto(req.params());
  if (!params.ok()) return Finish(call, params.status());
  auto attrs = UserAttrsFromProto(req.user_attrs());
  if (!attrs.ok()) return Finish(call, attrs.status());
  auto trial = manager_->WithStudy(
      req.study(), [&](Study& s) { return ops::Enqueue(s, *params, *attrs); });
  if (!trial.ok()) return Finish(call, trial.status());
  ToProto(trial->value, req.study(), resp->mutable_trial());
  return FinishWhenDurable(call, trial->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::SetTrialUserAttrRequest& req,
                                                  v1::SetTrialUserAttrResponse*) {
  absl::StatusOr<std::string> json = AttrJson(req.key(), req.value());
  if (!json.ok()) return Finish(call, json.status());
  auto written = manager_->WithTrial(req.trial_id(), [&](Study& s, int64_t number) {
    return ops::SetTrialUserAttr(s, number, req.key(), *json);
  });
  if (!written.ok()) return Finish(call, written.status());
  return FinishWhenDurable(call, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::SetStudyUserAttrRequest& req,
                                                  v1::SetStudyUserAttrResponse*) {
  absl::StatusOr<std::string> json = AttrJson(req.key(), req.value());
  if (!json.ok()) return Finish(call, json.status());
  auto written = manager_->WithStudy(
      req.study(), [&](Study& s) { return ops::SetStudyUserAttr(s, req.key(), *json); });
  if (!written.ok()) return Finish(call, written.status());
  return FinishWhenDurable(call, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::GetTrialRequest& req,
                                                  v1::GetTrialResponse* resp) {
  absl::Status found = manager_->WithTrial(req.trial_id(), [&](Study& s, int64_t number) {
    absl::StatusOr<FrozenTrial> trial = ops::GetTrial(s, number);
    if (trial.ok()) ToProto(*trial, s.name(), resp->mutable_trial());
    return trial.status();
  });
  if (!found.ok()) return Finish(call, found);
  return FinishWhenDurable(call, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::ListTrialsRequest& req,
                                                  v1::ListTrialsResponse* resp) {
  absl::StatusOr<int64_t> limit = PageSize(req.page_size());
  if (!limit.ok()) return Finish(call, limit.status());
  absl::StatusOr<int64_t> from = ParsePageToken(req.page_token());
  if (!from.ok()) return Finish(call, from.status());
  auto states = StatesFromProto(req.states());
  if (!states.ok()) return Finish(call, states.status());
  int64_t next = -1;
  auto trials = manager_->WithStudy(
      req.study(), [&](Study& s) { return ops::ListTrials(s, *states, *from, *limit, &next); });
  if (!trials.ok()) return Finish(call, trials.status());
  // A page also ends before it passes 2 MiB (a lone larger trial makes a
  // page of its own), so pages stay under the 4 MiB a gRPC client accepts
  // by default; the token resumes at the first trial left out.
  size_t bytes = 0;
  for (const FrozenTrial& t : *trials) {
    v1::Trial proto;
    ToProto(t, req.study(), &proto);
    const size_t size = proto.ByteSizeLong();
    if (resp->trials_size() > 0 && bytes + size > kPageBytes) {
      next = t.number;
      break;
    }
    bytes += size;
    *resp->add_trials() = std::move(proto);
  }
  if (next >= 0) resp->set_next_page_token(std::to_string(next));
  return FinishWhenDurable(call, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::Handle(Call* call, const v1::BackupDatabaseRequest& req,
                                                  v1::BackupDatabaseResponse* resp) {
  if (!backup_dir_) {
    return Finish(call, absl::FailedPreconditionError(
                           "backups are off on this server; start parzen-server with "
                           "--backup-dir DIR"));
  }
  absl::StatusOr<std::string> partial = backup_dir_->Reserve(req.name());
  if (!partial.ok()) return Finish(call, partial.status());
  manager_->Backup(*partial, [this, call, resp, partial = *partial,
                              name = req.name()](absl::Status s) {
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
    Finish(call, s);
  });
  return call;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* StudyServiceImpl::WatchStudy(Ctx* ctx,
                                                                         const Bytes* in) {
  // Read before the token is checked: a policy replaced after it is
  // checked again.
  const uint64_t admitted_under = access_generation_.load();
  if (absl::StatusOr<Role> role = Admit(*ctx, Role::kRead, "WatchStudy"); !role.ok()) {
    return new FailedWatch(Reply("WatchStudy", role.status()));
  }
  grpc::Slice bytes;
  if (!in->DumpToSingleSlice(&bytes).ok()) bytes = grpc::Slice();  // an empty message
  v1::WatchStudyRequest req;
  if (absl::Status parsed = ParseRequest(
          std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()), &req);
      !parsed.ok()) {
    return new FailedWatch(Reply("WatchStudy", parsed));
  }
  {
    // Each stream holds a thread: bound them.
    absl::MutexLock lock(&watch_mu_);
    if (open_watches_ >= kMaxOpenWatches) {
      return new FailedWatch(Reply(
          "WatchStudy", absl::ResourceExhaustedError("too many open WatchStudy streams (" +
                                                     std::to_string(kMaxOpenWatches) +
                                                     "); close one or try later")));
    }
    ++open_watches_;
  }
  auto watch_ended = [this] {
    absl::MutexLock lock(&watch_mu_);
    --open_watches_;
  };
  auto queue = std::make_shared<WatchQueue>(watch_backlog_);
  absl::Status found = manager_->WithStudy(req.study(), [&](Study& s) {
    ops::Watch(s, queue);
    return absl::OkStatus();
  });
  if (!found.ok()) {
    watch_ended();
    return new FailedWatch(Reply("WatchStudy", found));
  }
  spdlog::info("watch of study '{}' by {} began", EscapeForLog(req.study()),
               EscapeForLog(ctx->peer()));
  // The token is checked again after each SIGHUP, so revoking it ends the
  // stream too. The service outlives every stream (its destructor waits).
  std::optional<std::string> presented;
  if (const auto token = PresentedToken(*ctx)) presented.emplace(*token);
  auto admitted = [this, presented = std::move(presented),
                   seen = admitted_under]() mutable -> absl::Status {
    const uint64_t now = access_generation_.load();
    if (now == seen) return absl::OkStatus();
    seen = now;
    return Authorize(presented, Role::kRead, "WatchStudy").status();
  };
  return new WatchReactor(manager_, req.study(), ctx->peer(), std::move(queue), &stopping_,
                          std::move(admitted), watch_ended);
}

}  // namespace parzen
