#include "cli/param_assignments.h"

#include <nlohmann/json.hpp>

namespace parzen::cli {

absl::StatusOr<std::map<std::string, ParamValue>> ParseParamAssignments(
    const std::vector<std::string>& words) {
  std::map<std::string, ParamValue> params;
  for (const std::string& word : words) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError("'" + word + "' is not NAME=VALUE");
    }
    const std::string name = word.substr(0, eq);
    const std::string text = word.substr(eq + 1);
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
  for (const std::string& word : words) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError("'" + word + "' is not KEY=VALUE");
    }
    const std::string key = word.substr(0, eq);
    const std::string text = word.substr(eq + 1);
    for (const auto& [seen, json] : attrs) {
      if (seen == key) return absl::InvalidArgumentError("attribute '" + key + "' is given twice");
    }
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    attrs.emplace_back(key, json.is_discarded() ? nlohmann::json(text).dump() : json.dump());
  }
  return attrs;
}

}  // namespace parzen::cli
