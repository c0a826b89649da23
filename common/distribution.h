// Parameter distributions with Optuna's semantics: validation, the internal
// (double) representation samplers work in, compatibility across a study,
// and Optuna's JSON form. Plain values; thread-compatible.
#ifndef PARZEN_COMMON_DISTRIBUTION_H_
#define PARZEN_COMMON_DISTRIBUTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/utf8.h"

namespace parzen {

// A parameter value as the user sees it (Optuna's external representation).
using ParamValue = std::variant<double, int64_t, std::string, bool>;

struct FloatDistribution {
  double low = 0;
  double high = 0;
  bool log = false;
  std::optional<double> step;  // nullopt: continuous
  friend bool operator==(const FloatDistribution&, const FloatDistribution&) = default;
};

struct IntDistribution {
  int64_t low = 0;
  int64_t high = 0;
  bool log = false;
  int64_t step = 1;
  friend bool operator==(const IntDistribution&, const IntDistribution&) = default;
};

struct CategoricalDistribution {
  std::vector<ParamValue> choices;
  friend bool operator==(const CategoricalDistribution&, const CategoricalDistribution&) = default;
};

using Distribution = std::variant<FloatDistribution, IntDistribution, CategoricalDistribution>;

// Parameters travel as doubles (Optuna's internal representation), which
// hold integers exactly only up to 2^53: no integer beyond it is accepted.
inline constexpr int64_t kMaxExactInt = int64_t{1} << 53;

// Longest accepted parameter name, in bytes.
inline constexpr size_t kMaxParamNameLength = 512;

// Validates `d` as Optuna's constructors do and returns it normalised:
// a stepped range's `high` is snapped down to low + k*step. InvalidArgument
// (message names the offending field) for NaN/inf bounds, low > high,
// log with low <= 0 (float) or low < 1 (int), log with a step, a step that
// is not positive, empty or duplicate categorical choices.
absl::StatusOr<Distribution> ValidateDistribution(Distribution d);

// InvalidArgument unless `name` is non-empty, at most kMaxParamNameLength
// bytes and free of control characters.
absl::Status ValidateParamName(std::string_view name);

// True when the distribution has exactly one value (Optuna returns it
// without sampling).
bool IsSingle(const Distribution& d);

// True when `internal` is a value the distribution can produce.
bool Contains(const Distribution& d, double internal);

// Internal representation of an external value: the number itself for
// float/int, the choice index for categoricals. InvalidArgument when the
// value's type does not fit or a categorical value is not a choice.
// Numeric values outside [low, high] are accepted (Optuna warns only).
absl::StatusOr<double> ToInternal(const Distribution& d, const ParamValue& value);

// External value of an internal representation. REQUIRES: for
// categoricals, `internal` is a valid index.
ParamValue ToExternal(const Distribution& d, double internal);

// Optuna's check_distribution_compatibility: same kind, same log flag,
// identical choices for categoricals. Ranges and steps may differ.
// InvalidArgument explaining the mismatch otherwise.
absl::Status CheckCompatible(const Distribution& stored, const Distribution& requested);

// Byte-identical to Optuna's distribution_to_json.
std::string DistributionToJson(const Distribution& d);

// Parses Optuna's JSON form, its legacy class names (UniformDistribution,
// LogUniformDistribution, DiscreteUniformDistribution, IntUniformDistribution,
// IntLogUniformDistribution) and the abbreviated {"type": ...} form. The
// result is validated.
absl::StatusOr<Distribution> DistributionFromJson(std::string_view json);

// Human-readable value for messages and logs: 0.01, 16, "adam", true.
std::string FormatValue(const ParamValue& v);
std::string FormatDistribution(const Distribution& d);

}  // namespace parzen

#endif  // PARZEN_COMMON_DISTRIBUTION_H_
