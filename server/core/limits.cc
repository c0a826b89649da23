#include "server/core/limits.h"

namespace parzen {

bool HasControlCharacters(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

absl::Status CheckChoicesSize(const Distribution& d) {
  const auto* categorical = std::get_if<CategoricalDistribution>(&d);
  if (categorical == nullptr) return absl::OkStatus();
  size_t bytes = 0;
  for (const ParamValue& choice : categorical->choices) {
    const auto* text = std::get_if<std::string>(&choice);
    bytes += text != nullptr ? text->size() : 8;
  }
  if (bytes > kMaxChoicesBytes) {
    return absl::InvalidArgumentError(
        "choices add up to " + std::to_string(bytes) +
        " bytes; the limit is 65536, as the distribution is stored with every trial");
  }
  return absl::OkStatus();
}

absl::Status ValidateUserAttr(std::string_view key, std::string_view value_json) {
  if (key.empty() || key.size() > kMaxUserAttrKeyLength) {
    return absl::InvalidArgumentError("user attribute keys must be 1-512 bytes, not " +
                                      std::to_string(key.size()));
  }
  if (HasControlCharacters(key)) {
    return absl::InvalidArgumentError("user attribute keys must not contain control characters");
  }
  if (value_json.size() > kMaxUserAttrValueBytes) {
    return absl::InvalidArgumentError("user attribute '" + std::string(key) + "' is " +
                                      std::to_string(value_json.size()) +
                                      " bytes as JSON; the limit is 65536");
  }
  return absl::OkStatus();
}

absl::Status ValidateUserAttrs(const std::map<std::string, std::string>& attrs) {
  if (attrs.size() > kMaxUserAttrs) {
    return absl::InvalidArgumentError(std::to_string(attrs.size()) +
                                      " user attributes; the limit is 1024");
  }
  for (const auto& [key, json] : attrs) {
    if (absl::Status s = ValidateUserAttr(key, json); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace parzen
