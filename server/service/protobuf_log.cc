#include "server/service/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "common/client_text.h"

namespace parzen {

void RouteProtobufLogToSpdlog() {
  google::protobuf::SetLogHandler(+[](google::protobuf::LogLevel level, const char* file,
                                      int line, const std::string& message) {
    const spdlog::level::level_enum to = level == google::protobuf::LOGLEVEL_FATAL
                                             ? spdlog::level::critical
                                             : spdlog::level::debug;
    spdlog::log(to, "protobuf ({}:{}): {}", file, line, EscapeForLog(message, 1024));
  });
}

}  // namespace parzen
