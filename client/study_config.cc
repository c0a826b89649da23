#include "client/study_config.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "common/algorithm_args.h"

namespace parzen::client {
namespace {

// Fills `selection` (a SamplerConfig or PrunerConfig) from a spec string;
// `what` is "sampler" or "pruner".
absl::Status ParseAlgorithmSpec(std::string_view text, std::string_view what,
                                UnknownAlgorithm unknown, google::protobuf::Message& selection) {
  PARZEN_ASSIGN_OR_RETURN(AlgorithmSpecText spec, SplitAlgorithmSpec(text, what));
  const google::protobuf::FieldDescriptor* field =
      ListedAlgorithmField(*selection.GetDescriptor(), spec.name);
  if (field == nullptr) {
    if (unknown == UnknownAlgorithm::kAskTheServer && !spec.name.empty()) {
      v1::NamedAlgorithmConfig* named = MutableNamedSelection(selection);
      named->set_name(spec.name);
      named->mutable_args()->insert(spec.args.begin(), spec.args.end());
      return absl::OkStatus();
    }
    std::string known;
    for (const std::string& name : ListedAlgorithms(*selection.GetDescriptor())) {
      known += (known.empty() ? "" : ", ") + name;
    }
    return absl::InvalidArgumentError("unknown " + std::string(what) + " \"" + spec.name +
                                      "\" (expected " + known + ")");
  }
  google::protobuf::Message* options =
      selection.GetReflection()->MutableMessage(&selection, field);
  const std::string label = spec.name + " " + std::string(what);
  PARZEN_RETURN_IF_ERROR(SetAlgorithmArgs(spec.args, label, *options));
  if (const auto* missing = MissingRequiredArg(*options)) {
    return absl::InvalidArgumentError(
        "the " + label + " needs " + missing->name() + "=" +
        static_cast<char>(std::toupper(missing->name()[0])) + " (" +
        missing->options().GetExtension(v1::arg_help) + "), as in \"" +
        AlgorithmSyntax(spec.name, *options->GetDescriptor()) + "\"");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::PrunerConfig> ParsePrunerSpec(std::string_view text,
                                                 UnknownAlgorithm unknown) {
  v1::PrunerConfig config;
  PARZEN_RETURN_IF_ERROR(ParseAlgorithmSpec(text, "pruner", unknown, config));
  return config;
}

absl::StatusOr<v1::SamplerConfig> ParseSamplerSpec(std::string_view text,
                                                   UnknownAlgorithm unknown) {
  v1::SamplerConfig config;
  PARZEN_RETURN_IF_ERROR(ParseAlgorithmSpec(text, "sampler", unknown, config));
  return config;
}

std::string SamplerSpecHelp() { return AlgorithmSyntaxes(*v1::SamplerConfig::descriptor()); }
std::string PrunerSpecHelp() { return AlgorithmSyntaxes(*v1::PrunerConfig::descriptor()); }

absl::StatusOr<v1::CreateStudyRequest> ReadStudyConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read the study config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  v1::CreateStudyRequest request;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &request);
  if (!status.ok()) {
    return absl::InvalidArgumentError("study config file " + path + ": " +
                                      std::string(status.message()));
  }
  return request;
}

}  // namespace parzen::client
