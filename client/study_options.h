// Study-creation options, in one place for every tool: StudyOptions for
// programs (Client::CreateStudy), and the command-line flags of
// `parzen create` and `parzen-worker` (StudyFlags), which fill the same
// struct, so both tools create the same study from the same flags.
#ifndef PARZEN_CLIENT_STUDY_OPTIONS_H_
#define PARZEN_CLIENT_STUDY_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/status.h"
#include "common/types.h"
#include "parzen/v1/study_service.pb.h"

namespace parzen::client {

struct StudyOptions {
  std::string name{};
  std::vector<Direction> directions{Direction::kMinimize};
  v1::SamplerConfig sampler{};  // unset: the server's default
  v1::PrunerConfig pruner{};    // unset: median with Optuna's defaults
  int64_t max_trials = 0;       // 0: unlimited
  // A trial whose worker vanished is failed after this long without a
  // heartbeat (0: never) and run again up to max_retries times. The
  // client's Trial beats on its own, so only lost workers lose trials.
  double heartbeat_grace_seconds = 60;
  int64_t max_retries = 1;
  bool load_if_exists = false;

  // Retries only happen to reaped trials: none without a grace period.
  v1::CreateStudyRequest ToRequest() const;
};

// The flags' text, parsed by CreateStudyRequestFrom.
struct StudyFlags {
  StudyOptions options;  // the numbers are set directly
  // "minimize" or "maximize", one per objective; empty: the tool's default.
  std::vector<std::string> directions;
  // Empty: the server's default, Optuna's: tpe for one objective, nsga2
  // for several.
  std::string sampler;
  std::string pruner = "median";
  // A JSON CreateStudyRequest used instead of every flag above.
  std::string config_file;
};

// The flags that set `flags` (it must outlive `app`'s parsing):
// --direction (once per objective), --sampler, --pruner, --max-trials,
// --heartbeat-grace, --max-retries, and `config_flag` (the file), which
// excludes the others.
void AddStudyFlags(CLI::App& app, StudyFlags& flags, const std::string& config_flag);

// The study-creation flags given on the command line, not defaulted.
std::vector<std::string> StudyFlagsGiven(const CLI::App& app, const std::string& config_flag);

// The request the flags describe: the config file's (as written, name and
// load_if_exists included) or the flags'. A sampler or pruner this build
// does not list is passed to the server by name, which may offer it.
absl::StatusOr<v1::CreateStudyRequest> CreateStudyRequestFrom(const StudyFlags& flags);

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_STUDY_OPTIONS_H_
