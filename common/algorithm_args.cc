#include "common/algorithm_args.h"

#include <cctype>
#include <charconv>
#include <limits>

#include <absl/strings/str_cat.h>
#include <google/protobuf/util/json_util.h>

namespace parzen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsNamedSelection(const FieldDescriptor& field) {
  return field.message_type() == v1::NamedAlgorithmConfig::descriptor();
}

// The fields an options message takes from a spec string: scalars as
// text, lists, maps and messages as JSON (protobuf's JSON mapping).
bool IsScalarArg(const FieldDescriptor& field) {
  return !field.is_repeated() && field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
}

bool IsSet(const FieldDescriptor& field, const Message& m) {
  const Reflection& r = *m.GetReflection();
  if (field.is_repeated()) return r.FieldSize(m, &field) > 0;
  return field.has_presence() ? r.HasField(m, &field) : true;
}

// Sets a list, map or message field from the JSON of its value; false if
// the text is not that.
bool SetFromJson(const FieldDescriptor& field, const std::string& text, Message& m) {
  std::unique_ptr<Message> parsed(m.New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string json = "{\"" + field.json_name() + "\":" + text + "}";
  if (!google::protobuf::util::JsonStringToMessage(json, parsed.get(), options).ok()) return false;
  m.GetReflection()->ClearField(&m, &field);
  m.MergeFrom(*parsed);
  return true;
}

std::string JsonText(const FieldDescriptor& field, const Message& m) {
  std::unique_ptr<Message> only(m.New());
  const Reflection& r = *m.GetReflection();
  // A copy holding just this field, printed, then unwrapped.
  only->CopyFrom(m);
  for (int i = 0; i < m.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* other = m.GetDescriptor()->field(i);
    if (other != &field) r.ClearField(only.get(), other);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*only, &json, options).ok()) return "";
  const std::string prefix = "{\"" + field.name() + "\":";
  if (json.size() < prefix.size() + 1 || json.compare(0, prefix.size(), prefix) != 0) return "";
  return json.substr(prefix.size(), json.size() - prefix.size() - 1);
}

template <typename T>
bool ParseWhole(const std::string& text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// What a value of `field` must look like, for messages.
std::string Expected(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: return "true or false";
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: return "an integer";
    case FieldDescriptor::CPPTYPE_UINT32: return "an integer from 0 to 2^32-1";
    case FieldDescriptor::CPPTYPE_UINT64: return "an integer from 0 to 2^64-1";
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: return "a number";
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::string names;
      for (int i = 0; i < field.enum_type()->value_count(); ++i) {
        names += (i ? ", " : "") + field.enum_type()->value(i)->name();
      }
      return "one of " + names;
    }
    default: return "text";
  }
}

// Sets one scalar field from its text; false when the text does not fit.
bool SetFromText(const FieldDescriptor& field, const std::string& text, Message& m) {
  const Reflection& r = *m.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (text != "true" && text != "false") return false;
      r.SetBool(&m, &field, text == "true");
      return true;
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!ParseWhole(text, v)) return false;
      r.SetInt32(&m, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!ParseWhole(text, v)) return false;
      r.SetInt64(&m, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!ParseWhole(text, v)) return false;
      r.SetUInt32(&m, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!ParseWhole(text, v)) return false;
      r.SetUInt64(&m, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v;
      if (!ParseWhole(text, v)) return false;
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        r.SetFloat(&m, &field, static_cast<float>(v));
      } else {
        r.SetDouble(&m, &field, v);
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = field.enum_type()->FindValueByName(text);
      if (value == nullptr) return false;
      r.SetEnum(&m, &field, value);
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      r.SetString(&m, &field, text);
      return true;
    default:
      return false;
  }
}

template <typename T>
std::string NumberText(T v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string ValueText(const FieldDescriptor& field, const Message& m) {
  const Reflection& r = *m.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: return r.GetBool(m, &field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32: return NumberText(r.GetInt32(m, &field));
    case FieldDescriptor::CPPTYPE_INT64: return NumberText(r.GetInt64(m, &field));
    case FieldDescriptor::CPPTYPE_UINT32: return NumberText(r.GetUInt32(m, &field));
    case FieldDescriptor::CPPTYPE_UINT64: return NumberText(r.GetUInt64(m, &field));
    case FieldDescriptor::CPPTYPE_FLOAT: return NumberText(r.GetFloat(m, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE: return NumberText(r.GetDouble(m, &field));
    case FieldDescriptor::CPPTYPE_ENUM: return r.GetEnum(m, &field)->name();
    case FieldDescriptor::CPPTYPE_STRING: return r.GetString(m, &field);
    default: return "";
  }
}

// The placeholder a required argument shows in a syntax line: its initial.
std::string Placeholder(const FieldDescriptor& field) {
  if (!IsScalarArg(field)) return "JSON";
  return std::string(1, static_cast<char>(std::toupper(field.name()[0])));
}

// The first comma outside JSON brackets and strings: a JSON argument's
// own commas do not end it.
size_t NextTopLevelComma(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

absl::StatusOr<AlgorithmSpecText> SplitAlgorithmSpec(std::string_view text,
                                                     std::string_view what) {
  AlgorithmSpecText spec;
  const size_t colon = text.find(':');
  spec.name = std::string(text.substr(0, colon));
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const size_t comma = NextTopLevelComma(rest);
    const std::string_view item = rest.substr(0, comma);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(std::string(what) + " \"" + std::string(text) +
                                        "\": expected name=value, got \"" + std::string(item) +
                                        "\"");
    }
    spec.args[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return spec;
}

absl::Status SetAlgorithmArgs(const std::map<std::string, std::string>& args,
                              std::string_view label, Message& options) {
  const Descriptor& d = *options.GetDescriptor();
  for (const auto& [key, value] : args) {
    const FieldDescriptor* field = d.FindFieldByName(key);
    if (field == nullptr) {
      if (d.field_count() == 0) {
        return absl::InvalidArgumentError("the " + std::string(label) + " takes no arguments");
      }
      std::string known;
      for (int i = 0; i < d.field_count(); ++i) {
        known += (known.empty() ? "" : ", ") + d.field(i)->name();
      }
      return absl::InvalidArgumentError("unknown " + std::string(label) + " argument \"" + key +
                                        "\" (expected " + known + ")");
    }
    if (!IsScalarArg(*field)) {
      if (!SetFromJson(*field, value, options)) {
        return absl::InvalidArgumentError("\"" + key + "\" must be JSON of its type (" +
                                          std::string(field->is_map() ? "an object" :
                                                      field->is_repeated() ? "a list" : "an object") +
                                          "), got '" + value + "'");
      }
      continue;
    }
    if (!SetFromText(*field, value, options)) {
      return absl::InvalidArgumentError("\"" + key + "\" must be " + Expected(*field) +
                                        ", got \"" + value + "\"");
    }
  }
  return absl::OkStatus();
}

const FieldDescriptor* MissingRequiredArg(const Message& options) {
  const Descriptor& d = *options.GetDescriptor();
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (f->options().GetExtension(v1::arg_required) && !IsSet(*f, options)) return f;
  }
  return nullptr;
}

absl::Status FillAlgorithmDefaults(Message& options, DefaultsFor whose) {
  const Descriptor& d = *options.GetDescriptor();
  const Reflection& r = *options.GetReflection();
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    const bool stored = whose == DefaultsFor::kStoredStudy &&
                        !f->options().GetExtension(v1::arg_stored_default).empty();
    const std::string& text = f->options().GetExtension(stored ? v1::arg_stored_default
                                                                : v1::arg_default);
    if (text.empty() || !f->has_presence() || r.HasField(options, f)) continue;
    if (!SetFromText(*f, text, options)) {
      return absl::InternalError(d.full_name() + "." + f->name() + ": " +
                                 (stored ? "arg_stored_default" : "arg_default") + " \"" + text +
                                 "\" is not " + Expected(*f));
    }
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> AlgorithmArgs(const Message& options) {
  std::map<std::string, std::string> out;
  const Descriptor& d = *options.GetDescriptor();
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (!IsSet(*f, options)) continue;
    out[f->name()] = IsScalarArg(*f) ? ValueText(*f, options) : JsonText(*f, options);
  }
  return out;
}

std::string FormatAlgorithmSpec(const Message& selection) {
  absl::StatusOr<AlgorithmSelection> selected = SelectedAlgorithm(selection, "algorithm");
  if (!selected.ok() || selected->name.empty()) return "(none)";
  const std::map<std::string, std::string> args =
      selected->typed != nullptr ? AlgorithmArgs(*selected->typed)
                                 : std::map<std::string, std::string>(
                                       selected->named->args().begin(), selected->named->args().end());
  std::string spec = selected->name;
  const char* separator = ":";
  for (const auto& [key, value] : args) {
    absl::StrAppend(&spec, separator, key, "=", value);
    separator = ",";
  }
  return spec;
}

std::string AlgorithmSyntax(std::string_view name, const Descriptor& options) {
  std::string required, optional;
  for (int i = 0; i < options.field_count(); ++i) {
    const FieldDescriptor* f = options.field(i);
    if (f->options().GetExtension(v1::arg_required)) {
      required += (required.empty() ? ":" : ",") + f->name() + "=" + Placeholder(*f);
      continue;
    }
    const std::string& def = f->options().GetExtension(v1::arg_default);
    optional += (optional.empty() ? "" : ",") + f->name() + "=" + (def.empty() ? "..." : def);
  }
  std::string out = std::string(name) + required;
  if (!optional.empty()) out += "[" + std::string(required.empty() ? ":" : ",") + optional + "]";
  return out;
}

std::string AlgorithmSyntaxes(const Descriptor& selection) {
  std::string out;
  for (const std::string& name : ListedAlgorithms(selection)) {
    const FieldDescriptor* f = selection.FindFieldByName(name);
    out += (out.empty() ? "" : " | ") + AlgorithmSyntax(name, *f->message_type());
  }
  return out;
}

absl::StatusOr<AlgorithmSelection> SelectedAlgorithm(const Message& selection,
                                                     std::string_view what) {
  const Descriptor& d = *selection.GetDescriptor();
  const Reflection& r = *selection.GetReflection();
  AlgorithmSelection out;
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (!r.HasField(selection, f)) continue;
    const Message& options = r.GetMessage(selection, f);
    if (IsNamedSelection(*f)) {
      out.named = static_cast<const v1::NamedAlgorithmConfig*>(&options);
      out.name = out.named->name();
    } else {
      out.typed = &options;
      out.name = f->name();
    }
    return out;
  }
  // A kind this build does not know (from a newer client) arrives as an
  // unknown field: refuse it rather than quietly use the default.
  if (!r.GetUnknownFields(selection).empty()) {
    std::string known;
    for (const std::string& name : ListedAlgorithms(d)) known += (known.empty() ? "" : ", ") + name;
    return absl::InvalidArgumentError(std::string(what) +
                                      ": unknown kind (from a newer client?); this server knows: " +
                                      known);
  }
  return out;
}

const FieldDescriptor* ListedAlgorithmField(const Descriptor& selection, std::string_view name,
                                            const Descriptor* options) {
  const FieldDescriptor* f = selection.FindFieldByName(std::string(name));
  if (f == nullptr || f->message_type() == nullptr || IsNamedSelection(*f)) return nullptr;
  if (options != nullptr && f->message_type() != options) return nullptr;
  return f;
}

std::vector<std::string> ListedAlgorithms(const Descriptor& selection) {
  std::vector<std::string> out;
  for (int i = 0; i < selection.field_count(); ++i) {
    const FieldDescriptor* f = selection.field(i);
    if (f->message_type() != nullptr && !IsNamedSelection(*f)) out.push_back(f->name());
  }
  return out;
}

void SelectAlgorithm(std::string_view name, const Message& options, Message& selection) {
  const Reflection& r = *selection.GetReflection();
  if (const FieldDescriptor* f =
          ListedAlgorithmField(*selection.GetDescriptor(), name, options.GetDescriptor())) {
    r.MutableMessage(&selection, f)->CopyFrom(options);
    return;
  }
  v1::NamedAlgorithmConfig* out = MutableNamedSelection(selection);
  out->set_name(std::string(name));
  for (const auto& [key, value] : AlgorithmArgs(options)) (*out->mutable_args())[key] = value;
}

v1::NamedAlgorithmConfig* MutableNamedSelection(Message& selection) {
  const Descriptor& d = *selection.GetDescriptor();
  for (int i = 0; i < d.field_count(); ++i) {
    if (IsNamedSelection(*d.field(i))) {
      return static_cast<v1::NamedAlgorithmConfig*>(
          selection.GetReflection()->MutableMessage(&selection, d.field(i)));
    }
  }
  return nullptr;  // every selection in algorithms.proto has one
}

}  // namespace parzen
