#include "server/service/library_log.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include "common/client_text.h"

namespace parzen {

void RouteLibraryLogsToSpdlog() {
  google::protobuf::SetLogHandler(+[](google::protobuf::LogLevel level, const char* file,
                                      int line, const std::string& message) {
    const spdlog::level::level_enum to = level == google::protobuf::LOGLEVEL_FATAL
                                             ? spdlog::level::critical
                                             : spdlog::level::debug;
    spdlog::log(to, "protobuf ({}:{}): {}", file, line, EscapeForLog(message, 1024));
  });
  gpr_set_log_function(+[](gpr_log_func_args* args) {
    const spdlog::level::level_enum to = args->severity == GPR_LOG_SEVERITY_ERROR
                                             ? spdlog::level::warn
                                             : spdlog::level::debug;
    spdlog::log(to, "grpc: {}", EscapeForLog(args->message, 1024));
  });
}

}  // namespace parzen
