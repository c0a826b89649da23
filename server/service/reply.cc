#include "server/service/reply.h"

#include <spdlog/spdlog.h>

#include "common/client_text.h"
#include "common/grpc_status.h"

namespace parzen {

// Messages quote what clients sent: in the log they stay one line of
// bounded length, so a request cannot forge or flood log lines.
std::string LogText(const absl::Status& s) {
  return absl::StatusCodeToString(s.code()) + ": " + EscapeForLog(std::string(s.message()), 1024);
}

// Logs failures once, here at the boundary, and converts them.
grpc::Status Reply(const char* method, const absl::Status& s) {
  if (!s.ok()) {
    const bool expected = s.code() == absl::StatusCode::kOutOfRange;
    if (expected) {
      spdlog::debug("{}: {}", method, LogText(s));
    } else if (s.code() == absl::StatusCode::kInternal ||
               s.code() == absl::StatusCode::kDataLoss ||
               s.code() == absl::StatusCode::kUnavailable) {
      spdlog::error("{}: {}", method, LogText(s));
    } else {
      spdlog::info("{} rejected: {}", method, LogText(s));
    }
  }
  return ToGrpcStatus(s);
}

}  // namespace parzen
