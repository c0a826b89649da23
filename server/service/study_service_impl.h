// The gRPC face of the study server: validates and converts each request,
// calls the StudyManager, converts the answer back. No domain logic here.
#ifndef PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
#define PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_

#include <atomic>

#include "parzen/v1/study_service.grpc.pb.h"
#include "server/core/study_manager.h"

namespace parzen {

// Thread-safe; `manager` must outlive it. Uses gRPC's synchronous API: a
// handler may block on a group commit, which only parks its own thread.
class StudyServiceImpl final : public v1::StudyService::Service {
 public:
  explicit StudyServiceImpl(StudyManager* manager) : manager_(manager) {}

  // Ends open WatchStudy streams so the server can shut down.
  void BeginShutdown() { stopping_ = true; }

  grpc::Status CreateStudy(grpc::ServerContext*, const v1::CreateStudyRequest*,
                           v1::CreateStudyResponse*) override;
  grpc::Status GetStudy(grpc::ServerContext*, const v1::GetStudyRequest*,
                        v1::GetStudyResponse*) override;
  grpc::Status ListStudies(grpc::ServerContext*, const v1::ListStudiesRequest*,
                           v1::ListStudiesResponse*) override;
  grpc::Status DeleteStudy(grpc::ServerContext*, const v1::DeleteStudyRequest*,
                           v1::DeleteStudyResponse*) override;
  grpc::Status Ask(grpc::ServerContext*, const v1::AskRequest*, v1::AskResponse*) override;
  grpc::Status Suggest(grpc::ServerContext*, const v1::SuggestRequest*,
                       v1::SuggestResponse*) override;
  grpc::Status ReportIntermediate(grpc::ServerContext*, const v1::ReportIntermediateRequest*,
                                  v1::ReportIntermediateResponse*) override;
  grpc::Status Tell(grpc::ServerContext*, const v1::TellRequest*, v1::TellResponse*) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse*) override;
  grpc::Status EnqueueTrial(grpc::ServerContext*, const v1::EnqueueTrialRequest*,
                            v1::EnqueueTrialResponse*) override;
  grpc::Status SetTrialUserAttr(grpc::ServerContext*, const v1::SetTrialUserAttrRequest*,
                                v1::SetTrialUserAttrResponse*) override;
  grpc::Status GetTrial(grpc::ServerContext*, const v1::GetTrialRequest*,
                        v1::GetTrialResponse*) override;
  grpc::Status ListTrials(grpc::ServerContext*, const v1::ListTrialsRequest*,
                          v1::ListTrialsResponse*) override;
  grpc::Status WatchStudy(grpc::ServerContext*, const v1::WatchStudyRequest*,
                          grpc::ServerWriter<v1::WatchStudyResponse>*) override;

 private:
  StudyManager* const manager_;
  std::atomic<bool> stopping_{false};
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_STUDY_SERVICE_IMPL_H_
