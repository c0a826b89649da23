#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace parzen {

const std::vector<std::string>& LogLevelNames() {
  static const std::vector<std::string> names = {"trace", "debug",    "info", "warning",
                                                 "warn",  "error", "critical", "off"};
  return names;
}

void SetUpLogging(std::string_view name, std::string_view level, std::string_view tag) {
  spdlog::set_default_logger(spdlog::stderr_color_mt(std::string(name)));
  spdlog::set_level(spdlog::level::from_str(level == "warning" ? "warn" : std::string(level)));
  std::string pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ ";
  if (!tag.empty()) pattern += "[" + std::string(tag) + "] ";
  spdlog::set_pattern(pattern + "%v");
}

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace parzen
