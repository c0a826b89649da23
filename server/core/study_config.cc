#include "server/core/study_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "server/core/limits.h"

namespace parzen {

absl::Status ValidateStudyConfig(const StudyConfig& c) {
  if (c.name.empty()) return absl::InvalidArgumentError("study name must not be empty");
  if (c.name.size() > kMaxStudyNameLength) {
    return absl::InvalidArgumentError("study name is " + std::to_string(c.name.size()) +
                                      " bytes; the limit is " +
                                      std::to_string(kMaxStudyNameLength));
  }
  PARZEN_RETURN_IF_ERROR(CheckShowable("study name", c.name));
  if (c.directions.empty() || c.directions.size() > 16) {
    return absl::InvalidArgumentError("a study needs between 1 and 16 directions");
  }
  if (c.max_trials < 0) {
    return absl::InvalidArgumentError("max_trials must be >= 0 (0 means unlimited), got " +
                                      std::to_string(c.max_trials));
  }
  if (c.max_retries < 0) {
    return absl::InvalidArgumentError("max_retries must be >= 0, got " +
                                      std::to_string(c.max_retries));
  }
  if (!std::isfinite(c.heartbeat_grace_seconds) || c.heartbeat_grace_seconds < 0 ||
      c.heartbeat_grace_seconds > kMaxHeartbeatGraceSeconds) {
    return absl::InvalidArgumentError(
        "heartbeat_grace_seconds must lie between 0 (no reaping) and 2592000 (30 days)");
  }
  if (c.max_retries > 0 && c.heartbeat_grace_seconds == 0) {
    return absl::InvalidArgumentError(
        "max_retries needs heartbeat_grace_seconds > 0: only reaped trials are retried");
  }
  if (absl::Status s = ValidateUserAttrs(c.user_attrs); !s.ok()) {
    return absl::InvalidArgumentError("study " + std::string(s.message()));
  }
  return absl::OkStatus();
}

std::string EncodeStudySettings(const StudyConfig& c) {
  nlohmann::json j;
  j["sampler"] = nlohmann::json::parse(AlgorithmCatalog::ToJson(c.sampler));
  j["pruner"] = nlohmann::json::parse(AlgorithmCatalog::ToJson(c.pruner));
  j["max_trials"] = c.max_trials;
  j["heartbeat_grace_seconds"] = c.heartbeat_grace_seconds;
  j["max_retries"] = c.max_retries;
  return j.dump();
}

absl::Status DecodeStudySettings(const std::string& text, const AlgorithmCatalog& samplers,
                                 const AlgorithmCatalog& pruners, StudyConfig* c) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("sampler") || !j.contains("pruner")) {
    return absl::DataLossError("study settings are not valid: " + text);
  }
  PARZEN_ASSIGN_OR_RETURN(c->sampler, samplers.FromJson(j["sampler"].dump()));
  PARZEN_ASSIGN_OR_RETURN(c->pruner, pruners.FromJson(j["pruner"].dump()));
  try {
    c->max_trials = j.at("max_trials").get<int64_t>();
    c->heartbeat_grace_seconds = j.at("heartbeat_grace_seconds").get<double>();
    c->max_retries = j.at("max_retries").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(std::string("study settings are not valid: ") + e.what());
  }
  return absl::OkStatus();
}

}  // namespace parzen
