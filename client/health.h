#ifndef PARZEN_CLIENT_HEALTH_H_
#define PARZEN_CLIENT_HEALTH_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "client/tls.h"

namespace parzen::client {

// Asks the server's standard health service (grpc.health.v1.Health/Check,
// service "": the whole server) once, within `deadline`. It needs no access
// token, so a container's HEALTHCHECK or an orchestrator's probe can use it.
// True when the server answers SERVING, false when it answers anything else;
// UNAVAILABLE or DEADLINE_EXCEEDED, with gRPC's reason, when nothing answers.
// Over TLS when `tls` is set (under mutual TLS the probe too needs a
// client certificate).
absl::StatusOr<bool> IsServing(const std::string& address, std::chrono::milliseconds deadline,
                               const std::optional<TlsOptions>& tls = std::nullopt);

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_HEALTH_H_
