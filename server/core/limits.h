// How much one request may put into a study, and the checks that hold
// every path to the same bounds. The bounds keep one client from making a
// study slow for everyone else, and a trial's size finite; they do not
// keep every trial under gRPC's default 4 MiB message (1024 attributes of
// 64 KiB pass), which is why ListTrials pages by bytes and our client
// reads up to 128 MiB.
#ifndef PARZEN_SERVER_CORE_LIMITS_H_
#define PARZEN_SERVER_CORE_LIMITS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/distribution.h"

namespace parzen {

inline constexpr size_t kMaxUserAttrKeyLength = 512;
inline constexpr size_t kMaxUserAttrValueBytes = 64 * 1024;  // as JSON text
inline constexpr size_t kMaxUserAttrs = 1024;                // per study, per trial
inline constexpr size_t kMaxParamsPerTrial = 1024;           // search space, Suggest, Enqueue
inline constexpr size_t kMaxIntermediateValues = 100'000;    // steps reported per trial
inline constexpr size_t kMaxFailReasonLength = 4096;
inline constexpr size_t kMaxChoicesBytes = 64 * 1024;         // a categorical's choices

// INVALID_ARGUMENT, calling the text `what`, when it holds a character a
// name may not (common/client_text.h: controls, line separators, invisible
// or bidirectional format characters): such a name could forge lines or
// hide its true spelling in logs and listings.
absl::Status CheckShowable(std::string_view what, std::string_view text);

// INVALID_ARGUMENT for categorical choices that add up to more than 64 KiB
// (8 bytes per number or bool): the distribution is stored with every trial.
absl::Status CheckChoicesSize(const Distribution& d);

// INVALID_ARGUMENT unless the key is 1-512 bytes without control
// characters (ValidateUserAttrKey) and the value at most 64 KiB as JSON.
absl::Status ValidateUserAttrKey(std::string_view key);
absl::Status ValidateUserAttr(std::string_view key, std::string_view value_json);

// The above for each entry, and at most kMaxUserAttrs of them.
absl::Status ValidateUserAttrs(const std::map<std::string, std::string>& attrs);

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_LIMITS_H_
