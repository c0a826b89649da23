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
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  // A server still starting is waited for until the deadline rather than
  // failing at the first refused connection.
  context.set_wait_for_ready(true);
  grpc::Status status = stub->Check(&context, {}, &response);
  if (status.ok()) return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  // Waiting for a connection hides why none came up: the deadline's error
  // carries no cause. A call that does not wait fails at once on a channel
  // whose last attempt failed, with that attempt's reason ("Connection
  // refused", a TLS handshake's); the 1 s bounds it should an attempt be
  // under way just then.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      channel->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    grpc::ClientContext fail_fast;
    fail_fast.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::Status why = stub->Check(&fail_fast, {}, &response);
    if (why.ok()) return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    if (why.error_code() == grpc::StatusCode::UNAVAILABLE) {
      status = grpc::Status(status.error_code(), "no connection within the deadline: " +
                                                     why.error_message());
    }
  }
  const auto code = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                        ? absl::StatusCode::kDeadlineExceeded
                        : absl::StatusCode::kUnavailable;
  return absl::Status(code, address + ": " + status.error_message() +
                                TlsHint(status.error_message(), tls));
}

}  // namespace parzen::client
