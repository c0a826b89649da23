#include "common/search_space.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace parzen {
namespace {

// Ordered, so that SearchSpace keeps the file's parameter order.
using Json = nlohmann::ordered_json;

// A name as a JSON string literal, so that quotes and control characters in
// it cannot garble the message.
std::string Quote(const std::string& name) {
  return Json(name).dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::Status ParamError(const std::string& name, std::string_view what) {
  return absl::InvalidArgumentError("search space: parameter " + Quote(name) + ": " +
                                    std::string(what));
}

// {"<parent>": [<value>, ...]}: the values as the parent's choices are
// written (strings, numbers, booleans).
absl::StatusOr<Condition> ParseCondition(const Json& j) {
  if (!j.is_object() || j.size() != 1 || !j.begin().value().is_array() ||
      j.begin().value().empty()) {
    return absl::InvalidArgumentError(
        "condition must name one parent with its values, e.g. {\"optimizer\": [\"sgd\"]}");
  }
  Condition c;
  c.parent = j.begin().key();
  for (const Json& v : j.begin().value()) {
    if (v.is_boolean()) {
      c.values.push_back(v.get<bool>());
    } else if (v.is_number_integer()) {
      c.values.push_back(v.get<int64_t>());
    } else if (v.is_number()) {
      c.values.push_back(v.get<double>());
    } else if (v.is_string()) {
      c.values.push_back(v.get<std::string>());
    } else {
      return absl::InvalidArgumentError("condition values must be strings, numbers or booleans");
    }
  }
  return c;
}

absl::StatusOr<SearchSpace> ParseRoot(std::string_view json_text) {
  // nlohmann keeps the last of repeated keys without a word; a file that
  // names a parameter twice is almost certainly a mistake, so the parser
  // callback records top-level keys (depth 1) to catch it.
  std::set<std::string> seen;
  std::string duplicate;
  auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end(), on_event);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(std::string("search space is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        "search space must be a JSON object mapping parameter names to distributions, got " +
        std::string(root.type_name()));
  }
  if (root.empty()) return absl::InvalidArgumentError("search space is empty");
  if (!duplicate.empty()) return ParamError(duplicate, "listed more than once");

  SearchSpace space;
  space.reserve(root.size());
  for (auto [name, value] : root.items()) {
    if (absl::Status s = ValidateParamName(name); !s.ok()) {
      return ParamError(name, std::string(s.message()));
    }
    std::optional<Condition> condition;
    if (value.is_object() && value.contains("condition")) {
      absl::StatusOr<Condition> parsed = ParseCondition(value["condition"]);
      if (!parsed.ok()) return ParamError(name, std::string(parsed.status().message()));
      condition = *std::move(parsed);
      value.erase("condition");
    }
    // Re-serialising costs a second parse but keeps DistributionFromJson the
    // single definition of what a distribution may look like.
    absl::StatusOr<Distribution> d = DistributionFromJson(value.dump());
    if (!d.ok()) {
      // The prefix adds nothing once the message names the parameter.
      std::string msg(d.status().message());
      constexpr std::string_view kPrefix = "invalid distribution JSON: ";
      if (msg.starts_with(kPrefix)) msg.erase(0, kPrefix.size());
      return absl::Status(d.status().code(), ParamError(name, msg).message());
    }
    space.push_back({name, *std::move(d), std::move(condition)});
  }
  PARZEN_RETURN_IF_ERROR(ValidateConditions(space));
  return space;
}

}  // namespace

absl::StatusOr<SearchSpace> ParseSearchSpace(std::string_view json_text) {
  // nlohmann reports errors by throwing; nothing may cross this boundary.
  try {
    return ParseRoot(json_text);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(std::string("search space: ") + e.what());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("search space too large to parse");
  }
}

absl::StatusOr<SearchSpace> ReadSearchSpaceFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int err = errno;
    const std::string why = "cannot open search space file " + path + ": " + std::strerror(err);
    if (err == ENOENT) return absl::NotFoundError(why);
    return absl::InvalidArgumentError(why);
  }
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  // A directory opens fine on Linux; reading it is what fails.
  if (in.bad()) return absl::InvalidArgumentError("cannot read search space file " + path);
  absl::StatusOr<SearchSpace> space = ParseSearchSpace(text);
  if (!space.ok()) {
    return absl::Status(space.status().code(), path + ": " + std::string(space.status().message()));
  }
  return space;
}

std::string SearchSpaceToJson(const SearchSpace& space) {
  if (space.empty()) return "{}\n";
  std::string out = "{\n";
  for (size_t i = 0; i < space.size(); ++i) {
    std::string d = DistributionToJson(space[i].distribution);
    if (const auto& c = space[i].condition) {
      Json values = Json::array();
      for (const ParamValue& v : c->values) {
        std::visit([&](const auto& x) { values.push_back(x); }, v);
      }
      Json condition = Json::object();
      condition[c->parent] = values;
      d.pop_back();  // the closing brace
      d += ", \"condition\": " + condition.dump() + "}";
    }
    out += "  " + Quote(space[i].name) + ": " + d;
    out += i + 1 < space.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

absl::Status ValidateConditions(const SearchSpace& space) {
  for (size_t i = 0; i < space.size(); ++i) {
    const SearchSpaceEntry& e = space[i];
    if (!e.condition) continue;
    const SearchSpaceEntry* parent = nullptr;
    for (size_t j = 0; j < i; ++j) {
      if (space[j].name == e.condition->parent) parent = &space[j];
    }
    if (parent == nullptr) {
      return ParamError(e.name, "its condition's parent " + Quote(e.condition->parent) +
                                    " must be a parameter listed before it");
    }
    if (e.condition->values.empty()) return ParamError(e.name, "its condition has no values");
    for (const ParamValue& v : e.condition->values) {
      if (absl::StatusOr<double> in = ToInternal(parent->distribution, v); !in.ok()) {
        return ParamError(e.name, "its condition's value " + FormatValue(v) +
                                      " does not fit " + Quote(parent->name) + ": " +
                                      std::string(in.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

bool IsActive(const SearchSpaceEntry& entry, const SearchSpace& space,
              const std::map<std::string, double>& chosen) {
  if (!entry.condition) return true;
  auto it = chosen.find(entry.condition->parent);
  if (it == chosen.end()) return false;  // the parent itself is inactive
  for (const SearchSpaceEntry& parent : space) {
    if (parent.name != entry.condition->parent) continue;
    for (const ParamValue& v : entry.condition->values) {
      absl::StatusOr<double> in = ToInternal(parent.distribution, v);
      if (in.ok() && *in == it->second) return true;
    }
  }
  return false;
}

}  // namespace parzen
