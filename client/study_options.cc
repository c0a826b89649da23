#include "client/study_options.h"

#include "client/study_config.h"
#include "common/proto_convert.h"

namespace parzen::client {
namespace {

const char* const kStudyFlags[] = {"--sampler",         "--pruner",      "--max-trials",
                                   "--heartbeat-grace", "--max-retries", "--direction"};

}  // namespace

v1::CreateStudyRequest StudyOptions::ToRequest() const {
  v1::CreateStudyRequest request;
  request.set_name(name);
  for (Direction d : directions) request.add_directions(ToProto(d));
  *request.mutable_sampler() = sampler;
  *request.mutable_pruner() = pruner;
  request.set_max_trials(max_trials);
  request.set_heartbeat_grace_seconds(heartbeat_grace_seconds);
  request.set_max_retries(heartbeat_grace_seconds > 0 ? max_retries : 0);
  request.set_load_if_exists(load_if_exists);
  return request;
}

void AddStudyFlags(CLI::App& app, StudyFlags& flags, const std::string& config_flag) {
  StudyOptions& options = flags.options;
  app.add_option("--direction", flags.directions, "minimize or maximize; once per objective")
      ->check(CLI::IsMember({"minimize", "maximize"}));
  app.add_option("--sampler", flags.sampler,
                 SamplerSpecHelp() + " (default: tpe for one objective, nsga2 for several)");
  app.add_option("--pruner", flags.pruner,
                 PrunerSpecHelp() + " (Optuna's arguments, e.g. "
                                    "median:n_startup_trials=2,n_warmup_steps=1)")
      ->capture_default_str();
  app.add_option("--max-trials", options.max_trials, "the study's budget of trials (0: unlimited)")
      ->capture_default_str();
  app.add_option("--heartbeat-grace", options.heartbeat_grace_seconds,
                 "seconds without a heartbeat before the server fails a trial (0: never)")
      ->capture_default_str();
  app.add_option("--max-retries", options.max_retries,
                 "re-runs of a trial whose heartbeat was lost (none without a grace period)")
      ->capture_default_str();
  CLI::Option* config = app.add_option(
      config_flag, flags.config_file,
      "a JSON CreateStudyRequest, e.g. {\"directions\": [\"MAXIMIZE\"], \"maxTrials\": 50}, "
      "instead of the flags above");
  for (const char* flag : kStudyFlags) config->excludes(app.get_option(flag));
}

std::vector<std::string> StudyFlagsGiven(const CLI::App& app, const std::string& config_flag) {
  std::vector<std::string> given;
  for (const char* flag : kStudyFlags) {
    if (app.count(flag) > 0) given.push_back(flag);
  }
  if (app.count(config_flag) > 0) given.push_back(config_flag);
  return given;
}

absl::StatusOr<v1::CreateStudyRequest> CreateStudyRequestFrom(const StudyFlags& flags) {
  if (!flags.config_file.empty()) return ReadStudyConfigFile(flags.config_file);
  StudyOptions options = flags.options;
  if (!flags.directions.empty()) options.directions.clear();
  for (const std::string& d : flags.directions) {
    options.directions.push_back(d == "maximize" ? Direction::kMaximize : Direction::kMinimize);
  }
  if (!flags.sampler.empty()) {
    PARZEN_ASSIGN_OR_RETURN(options.sampler,
                            ParseSamplerSpec(flags.sampler, UnknownAlgorithm::kAskTheServer));
  }
  PARZEN_ASSIGN_OR_RETURN(options.pruner,
                          ParsePrunerSpec(flags.pruner, UnknownAlgorithm::kAskTheServer));
  return options.ToRequest();
}

}  // namespace parzen::client
