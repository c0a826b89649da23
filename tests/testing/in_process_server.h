// InProcessServer: the real StudyService, core and SQLite storage serving on
// a free loopback port inside the test's process, so a test can give it
// algorithms of its own (a plug-in registered from the test file) and
// still reach it over gRPC like any client, the CLI binary included.
#ifndef PARZEN_TESTS_TESTING_IN_PROCESS_SERVER_H_
#define PARZEN_TESTS_TESTING_IN_PROCESS_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/clock.h"
#include "parzen/v1/study_service.grpc.pb.h"
#include "server/core/algorithms.h"
#include "server/core/study_manager.h"
#include "server/service/study_service_impl.h"

namespace parzen::testing {

class InProcessServer {
 public:
  // Serves the database at `db_path` (created if missing).
  static absl::StatusOr<std::unique_ptr<InProcessServer>> Start(const std::string& db_path,
                                                                Algorithms algorithms);
  // Shuts the server down, ending calls still open.
  ~InProcessServer();

  const std::string& address() const { return address_; }
  std::unique_ptr<v1::StudyService::Stub> NewStub() const;

 private:
  InProcessServer() = default;

  RealClock clock_;
  std::unique_ptr<StudyManager> manager_;
  std::unique_ptr<StudyServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_IN_PROCESS_SERVER_H_
