#include "server/core/study_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "server/core/limits.h"

namespace parzen {
namespace {

const char* PrunerKindName(PrunerKind k) {
  switch (k) {
    case PrunerKind::kNop: return "nop";
    case PrunerKind::kMedian: return "median";
    case PrunerKind::kPercentile: return "percentile";
  }
  return "?";
}

}  // namespace

absl::Status ValidateStudyConfig(const StudyConfig& c) {
  if (c.name.empty()) return absl::InvalidArgumentError("study name must not be empty");
  if (c.name.size() > kMaxStudyNameLength) {
    return absl::InvalidArgumentError("study name is " + std::to_string(c.name.size()) +
                                      " bytes; the limit is " +
                                      std::to_string(kMaxStudyNameLength));
  }
  if (HasControlCharacters(c.name)) {
    return absl::InvalidArgumentError("study name must not contain control characters");
  }
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
  return MakePruner(c.pruner).status();
}

std::string EncodeStudySettings(const StudyConfig& c) {
  nlohmann::json j;
  j["sampler"] = {{"kind", "random"}, {"seed", c.sampler.seed.value_or(0)}};
  const PercentilePrunerOptions& o = c.pruner.options;
  j["pruner"] = {{"kind", PrunerKindName(c.pruner.kind)},
                 {"percentile", o.percentile},
                 {"n_startup_trials", o.n_startup_trials},
                 {"n_warmup_steps", o.n_warmup_steps},
                 {"interval_steps", o.interval_steps},
                 {"n_min_trials", o.n_min_trials}};
  j["max_trials"] = c.max_trials;
  j["heartbeat_grace_seconds"] = c.heartbeat_grace_seconds;
  j["max_retries"] = c.max_retries;
  return j.dump();
}

absl::Status DecodeStudySettings(const std::string& text, StudyConfig* c) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("sampler") || !j.contains("pruner")) {
    return absl::DataLossError("study settings are not valid: " + text);
  }
  try {
    c->sampler.kind = SamplerKind::kRandom;
    c->sampler.seed = j["sampler"].at("seed").get<uint64_t>();
    const nlohmann::json& p = j["pruner"];
    const std::string kind = p.at("kind").get<std::string>();
    if (kind == "nop") {
      c->pruner.kind = PrunerKind::kNop;
    } else if (kind == "median") {
      c->pruner.kind = PrunerKind::kMedian;
    } else if (kind == "percentile") {
      c->pruner.kind = PrunerKind::kPercentile;
    } else {
      return absl::DataLossError("unknown pruner '" + kind + "' in study settings");
    }
    c->pruner.options.percentile = p.at("percentile").get<double>();
    c->pruner.options.n_startup_trials = p.at("n_startup_trials").get<int64_t>();
    c->pruner.options.n_warmup_steps = p.at("n_warmup_steps").get<int64_t>();
    c->pruner.options.interval_steps = p.at("interval_steps").get<int64_t>();
    c->pruner.options.n_min_trials = p.at("n_min_trials").get<int64_t>();
    c->max_trials = j.at("max_trials").get<int64_t>();
    c->heartbeat_grace_seconds = j.at("heartbeat_grace_seconds").get<double>();
    c->max_retries = j.at("max_retries").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(std::string("study settings are not valid: ") + e.what());
  }
  return absl::OkStatus();
}

}  // namespace parzen
