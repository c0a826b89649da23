// Process set-up shared by the daemons and tools: the log format and level,
// and the stop signals.
#ifndef PARZEN_COMMON_LOGGING_H_
#define PARZEN_COMMON_LOGGING_H_

#include <signal.h>

#include <string>
#include <string_view>
#include <vector>

namespace parzen {

// The level names the --log-level flags accept ("warning" = "warn").
const std::vector<std::string>& LogLevelNames();

// spdlog to stderr at `level`, one line per event with an ISO timestamp;
// `tag` (e.g. a worker id), when set, is on every line.
void SetUpLogging(std::string_view name, std::string_view level, std::string_view tag = "");

// Blocks SIGTERM and SIGINT in the calling thread and returns them. Call it
// before any thread starts: every thread inherits the mask, so only the
// one that sigwaits sees the signals and shutdown happens at a point of the
// program's choosing, never inside a handler.
sigset_t BlockStopSignals();

}  // namespace parzen

#endif  // PARZEN_COMMON_LOGGING_H_
