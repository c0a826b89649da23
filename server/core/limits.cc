#include "server/core/limits.h"

#include "common/client_text.h"

namespace parzen {

absl::Status CheckShowable(std::string_view what, std::string_view text) {
  const size_t at = FindUnshowable(text);
  if (at == std::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      std::string(what) + " must not contain control characters (byte " + std::to_string(at) +
      "; line separators and invisible or bidirectional format characters are refused too)");
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

absl::Status ValidateUserAttrKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxUserAttrKeyLength) {
    return absl::InvalidArgumentError("user attribute keys must be 1-512 bytes; this one is " +
                                      std::to_string(key.size()) + " bytes");
  }
  return CheckShowable("user attribute keys", key);
}

absl::Status ValidateUserAttr(std::string_view key, std::string_view value_json) {
  PARZEN_RETURN_IF_ERROR(ValidateUserAttrKey(key));
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
