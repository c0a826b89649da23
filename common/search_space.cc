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
  for (const auto& [name, value] : root.items()) {
    if (absl::Status s = ValidateParamName(name); !s.ok()) {
      return ParamError(name, std::string(s.message()));
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
    space.push_back({name, *std::move(d)});
  }
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
    out += "  " + Quote(space[i].name) + ": " + DistributionToJson(space[i].distribution);
    out += i + 1 < space.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

}  // namespace parzen
