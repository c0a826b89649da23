#include "tests/testing/in_process_server.h"

#include "server/storage/sqlite_storage.h"

namespace parzen::testing {

absl::StatusOr<std::unique_ptr<InProcessServer>> InProcessServer::Start(
    const std::string& db_path, Algorithms algorithms) {
  std::unique_ptr<InProcessServer> s(new InProcessServer());
  PARZEN_ASSIGN_OR_RETURN(auto storage, OpenSqliteStorage(db_path));
  PARZEN_ASSIGN_OR_RETURN(s->manager_,
                          StudyManager::Open(std::move(storage), &s->clock_, std::move(algorithms)));
  s->service_ = std::make_unique<StudyServiceImpl>(s->manager_.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(s->service_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || port == 0) return absl::UnavailableError("cannot listen on loopback");
  s->address_ = "127.0.0.1:" + std::to_string(port);
  return s;
}

InProcessServer::~InProcessServer() {
  if (!server_) return;
  service_->BeginShutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
}

std::unique_ptr<v1::StudyService::Stub> InProcessServer::NewStub() const {
  return v1::StudyService::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
}

}  // namespace parzen::testing
