#include "cli/param_assignments.h"

#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace parzen::cli {
namespace {

// NAME and VALUE of one word. The JSON library throws on malformed UTF-8
// and the server could not take it either, so it is refused here; the
// message names the word by position, since printing it would print the
// bytes.
absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& word,
                                                                    size_t position,
                                                                    std::string_view form) {
  if (!IsValidUtf8(word)) {
    return absl::InvalidArgumentError("argument " + std::to_string(position + 1) + " after the " +
                                      "study name is not valid UTF-8");
  }
  const size_t eq = word.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError("'" + word + "' is not " + std::string(form));
  }
  return std::pair(word.substr(0, eq), word.substr(eq + 1));
}

}  // namespace

absl::StatusOr<std::map<std::string, ParamValue>> ParseParamAssignments(
    const std::vector<std::string>& words) {
  std::map<std::string, ParamValue> params;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    PARZEN_ASSIGN_OR_RETURN(auto assignment, SplitAssignment(word, i, "NAME=VALUE"));
    const auto& [name, text] = assignment;
    ParamValue value = text;
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_boolean()) {
      value = json.get<bool>();
    } else if (json.is_number_integer()) {
      // Unsigned beyond int64 is not an integer a distribution can hold.
      if (json.is_number_unsigned() && json.get<uint64_t>() > INT64_MAX) {
        return absl::InvalidArgumentError("'" + word + "': integer out of range");
      }
      value = json.get<int64_t>();
    } else if (json.is_number_float()) {
      value = json.get<double>();
    } else if (json.is_string()) {
      value = json.get<std::string>();
    } else if (!json.is_discarded()) {
      return absl::InvalidArgumentError("'" + word +
                                        "': a parameter value is a number, a bool or a string");
    }
    if (!params.emplace(name, std::move(value)).second) {
      return absl::InvalidArgumentError("parameter '" + name + "' is given twice");
    }
  }
  return params;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseAttrAssignments(
    const std::vector<std::string>& words) {
  std::vector<std::pair<std::string, std::string>> attrs;
  for (size_t i = 0; i < words.size(); ++i) {
    PARZEN_ASSIGN_OR_RETURN(auto assignment, SplitAssignment(words[i], i, "KEY=VALUE"));
    const auto& [key, text] = assignment;
    for (const auto& [seen, json] : attrs) {
      if (seen == key) return absl::InvalidArgumentError("attribute '" + key + "' is given twice");
    }
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    attrs.emplace_back(key, json.is_discarded() ? nlohmann::json(text).dump() : json.dump());
  }
  return attrs;
}

}  // namespace parzen::cli
