// StudyConfig: everything fixed when a study is created, with its
// validation and its stored (JSON) form.
#ifndef PARZEN_SERVER_CORE_STUDY_CONFIG_H_
#define PARZEN_SERVER_CORE_STUDY_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "server/plugins/plugin_registry.h"

namespace parzen {

inline constexpr size_t kMaxStudyNameLength = 512;
inline constexpr double kMaxHeartbeatGraceSeconds = 30 * 24 * 3600;

struct StudyConfig {
  std::string name;
  std::vector<Direction> directions{Direction::kMinimize};
  AlgorithmSpec sampler;  // resolved by a SamplerRegistry
  AlgorithmSpec pruner;   // resolved by a PrunerRegistry
  int64_t max_trials = 0;                // 0: unlimited
  double heartbeat_grace_seconds = 0;    // 0: never reap
  int64_t max_retries = 0;               // re-enqueues of a reaped trial
  // key -> JSON text, the attributes a study is created with. They change
  // afterwards (SetStudyUserAttr) and then live in StudyRecord::user_attrs
  // alone: a running study's config leaves this empty, so there is no
  // second copy to fall out of date.
  std::map<std::string, std::string> user_attrs;
};

// InvalidArgument naming the field for: empty, too long or control-character
// names; no or too many directions; negative max_trials / max_retries;
// negative or non-finite grace; retries without a heartbeat grace period.
// (The sampler's and pruner's options were checked when they were resolved.)
absl::Status ValidateStudyConfig(const StudyConfig& config);

// The sampler, pruner and lifecycle settings as stored in the database.
std::string EncodeStudySettings(const StudyConfig& config);
// DataLoss for settings `samplers` or `pruners` cannot read back.
absl::Status DecodeStudySettings(const std::string& json, const AlgorithmCatalog& samplers,
                                 const AlgorithmCatalog& pruners, StudyConfig* config);

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_STUDY_CONFIG_H_
