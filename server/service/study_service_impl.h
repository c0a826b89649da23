// The gRPC face of the study server: validates and converts each request,
// calls the core's use case (server/core/ops/) on the study the
// StudyManager finds, converts the answer back. No domain logic here.
#ifndef PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
#define PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "parzen/v1/study_service.grpc.pb.h"
#include "server/core/study_manager.h"
#include "server/service/access_policy.h"
#include "server/service/backup_dir.h"
#include "server/service/request_stats.h"

namespace parzen {

// Every method served raw (as bytes), so that the service parses requests
// itself (server/service/request_parse.h).
using RawStudyService = v1::StudyService::WithRawCallbackMethod_CreateStudy<
    v1::StudyService::WithRawCallbackMethod_GetStudy<
    v1::StudyService::WithRawCallbackMethod_ListStudies<
    v1::StudyService::WithRawCallbackMethod_DeleteStudy<
    v1::StudyService::WithRawCallbackMethod_SetStudyUserAttr<
    v1::StudyService::WithRawCallbackMethod_Ask<
    v1::StudyService::WithRawCallbackMethod_Suggest<
    v1::StudyService::WithRawCallbackMethod_ReportIntermediate<
    v1::StudyService::WithRawCallbackMethod_Tell<
    v1::StudyService::WithRawCallbackMethod_Heartbeat<
    v1::StudyService::WithRawCallbackMethod_EnqueueTrial<
    v1::StudyService::WithRawCallbackMethod_SetTrialUserAttr<
    v1::StudyService::WithRawCallbackMethod_GetTrial<
    v1::StudyService::WithRawCallbackMethod_ListTrials<
    v1::StudyService::WithRawCallbackMethod_WatchStudy<
    v1::StudyService::WithRawCallbackMethod_BackupDatabase<
    v1::StudyService::Service>>>>>>>>>>>>>>>>;

// Thread-safe; `manager` must outlive it. Uses gRPC's callback API and
// never blocks a gRPC thread: a write's reply is filled at once and the RPC
// finishes from the storage committer when the change is durable; a
// WatchStudy stream waits for events on a thread of its own.
class StudyServiceImpl final : public RawStudyService {
 public:
  struct Options {
    // Who may call what (see access_policy.h); open by default. The
    // health and reflection services stay open whatever it says.
    AccessPolicy access;
    // Where BackupDatabase writes; none: backups are refused.
    std::optional<BackupDir> backup_dir;
    // How many events a WatchStudy stream may fall behind before it is
    // ended (RESOURCE_EXHAUSTED: watch again), bounding its memory.
    size_t watch_backlog = 10000;
  };
  // (Two constructors, not a default argument: Options' member
  // initialisers are not usable until this class is complete.)
  explicit StudyServiceImpl(StudyManager* manager) : StudyServiceImpl(manager, Options()) {}
  StudyServiceImpl(StudyManager* manager, Options options);
  ~StudyServiceImpl() override;

  // Per-RPC counts and latencies since the last call, as one log line.
  std::string TakeStatsSummary() { return stats_.TakeSummary(); }

  // Replaces the access policy (SIGHUP). Unary calls under way keep the old
  // one; an open WatchStudy stream whose token the new one refuses ends
  // with that refusal (UNAUTHENTICATED or PERMISSION_DENIED).
  void SetAccessPolicy(AccessPolicy access) ABSL_LOCKS_EXCLUDED(access_mu_);

  // Refuses new calls (UNAVAILABLE: clients retry against the restarted
  // server), ends open WatchStudy streams and a backup under way.
  void BeginShutdown();
  // Waits until every unary call begun has been answered, or `timeout`
  // passed; false on timeout. After it the server can close connections
  // at once, idle ones included, without cutting off a reply.
  bool AwaitCallsAnswered(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(calls_mu_);

  using Ctx = grpc::CallbackServerContext;
  using Unary = grpc::ServerUnaryReactor;
  using Bytes = grpc::ByteBuffer;

  Unary* CreateStudy(Ctx*, const Bytes*, Bytes*) override;
  Unary* GetStudy(Ctx*, const Bytes*, Bytes*) override;
  Unary* ListStudies(Ctx*, const Bytes*, Bytes*) override;
  Unary* DeleteStudy(Ctx*, const Bytes*, Bytes*) override;
  Unary* SetStudyUserAttr(Ctx*, const Bytes*, Bytes*) override;
  Unary* Ask(Ctx*, const Bytes*, Bytes*) override;
  Unary* Suggest(Ctx*, const Bytes*, Bytes*) override;
  Unary* ReportIntermediate(Ctx*, const Bytes*, Bytes*) override;
  Unary* Tell(Ctx*, const Bytes*, Bytes*) override;
  Unary* Heartbeat(Ctx*, const Bytes*, Bytes*) override;
  Unary* EnqueueTrial(Ctx*, const Bytes*, Bytes*) override;
  Unary* SetTrialUserAttr(Ctx*, const Bytes*, Bytes*) override;
  Unary* GetTrial(Ctx*, const Bytes*, Bytes*) override;
  Unary* ListTrials(Ctx*, const Bytes*, Bytes*) override;
  grpc::ServerWriteReactor<Bytes>* WatchStudy(Ctx*, const Bytes*) override;
  Unary* BackupDatabase(Ctx*, const Bytes*, Bytes*) override;

 private:
  class Call;
  // Admits, parses and hands a call to the Handle for its request type.
  template <typename Request, typename Response>
  Unary* Serve(Ctx* ctx, const Bytes* in, Bytes* out, const char* method, Role needed);
  // Why a call may not go ahead: the server stopping, or its token.
  absl::StatusOr<Role> Admit(const Ctx& ctx, Role needed, std::string_view method) const;
  // Whether the current policy lets `presented` (the authorization
  // metadata; nullopt: none) call `method`.
  absl::StatusOr<Role> Authorize(std::optional<std::string_view> presented, Role needed,
                                 std::string_view method) const ABSL_LOCKS_EXCLUDED(access_mu_);
  // Answers `call` with `status` now, or once `ticket` is durable (with
  // its status), and records its latency.
  Unary* Finish(Call* call, const absl::Status& status);
  Unary* FinishWhenDurable(Call* call, Storage::Ticket ticket);
  void CallDone() ABSL_LOCKS_EXCLUDED(calls_mu_);

  // One per RPC: checks what the request says and calls the core.
  Unary* Handle(Call*, const v1::CreateStudyRequest&, v1::CreateStudyResponse*);
  Unary* Handle(Call*, const v1::GetStudyRequest&, v1::GetStudyResponse*);
  Unary* Handle(Call*, const v1::ListStudiesRequest&, v1::ListStudiesResponse*);
  Unary* Handle(Call*, const v1::DeleteStudyRequest&, v1::DeleteStudyResponse*);
  Unary* Handle(Call*, const v1::SetStudyUserAttrRequest&, v1::SetStudyUserAttrResponse*);
  Unary* Handle(Call*, const v1::AskRequest&, v1::AskResponse*);
  Unary* Handle(Call*, const v1::SuggestRequest&, v1::SuggestResponse*);
  Unary* Handle(Call*, const v1::ReportIntermediateRequest&, v1::ReportIntermediateResponse*);
  Unary* Handle(Call*, const v1::TellRequest&, v1::TellResponse*);
  Unary* Handle(Call*, const v1::HeartbeatRequest&, v1::HeartbeatResponse*);
  Unary* Handle(Call*, const v1::EnqueueTrialRequest&, v1::EnqueueTrialResponse*);
  Unary* Handle(Call*, const v1::SetTrialUserAttrRequest&, v1::SetTrialUserAttrResponse*);
  Unary* Handle(Call*, const v1::GetTrialRequest&, v1::GetTrialResponse*);
  Unary* Handle(Call*, const v1::ListTrialsRequest&, v1::ListTrialsResponse*);
  Unary* Handle(Call*, const v1::BackupDatabaseRequest&, v1::BackupDatabaseResponse*);

  StudyManager* const manager_;
  const std::optional<BackupDir> backup_dir_;
  const size_t watch_backlog_;
  RequestStats stats_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex access_mu_;
  std::shared_ptr<const AccessPolicy> access_ ABSL_GUARDED_BY(access_mu_);
  // Counts SetAccessPolicy calls, so open watches re-check their token only
  // after one.
  std::atomic<uint64_t> access_generation_{0};
  absl::Mutex calls_mu_;
  int calls_unanswered_ ABSL_GUARDED_BY(calls_mu_) = 0;
  absl::Mutex watch_mu_;
  int open_watches_ ABSL_GUARDED_BY(watch_mu_) = 0;  // stream threads still running
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
