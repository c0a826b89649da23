// Study settings from the command line and from files, for parzen-worker
// and the CLI: "median:n_startup_trials=2,n_warmup_steps=1" style sampler
// and pruner specs, and a study config file (a CreateStudyRequest in
// protobuf's JSON form).
#ifndef PARZEN_CLIENT_STUDY_CONFIG_H_
#define PARZEN_CLIENT_STUDY_CONFIG_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "parzen/v1/study_service.pb.h"

namespace parzen::client {

// What a spec parser does with a name this build's selections do not list.
enum class UnknownAlgorithm {
  kRefuse,        // InvalidArgument naming the ones it knows
  kAskTheServer,  // pass it on by name (NamedAlgorithmConfig): a server may offer more
};

// "nop", "median" or "percentile:percentile=25", each optionally followed
// by its arguments, which are the fields of its options message in
// parzen/v1/algorithms.proto (Optuna's names: n_startup_trials,
// n_warmup_steps, interval_steps, n_min_trials). Range checks are the
// server's; a required argument left out is refused here.
absl::StatusOr<v1::PrunerConfig> ParsePrunerSpec(
    std::string_view spec, UnknownAlgorithm unknown = UnknownAlgorithm::kRefuse);

// "random" or "random:seed=42".
absl::StatusOr<v1::SamplerConfig> ParseSamplerSpec(
    std::string_view spec, UnknownAlgorithm unknown = UnknownAlgorithm::kRefuse);

// The syntax of every sampler or pruner this build lists, for --help.
std::string SamplerSpecHelp();
std::string PrunerSpecHelp();

// For example {"name": "mnist", "directions": ["MAXIMIZE"], "maxTrials": 50,
// "pruner": {"median": {"nWarmupSteps": 1}}, "heartbeatGraceSeconds": 60}.
absl::StatusOr<v1::CreateStudyRequest> ReadStudyConfigFile(const std::string& path);

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_STUDY_CONFIG_H_
