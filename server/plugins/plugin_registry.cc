#include "server/plugins/plugin_registry.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "common/algorithm_args.h"

namespace parzen {

AlgorithmCatalog::AlgorithmCatalog(std::string kind, const google::protobuf::Descriptor* selection,
                                   DefaultName default_name)
    : kind_(std::move(kind)), selection_(selection), default_name_(std::move(default_name)) {}

std::vector<std::string> AlgorithmCatalog::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

absl::Status AlgorithmCatalog::AddEntry(const std::string& name, Entry entry) {
  if (entries_.contains(name)) {
    return absl::AlreadyExistsError(kind_ + " '" + name + "' is registered twice");
  }
  // The wire's field of that name must carry this algorithm's options, or
  // a typed selection would be read as another message.
  if (const auto* field = selection_->FindFieldByName(name);
      field != nullptr && field->message_type() != entry.options_type->GetDescriptor()) {
    return absl::InvalidArgumentError(kind_ + " '" + name + "' takes " +
                                      entry.options_type->GetDescriptor()->full_name() +
                                      ", but " + selection_->full_name() + "." + name + " is " +
                                      field->message_type()->full_name());
  }
  entries_.emplace(name, std::move(entry));
  return absl::OkStatus();
}

absl::StatusOr<const AlgorithmCatalog::Entry*> AlgorithmCatalog::Find(
    const std::string& name) const {
  auto it = entries_.find(name);
  if (it != entries_.end()) return &it->second;
  std::string known;
  for (const auto& [offered, entry] : entries_) known += (known.empty() ? "" : ", ") + offered;
  return absl::InvalidArgumentError(kind_ + ": unknown kind '" + name +
                                    "'; this server offers: " + known);
}

absl::StatusOr<AlgorithmSpec> AlgorithmCatalog::Complete(
    const std::string& name, const Entry& entry,
    std::unique_ptr<google::protobuf::Message> options, uint64_t seed, DefaultsFor whose) const {
  if (const auto* missing = MissingRequiredArg(*options)) {
    return absl::InvalidArgumentError(kind_ + ": " + name + " needs its " + missing->name() +
                                      " (" + missing->options().GetExtension(v1::arg_help) +
                                      ")");
  }
  PARZEN_RETURN_IF_ERROR(FillAlgorithmDefaults(*options, whose));
  if (absl::Status s = entry.validate(*options, seed); !s.ok()) {
    return absl::Status(s.code(), kind_ + " " + name + ": " + std::string(s.message()));
  }
  return AlgorithmSpec{name, std::move(options)};
}

absl::StatusOr<AlgorithmSpec> AlgorithmCatalog::Resolve(const google::protobuf::Message& selection,
                                                        uint64_t seed, size_t n_objectives) const {
  PARZEN_ASSIGN_OR_RETURN(AlgorithmSelection chosen, SelectedAlgorithm(selection, kind_));
  const std::string name = chosen.name.empty() && chosen.named == nullptr
                               ? default_name_(n_objectives)
                               : chosen.name;
  PARZEN_ASSIGN_OR_RETURN(const Entry* entry, Find(name));
  std::unique_ptr<google::protobuf::Message> options(entry->options_type->New());
  if (chosen.typed != nullptr) {
    options->CopyFrom(*chosen.typed);  // AddEntry made sure the types match
  } else if (chosen.named != nullptr) {
    const std::map<std::string, std::string> args(chosen.named->args().begin(),
                                                  chosen.named->args().end());
    if (absl::Status s = SetAlgorithmArgs(args, name + " " + kind_, *options); !s.ok()) {
      return absl::InvalidArgumentError(kind_ + ": " + std::string(s.message()));
    }
  }
  return Complete(name, *entry, std::move(options), seed, DefaultsFor::kNewStudy);
}

void AlgorithmCatalog::ToSelection(const AlgorithmSpec& spec,
                                   google::protobuf::Message& selection) const {
  SelectAlgorithm(spec.name, *spec.options, selection);
}

std::string AlgorithmCatalog::ToJson(const AlgorithmSpec& spec) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string options;
  // Cannot fail for a message with no Any fields.
  (void)google::protobuf::util::MessageToJsonString(*spec.options, &options, print);
  nlohmann::json j = nlohmann::json::parse(options);
  j["kind"] = spec.name;
  return j.dump();
}

absl::StatusOr<AlgorithmSpec> AlgorithmCatalog::FromJson(const std::string& text) const {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
    return absl::DataLossError(kind_ + " settings are not valid: " + text);
  }
  const std::string name = j["kind"].get<std::string>();
  j.erase("kind");
  absl::StatusOr<const Entry*> entry = Find(name);
  if (!entry.ok()) return absl::DataLossError(std::string(entry.status().message()));
  std::unique_ptr<google::protobuf::Message> options((*entry)->options_type->New());
  google::protobuf::util::JsonParseOptions parse;
  // Earlier releases stored fields that are not options any more (a median
  // pruner's percentile, always 50).
  parse.ignore_unknown_fields = true;
  if (auto s = google::protobuf::util::JsonStringToMessage(j.dump(), options.get(), parse);
      !s.ok()) {
    return absl::DataLossError(kind_ + " '" + name + "' settings are not valid: " +
                               std::string(s.message()));
  }
  // An argument the storing release did not write takes what it used.
  absl::StatusOr<AlgorithmSpec> spec =
      Complete(name, **entry, std::move(options), 0, DefaultsFor::kStoredStudy);
  if (!spec.ok()) return absl::DataLossError(std::string(spec.status().message()));
  return spec;
}

void AbortRegistering(const absl::Status& status) {
  std::fprintf(stderr, "registering a built-in algorithm: %s\n", status.ToString().c_str());
  std::abort();
}

}  // namespace parzen
