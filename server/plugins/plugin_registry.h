// PluginRegistry: the algorithms of one kind (samplers or pruners) a server
// offers, by name. Each registers once: its name, its options message
// (parzen/v1/algorithms.proto, which also carries its help, defaults and
// required arguments), the checks on its options and its factory. The
// service, the stored study settings and the core ask the registry;
// nothing else switches on an algorithm's kind. Built at start-up, then
// only read: thread-safe for reads.
#ifndef PARZEN_SERVER_PLUGINS_PLUGIN_REGISTRY_H_
#define PARZEN_SERVER_PLUGINS_PLUGIN_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include "common/algorithm_args.h"
#include "common/status.h"

namespace parzen {

// An algorithm chosen for a study, with complete options (every default
// filled in, a seed drawn): what a study stores, so it can be replayed.
struct AlgorithmSpec {
  std::string name;
  std::shared_ptr<const google::protobuf::Message> options;
};

// Checks options whose defaults are filled in and sets what depends on
// the new study: `seed` is a fresh random number for options that leave
// their seed unset. InvalidArgument naming the argument.
using ValidateOptions = std::function<absl::Status(google::protobuf::Message& options, uint64_t seed)>;

// The part of a registry that does not depend on the algorithms' interface.
class AlgorithmCatalog {
 public:
  // The algorithm a selection that names none gets, for a study of this
  // many objectives.
  using DefaultName = std::function<std::string(size_t n_objectives)>;
  // `kind`: "sampler" or "pruner", for messages. `selection`: the wire
  // message naming one (v1::SamplerConfig).
  AlgorithmCatalog(std::string kind, const google::protobuf::Descriptor* selection,
                   DefaultName default_name);
  AlgorithmCatalog(std::string kind, const google::protobuf::Descriptor* selection,
                   std::string default_name)
      : AlgorithmCatalog(std::move(kind), selection,
                         [default_name](size_t) { return default_name; }) {}

  const std::string& kind() const { return kind_; }
  std::vector<std::string> Names() const;

  // The algorithm `selection` names, its options checked and completed.
  // InvalidArgument ("pruner: ...") for an unknown name or a bad argument.
  absl::StatusOr<AlgorithmSpec> Resolve(const google::protobuf::Message& selection, uint64_t seed,
                                        size_t n_objectives = 1) const;
  // Fills `selection` to name `spec`: by its own field where the wire lists
  // one, else by name with text arguments.
  void ToSelection(const AlgorithmSpec& spec, google::protobuf::Message& selection) const;

  // The stored form: a JSON object with "kind" and the options' fields
  // (protobuf's JSON mapping, field names as in the .proto).
  static std::string ToJson(const AlgorithmSpec& spec);
  // DataLoss for text this server cannot read back, naming the algorithm.
  absl::StatusOr<AlgorithmSpec> FromJson(const std::string& json) const;

 protected:
  struct Entry {
    const google::protobuf::Message* options_type;  // a default instance
    ValidateOptions validate;
  };
  // AlreadyExists for a name taken; InvalidArgument when the wire lists
  // `name` with options of another type.
  absl::Status AddEntry(const std::string& name, Entry entry);

 private:
  absl::StatusOr<const Entry*> Find(const std::string& name) const;
  absl::StatusOr<AlgorithmSpec> Complete(const std::string& name, const Entry& entry,
                                         std::unique_ptr<google::protobuf::Message> options,
                                         uint64_t seed, DefaultsFor whose) const;

  const std::string kind_;
  const google::protobuf::Descriptor* const selection_;
  const DefaultName default_name_;
  std::map<std::string, Entry> entries_;
};

// One algorithm's registration.
template <typename Algorithm>
struct Plugin {
  std::string name;
  const google::protobuf::Message* options_type;  // e.g. &v1::RandomSamplerConfig::default_instance()
  ValidateOptions validate;
  // Builds the algorithm from options that passed `validate`.
  std::function<std::unique_ptr<Algorithm>(const google::protobuf::Message& options)> make;
};

// A registration from typed functions: `validate(Options&, seed)` and
// `make(const Options&)`.
template <typename Algorithm, typename Options, typename Validate, typename Make>
Plugin<Algorithm> MakePlugin(std::string name, Validate validate, Make make) {
  return Plugin<Algorithm>{
      .name = std::move(name),
      .options_type = &Options::default_instance(),
      .validate = [validate](google::protobuf::Message& options, uint64_t seed) {
        return validate(static_cast<Options&>(options), seed);
      },
      .make = [make](const google::protobuf::Message& options) -> std::unique_ptr<Algorithm> {
        return make(static_cast<const Options&>(options));
      }};
}

template <typename Algorithm>
class PluginRegistry final : public AlgorithmCatalog {
 public:
  using AlgorithmCatalog::AlgorithmCatalog;

  // See AddEntry.
  absl::Status Add(Plugin<Algorithm> plugin) {
    PARZEN_RETURN_IF_ERROR(AddEntry(plugin.name, {plugin.options_type, plugin.validate}));
    factories_[plugin.name] = std::move(plugin.make);
    return absl::OkStatus();
  }

  // InvalidArgument for a name not registered.
  absl::StatusOr<std::unique_ptr<Algorithm>> Make(const AlgorithmSpec& spec) const {
    auto it = factories_.find(spec.name);
    if (it == factories_.end()) {
      return absl::InvalidArgumentError(kind() + " '" + spec.name + "' is not offered here");
    }
    return it->second(*spec.options);
  }

 private:
  std::map<std::string, std::function<std::unique_ptr<Algorithm>(const google::protobuf::Message&)>>
      factories_;
};

[[noreturn]] void AbortRegistering(const absl::Status& status);

// Add() for the algorithms a server ships: a failure is a programming
// error (two of the same name, a type the wire does not match), so it
// aborts with the reason.
template <typename Algorithm>
void AddBuiltin(PluginRegistry<Algorithm>& registry, Plugin<Algorithm> plugin) {
  if (absl::Status s = registry.Add(std::move(plugin)); !s.ok()) AbortRegistering(s);
}

}  // namespace parzen

#endif  // PARZEN_SERVER_PLUGINS_PLUGIN_REGISTRY_H_
