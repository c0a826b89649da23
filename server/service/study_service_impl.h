// The gRPC face of the study server: validates and converts each request,
// calls the core's use case (server/core/ops/) on the study the
// StudyManager finds, converts the answer back. No domain logic here.
#ifndef PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
#define PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "parzen/v1/study_service.grpc.pb.h"
#include "server/service/backup_dir.h"
#include "server/core/study_manager.h"
#include "server/service/request_stats.h"

namespace parzen {

// Thread-safe; `manager` must outlive it. Uses gRPC's callback API and
// never blocks a gRPC thread: a write's reply is filled at once and the RPC
// finishes from the storage committer when the change is durable; a
// WatchStudy stream waits for events on a thread of its own.
class StudyServiceImpl final : public v1::StudyService::CallbackService {
 public:
  struct Options {
    // When non-empty, required of every call (see common/access_token.h);
    // the health and reflection services stay open.
    std::string access_token;
    // Where BackupDatabase writes; none: backups are refused.
    std::optional<BackupDir> backup_dir;
    // How many events a WatchStudy stream may fall behind before it is
    // ended (RESOURCE_EXHAUSTED: watch again), bounding its memory.
    size_t watch_backlog = 10000;
  };
  // (Two constructors, not a default argument: Options' member
  // initialisers are not usable until this class is complete.)
  explicit StudyServiceImpl(StudyManager* manager) : StudyServiceImpl(manager, Options()) {}
  StudyServiceImpl(StudyManager* manager, Options options)
      : manager_(manager),
        token_(std::move(options.access_token)),
        backup_dir_(std::move(options.backup_dir)),
        watch_backlog_(options.watch_backlog) {}
  ~StudyServiceImpl() override;

  // Per-RPC counts and latencies since the last call, as one log line.
  std::string TakeStatsSummary() { return stats_.TakeSummary(); }

  // Ends open WatchStudy streams and a backup under way so the server can
  // shut down.
  void BeginShutdown() {
    stopping_ = true;
    manager_->StopBackups();
  }

  using Ctx = grpc::CallbackServerContext;
  using Unary = grpc::ServerUnaryReactor;

  Unary* CreateStudy(Ctx*, const v1::CreateStudyRequest*, v1::CreateStudyResponse*) override;
  Unary* GetStudy(Ctx*, const v1::GetStudyRequest*, v1::GetStudyResponse*) override;
  Unary* ListStudies(Ctx*, const v1::ListStudiesRequest*, v1::ListStudiesResponse*) override;
  Unary* DeleteStudy(Ctx*, const v1::DeleteStudyRequest*, v1::DeleteStudyResponse*) override;
  Unary* SetStudyUserAttr(Ctx*, const v1::SetStudyUserAttrRequest*,
                          v1::SetStudyUserAttrResponse*) override;
  Unary* Ask(Ctx*, const v1::AskRequest*, v1::AskResponse*) override;
  Unary* Suggest(Ctx*, const v1::SuggestRequest*, v1::SuggestResponse*) override;
  Unary* ReportIntermediate(Ctx*, const v1::ReportIntermediateRequest*,
                            v1::ReportIntermediateResponse*) override;
  Unary* Tell(Ctx*, const v1::TellRequest*, v1::TellResponse*) override;
  Unary* Heartbeat(Ctx*, const v1::HeartbeatRequest*, v1::HeartbeatResponse*) override;
  Unary* EnqueueTrial(Ctx*, const v1::EnqueueTrialRequest*, v1::EnqueueTrialResponse*) override;
  Unary* SetTrialUserAttr(Ctx*, const v1::SetTrialUserAttrRequest*,
                          v1::SetTrialUserAttrResponse*) override;
  Unary* GetTrial(Ctx*, const v1::GetTrialRequest*, v1::GetTrialResponse*) override;
  Unary* ListTrials(Ctx*, const v1::ListTrialsRequest*, v1::ListTrialsResponse*) override;
  grpc::ServerWriteReactor<v1::WatchStudyResponse>* WatchStudy(
      Ctx*, const v1::WatchStudyRequest*) override;
  Unary* BackupDatabase(Ctx*, const v1::BackupDatabaseRequest*,
                        v1::BackupDatabaseResponse*) override;

 private:
  // One unary call: its reactor, and its method and start for the
  // statistics; `authorized` is UNAUTHENTICATED unless the call carries
  // the access token (if any).
  struct Rpc {
    Unary* reactor;
    const char* method;
    RequestStats::Clock::time_point start;
    absl::Status authorized;
  };
  Rpc Begin(Ctx* ctx, const char* method) const;
  // Finishes the call with `status` now, or once `ticket` is durable (with
  // its status), and records its latency.
  Unary* Finish(const Rpc& rpc, const absl::Status& status);
  Unary* FinishWhenDurable(const Rpc& rpc, Storage::Ticket ticket);
  absl::Status Authorize(const Ctx& ctx) const;

  StudyManager* const manager_;
  const std::string token_;
  const std::optional<BackupDir> backup_dir_;
  const size_t watch_backlog_;
  RequestStats stats_;
  std::atomic<bool> stopping_{false};
  absl::Mutex watch_mu_;
  int open_watches_ ABSL_GUARDED_BY(watch_mu_) = 0;  // stream threads still running
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
