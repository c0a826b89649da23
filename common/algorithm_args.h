// Algorithm options read through their own descriptions
// (parzen/v1/algorithms.proto): spec strings ("median:n_warmup_steps=1"),
// defaults, required arguments and help all come from the options messages'
// descriptors, so nothing here names an algorithm. Pure functions;
// thread-safe.
#ifndef PARZEN_COMMON_ALGORITHM_ARGS_H_
#define PARZEN_COMMON_ALGORITHM_ARGS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/status.h"
#include "parzen/v1/algorithms.pb.h"

namespace parzen {

// A spec string split up: "name" or "name:key=value,key=value". List, map
// and message arguments take JSON, whose commas inside brackets and
// strings do not split: 'grid:search_space={"x":[0,1],"y":["a","b"]}'.
struct AlgorithmSpecText {
  std::string name;
  std::map<std::string, std::string> args;
};

// InvalidArgument, quoting the spec, for an item that is not key=value.
// `what` ("sampler", "pruner") names the kind in messages.
absl::StatusOr<AlgorithmSpecText> SplitAlgorithmSpec(std::string_view text,
                                                     std::string_view what);

// Sets each argument on `options`, parsed by its field's type (JSON for a
// list, map or message). The name is
// checked before the value, so a misspelt name is what gets reported:
// InvalidArgument 'unknown median pruner argument "x" (expected ...)' or
// '"n" must be an integer, got "1.5"'. `label` is "median pruner".
absl::Status SetAlgorithmArgs(const std::map<std::string, std::string>& args,
                              std::string_view label, google::protobuf::Message& options);

// The first argument marked arg_required that `options` leaves unset, or
// nullptr.
const google::protobuf::FieldDescriptor* MissingRequiredArg(
    const google::protobuf::Message& options);

// Whose defaults: a study being created takes arg_default; a stored study
// read back takes arg_stored_default where an argument declares one (it
// was stored before the argument existed, or before its default changed).
enum class DefaultsFor { kNewStudy, kStoredStudy };

// Sets every unset argument that declares a default. Internal if a
// declared default does not parse (a mistake in the .proto).
absl::Status FillAlgorithmDefaults(google::protobuf::Message& options,
                                   DefaultsFor whose = DefaultsFor::kNewStudy);

// Every set argument as text, as a spec string writes it.
std::map<std::string, std::string> AlgorithmArgs(const google::protobuf::Message& options);

// "median[:n_startup_trials=5,n_warmup_steps=0,...]": the spec syntax with
// each default, required arguments outside the brackets
// ("percentile:percentile=P[,...]").
std::string AlgorithmSyntax(std::string_view name, const google::protobuf::Descriptor& options);

// The syntax of every algorithm a selection (v1::SamplerConfig,
// v1::PrunerConfig) lists, joined by " | ", for a flag's help.
std::string AlgorithmSyntaxes(const google::protobuf::Descriptor& selection);

// What a selection message names: an algorithm by its own field (`typed`
// holds the options) or by name (`named`); `name` is empty when nothing is
// set. InvalidArgument "<what>: unknown kind (from a newer client?)" when
// the oneof holds a field this build cannot read.
struct AlgorithmSelection {
  std::string name;
  const google::protobuf::Message* typed = nullptr;
  const v1::NamedAlgorithmConfig* named = nullptr;
};
absl::StatusOr<AlgorithmSelection> SelectedAlgorithm(const google::protobuf::Message& selection,
                                                     std::string_view what);

// The spec string SplitAlgorithmSpec reads back: "tpe:n_startup_trials=10,seed=7",
// every set argument in name order; the bare name without arguments, and
// "(none)" when nothing is selected or the selection cannot be read.
std::string FormatAlgorithmSpec(const google::protobuf::Message& selection);

// The field of `selection`'s oneof that names algorithm `name` with options
// of type `options`, or nullptr when it lists no such algorithm.
const google::protobuf::FieldDescriptor* ListedAlgorithmField(
    const google::protobuf::Descriptor& selection, std::string_view name,
    const google::protobuf::Descriptor* options = nullptr);

// The algorithm names a selection lists by their own fields.
std::vector<std::string> ListedAlgorithms(const google::protobuf::Descriptor& selection);

// Makes `selection` name `name` with `options`: by its own field when the
// selection lists one of that name and type, else as `named` with the
// options as text.
void SelectAlgorithm(std::string_view name, const google::protobuf::Message& options,
                     google::protobuf::Message& selection);

// The `named` field of a selection, set (empty) and returned.
v1::NamedAlgorithmConfig* MutableNamedSelection(google::protobuf::Message& selection);

}  // namespace parzen

#endif  // PARZEN_COMMON_ALGORITHM_ARGS_H_
