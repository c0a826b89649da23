#include "server/service/study_service_impl.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "common/access_token.h"
#include "common/proto_convert.h"
#include "server/core/ops/ask.h"
#include "server/core/ops/attrs.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/heartbeat.h"
#include "server/core/ops/read.h"
#include "server/core/ops/report.h"
#include "server/core/ops/suggest.h"
#include "server/core/ops/tell.h"
#include "server/service/reply.h"
#include "server/service/study_convert.h"
#include "server/service/watch_reactor.h"

namespace parzen {
namespace {

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

// A user attribute's value as JSON; only the key's first bytes are quoted
// (its own checks come later).
absl::StatusOr<std::string> AttrJson(const std::string& key, const google::protobuf::Value& v) {
  absl::StatusOr<std::string> json = ValueToJson(v);
  if (json.ok()) return json;
  return absl::InvalidArgumentError("user attribute '" + key.substr(0, 64) +
                                    "': " + std::string(json.status().message()));
}

}  // namespace

StudyServiceImpl::~StudyServiceImpl() {
  absl::MutexLock lock(&watch_mu_);
  watch_mu_.Await(absl::Condition(
      +[](int* open) { return *open == 0; }, &open_watches_));
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

StudyServiceImpl::Rpc StudyServiceImpl::Begin(Ctx* ctx, const char* method) const {
  return Rpc{ctx->DefaultReactor(), method, RequestStats::Clock::now(), Authorize(*ctx)};
}

StudyServiceImpl::Unary* StudyServiceImpl::Finish(const Rpc& rpc, const absl::Status& status) {
  stats_.Record(rpc.method, status.ok(), RequestStats::Clock::now() - rpc.start);
  rpc.reactor->Finish(Reply(rpc.method, status));
  return rpc.reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::FinishWhenDurable(const Rpc& rpc,
                                                             Storage::Ticket ticket) {
  manager_->OnDurable(ticket, [this, rpc](absl::Status s) { Finish(rpc, s); });
  return rpc.reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::CreateStudy(Ctx* ctx, const v1::CreateStudyRequest* req,
                                                       v1::CreateStudyResponse* resp) {
  const Rpc rpc = Begin(ctx, "CreateStudy");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<StudyConfig> config = ConfigFromRequest(*req, manager_->algorithms());
  if (!config.ok()) return Finish(rpc, config.status());
  bool created = false;
  auto snapshot = manager_->CreateStudy(*std::move(config), req->load_if_exists(), &created);
  if (!snapshot.ok()) return Finish(rpc, snapshot.status());
  StudyToProto(snapshot->value, manager_->algorithms(), resp->mutable_study());
  resp->set_created(created);
  return FinishWhenDurable(rpc, snapshot->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::GetStudy(Ctx* ctx, const v1::GetStudyRequest* req,
                                                    v1::GetStudyResponse* resp) {
  const Rpc rpc = Begin(ctx, "GetStudy");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  auto snapshot = manager_->WithStudy(
      req->name(), [&](Study& s) { return ops::GetStudy(s, !req->omit_best_trials()); });
  if (!snapshot.ok()) return Finish(rpc, snapshot.status());
  SnapshotToProto(*snapshot, manager_->algorithms(), resp);
  return FinishWhenDurable(rpc, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::ListStudies(Ctx* ctx, const v1::ListStudiesRequest* req,
                                                       v1::ListStudiesResponse* resp) {
  const Rpc rpc = Begin(ctx, "ListStudies");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return Finish(rpc, limit.status());
  // The token is the last name returned: stable under concurrent creation.
  std::vector<StudySnapshot> studies = ops::ListStudies(*manager_, req->page_token(), *limit + 1);
  for (size_t i = 0; i < studies.size() && static_cast<int64_t>(i) < *limit; ++i) {
    SnapshotToProto(studies[i], manager_->algorithms(), resp->add_studies());
  }
  if (static_cast<int64_t>(studies.size()) > *limit) {
    resp->set_next_page_token(studies[*limit - 1].record.name);
  }
  return FinishWhenDurable(rpc, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::DeleteStudy(Ctx* ctx, const v1::DeleteStudyRequest* req,
                                                       v1::DeleteStudyResponse*) {
  const Rpc rpc = Begin(ctx, "DeleteStudy");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  auto deleted = manager_->DeleteStudy(req->name());
  if (!deleted.ok()) return Finish(rpc, deleted.status());
  return FinishWhenDurable(rpc, deleted->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Ask(Ctx* ctx, const v1::AskRequest* req,
                                               v1::AskResponse* resp) {
  const Rpc rpc = Begin(ctx, "Ask");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<SearchSpace> space = SpaceFromProto(req->search_space());
  if (!space.ok()) return Finish(rpc, space.status());
  if (auto s = CheckWorkerId(req->worker_id()); !s.ok()) return Finish(rpc, s);
  if (auto s = CheckRequestId(req->request_id()); !s.ok()) return Finish(rpc, s);
  // Sampling runs on the core's executor; the answer comes from there.
  ops::Ask(*manager_, req->study(), {*std::move(space), req->worker_id(), req->request_id()},
           [this, rpc, req, resp](absl::StatusOr<Written<FrozenTrial>> trial) {
             if (!trial.ok()) return (void)Finish(rpc, trial.status());
             ToProto(trial->value, req->study(), resp->mutable_trial());
             FinishWhenDurable(rpc, trial->ticket);
           });
  return rpc.reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::Suggest(Ctx* ctx, const v1::SuggestRequest* req,
                                                   v1::SuggestResponse* resp) {
  const Rpc rpc = Begin(ctx, "Suggest");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<Distribution> d = ParamDistributionFromProto(req->name(), req->distribution());
  if (!d.ok()) return Finish(rpc, d.status());
  ops::Suggest(*manager_, req->trial_id(), req->name(), *std::move(d),
               [this, rpc, resp](absl::StatusOr<Written<TrialParam>> param) {
                 if (!param.ok()) return (void)Finish(rpc, param.status());
                 ToProto(param->value, resp->mutable_parameter());
                 FinishWhenDurable(rpc, param->ticket);
               });
  return rpc.reactor;
}

StudyServiceImpl::Unary* StudyServiceImpl::ReportIntermediate(
    Ctx* ctx, const v1::ReportIntermediateRequest* req, v1::ReportIntermediateResponse* resp) {
  const Rpc rpc = Begin(ctx, "ReportIntermediate");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  auto outcome = manager_->WithTrial(req->trial_id(), [&](Study& s, int64_t number) {
    return ops::Report(s, number, req->step(), req->value());
  });
  if (!outcome.ok()) return Finish(rpc, outcome.status());
  resp->set_should_prune(outcome->value.should_prune);
  resp->set_duplicate_step(outcome->value.duplicate_step);
  return FinishWhenDurable(rpc, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Tell(Ctx* ctx, const v1::TellRequest* req,
                                                v1::TellResponse* resp) {
  const Rpc rpc = Begin(ctx, "Tell");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<TrialState> state = FromProto(req->state());
  if (!state.ok()) return Finish(rpc, state.status());
  const std::vector<double> values(req->values().begin(), req->values().end());
  auto outcome = manager_->WithTrial(req->trial_id(), [&](Study& s, int64_t number) {
    auto told = ops::Tell(s, number, *state, values, req->fail_reason());
    if (told.ok()) ToProto(told->value.trial, s.name(), resp->mutable_trial());
    return told;
  });
  if (!outcome.ok()) return Finish(rpc, outcome.status());
  resp->set_message(outcome->value.message);
  return FinishWhenDurable(rpc, outcome->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::Heartbeat(Ctx* ctx, const v1::HeartbeatRequest* req,
                                                     v1::HeartbeatResponse*) {
  const Rpc rpc = Begin(ctx, "Heartbeat");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  if (absl::Status s = CheckWorkerId(req->worker_id()); !s.ok()) return Finish(rpc, s);
  return Finish(rpc, manager_->WithTrial(req->trial_id(), [&](Study& s, int64_t number) {
    return ops::Heartbeat(s, number, req->worker_id());
  }));
}

StudyServiceImpl::Unary* StudyServiceImpl::EnqueueTrial(Ctx* ctx,
                                                        const v1::EnqueueTrialRequest* req,
                                                        v1::EnqueueTrialResponse* resp) {
  const Rpc rpc = Begin(ctx, "EnqueueTrial");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  auto params = ParamsFromProto(req->params());
  if (!params.ok()) return Finish(rpc, params.status());
  auto attrs = UserAttrsFromProto(req->user_attrs());
  if (!attrs.ok()) return Finish(rpc, attrs.status());
  auto trial = manager_->WithStudy(
      req->study(), [&](Study& s) { return ops::Enqueue(s, *params, *attrs); });
  if (!trial.ok()) return Finish(rpc, trial.status());
  ToProto(trial->value, req->study(), resp->mutable_trial());
  return FinishWhenDurable(rpc, trial->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::SetTrialUserAttr(Ctx* ctx,
                                                            const v1::SetTrialUserAttrRequest* req,
                                                            v1::SetTrialUserAttrResponse*) {
  const Rpc rpc = Begin(ctx, "SetTrialUserAttr");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<std::string> json = AttrJson(req->key(), req->value());
  if (!json.ok()) return Finish(rpc, json.status());
  auto written = manager_->WithTrial(req->trial_id(), [&](Study& s, int64_t number) {
    return ops::SetTrialUserAttr(s, number, req->key(), *json);
  });
  if (!written.ok()) return Finish(rpc, written.status());
  return FinishWhenDurable(rpc, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::SetStudyUserAttr(Ctx* ctx,
                                                            const v1::SetStudyUserAttrRequest* req,
                                                            v1::SetStudyUserAttrResponse*) {
  const Rpc rpc = Begin(ctx, "SetStudyUserAttr");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<std::string> json = AttrJson(req->key(), req->value());
  if (!json.ok()) return Finish(rpc, json.status());
  auto written = manager_->WithStudy(
      req->study(), [&](Study& s) { return ops::SetStudyUserAttr(s, req->key(), *json); });
  if (!written.ok()) return Finish(rpc, written.status());
  return FinishWhenDurable(rpc, written->ticket);
}

StudyServiceImpl::Unary* StudyServiceImpl::GetTrial(Ctx* ctx, const v1::GetTrialRequest* req,
                                                    v1::GetTrialResponse* resp) {
  const Rpc rpc = Begin(ctx, "GetTrial");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::Status found = manager_->WithTrial(req->trial_id(), [&](Study& s, int64_t number) {
    absl::StatusOr<FrozenTrial> trial = ops::GetTrial(s, number);
    if (trial.ok()) ToProto(*trial, s.name(), resp->mutable_trial());
    return trial.status();
  });
  if (!found.ok()) return Finish(rpc, found);
  return FinishWhenDurable(rpc, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::ListTrials(Ctx* ctx, const v1::ListTrialsRequest* req,
                                                      v1::ListTrialsResponse* resp) {
  const Rpc rpc = Begin(ctx, "ListTrials");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  absl::StatusOr<int64_t> limit = PageSize(req->page_size());
  if (!limit.ok()) return Finish(rpc, limit.status());
  absl::StatusOr<int64_t> from = ParsePageToken(req->page_token());
  if (!from.ok()) return Finish(rpc, from.status());
  auto states = StatesFromProto(req->states());
  if (!states.ok()) return Finish(rpc, states.status());
  int64_t next = -1;
  auto trials = manager_->WithStudy(
      req->study(), [&](Study& s) { return ops::ListTrials(s, *states, *from, *limit, &next); });
  if (!trials.ok()) return Finish(rpc, trials.status());
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
  return FinishWhenDurable(rpc, manager_->ReadTicket());
}

StudyServiceImpl::Unary* StudyServiceImpl::BackupDatabase(Ctx* ctx,
                                                          const v1::BackupDatabaseRequest* req,
                                                          v1::BackupDatabaseResponse* resp) {
  const Rpc rpc = Begin(ctx, "BackupDatabase");
  if (!rpc.authorized.ok()) return Finish(rpc, rpc.authorized);
  if (!backup_dir_) {
    return Finish(rpc, absl::FailedPreconditionError(
                           "backups are off on this server; start parzen-server with "
                           "--backup-dir DIR"));
  }
  absl::StatusOr<std::string> partial = backup_dir_->Reserve(req->name());
  if (!partial.ok()) return Finish(rpc, partial.status());
  manager_->Backup(*partial, [this, rpc, resp, partial = *partial,
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
    Finish(rpc, s);
  });
  return rpc.reactor;
}

grpc::ServerWriteReactor<v1::WatchStudyResponse>* StudyServiceImpl::WatchStudy(
    Ctx* ctx, const v1::WatchStudyRequest* req) {
  if (absl::Status s = Authorize(*ctx); !s.ok()) return new FailedWatch(Reply("WatchStudy", s));
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
  absl::Status found = manager_->WithStudy(req->study(), [&](Study& s) {
    ops::Watch(s, queue);
    return absl::OkStatus();
  });
  if (!found.ok()) {
    watch_ended();
    return new FailedWatch(Reply("WatchStudy", found));
  }
  spdlog::info("watch of study '{}' by {} began", req->study(), ctx->peer());
  return new WatchReactor(manager_, req->study(), ctx->peer(), std::move(queue), &stopping_,
                          watch_ended);
}

}  // namespace parzen
