#include "client/health.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "grpc/health/v1/health.grpc.pb.h"

namespace parzen::client {

absl::StatusOr<bool> IsServing(const std::string& address, std::chrono::milliseconds deadline,
                               const std::optional<TlsOptions>& tls) {
  grpc::ChannelArguments args;
  auto credentials = ChannelCredentials(tls, &args);
  auto channel = grpc::CreateCustomChannel(address, credentials, args);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  // A server still starting is waited for until the deadline rather than
  // failing at the first refused connection.
  context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) {
    const auto code = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                          ? absl::StatusCode::kDeadlineExceeded
                          : absl::StatusCode::kUnavailable;
    return absl::Status(code, address + ": " + status.error_message());
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace parzen::client
