// ParseFlags: CLI11's parse with the exit codes our programs promise.
#ifndef PARZEN_COMMON_PARSE_FLAGS_H_
#define PARZEN_COMMON_PARSE_FLAGS_H_

#include <optional>

#include <CLI/CLI.hpp>

namespace parzen {

// The exit code bad usage gets in every Parzen program.
inline constexpr int kExitUsage = 2;

// Parses `argv` into `app`. nullopt: go on. Otherwise the program should
// exit with the code returned: 0 after --help or --version (printed),
// kExitUsage for bad flags (the message printed). CLI11's own codes
// (106-109) would mean nothing to a script, and the systemd units'
// RestartPreventExitStatus=2 relies on 2.
inline std::optional<int> ParseFlags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  return std::nullopt;
}

}  // namespace parzen

#endif  // PARZEN_COMMON_PARSE_FLAGS_H_
