#include "server/service/reply.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/grpc_status.h"

namespace parzen {

// Messages quote what clients sent: in the log they stay one line of
// bounded length, so a request cannot forge or flood log lines.
std::string LogText(const absl::Status& s) {
  constexpr size_t kMaxLogged = 1024;
  std::string out = absl::StatusCodeToString(s.code()) + ": ";
  for (unsigned char c : s.message().substr(0, kMaxLogged)) {
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.message().size() > kMaxLogged) {
    out += "... (" + std::to_string(s.message().size()) + " bytes)";
  }
  return out;
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
