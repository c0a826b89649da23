// The service's answers: failures logged once, here at the boundary, with
// client text escaped and bounded, then converted to a gRPC status.
#ifndef PARZEN_SERVER_SERVICE_REPLY_H_
#define PARZEN_SERVER_SERVICE_REPLY_H_

#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace parzen {

// "CODE: message", one line of at most about 1 KiB: control characters
// escaped, so a request cannot forge or flood log lines.
std::string LogText(const absl::Status& s);

// Logs a failure of `method` at a level that matches its code and returns
// the gRPC status for it.
grpc::Status Reply(const char* method, const absl::Status& s);

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_REPLY_H_
