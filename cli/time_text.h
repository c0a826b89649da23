// Times as the CLI prints them, in UTC: ISO 8601 for --json
// ("2026-12-03T20:20:55.740937Z"), pandas' Timestamp form for the trials
// table ("2026-12-03 20:20:55.740937").
#ifndef PARZEN_CLI_TIME_TEXT_H_
#define PARZEN_CLI_TIME_TEXT_H_

#include <cstdint>
#include <string>

namespace parzen::cli {

// `us`: microseconds since the Unix epoch; `separator` between date and
// time; `suffix` after the microseconds.
std::string UtcMicrosText(int64_t us, char separator, const char* suffix = "");

}  // namespace parzen::cli

#endif  // PARZEN_CLI_TIME_TEXT_H_
