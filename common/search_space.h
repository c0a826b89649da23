// Search spaces: parameter names with their distributions, in order, as an
// Ask names them or a file lists them (a JSON object, in file order). Plain
// values and free functions; thread-compatible.
#ifndef PARZEN_COMMON_SEARCH_SPACE_H_
#define PARZEN_COMMON_SEARCH_SPACE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/distribution.h"
#include "common/status.h"

namespace parzen {

// A parameter that exists only when another one, listed before it, took
// one of some values: `momentum` only when `optimizer` is "sgd".
struct Condition {
  std::string parent;
  std::vector<ParamValue> values;  // the parent's values (external) that enable it
  friend bool operator==(const Condition&, const Condition&) = default;
};

struct SearchSpaceEntry {
  std::string name;
  Distribution distribution;
  std::optional<Condition> condition = std::nullopt;
  friend bool operator==(const SearchSpaceEntry&, const SearchSpaceEntry&) = default;
};

// Entries in the order the request or the file lists them.
using SearchSpace = std::vector<SearchSpaceEntry>;

// InvalidArgument, naming the parameter, unless every condition names a
// parameter listed before it, has values, and each value fits the parent's
// distribution.
absl::Status ValidateConditions(const SearchSpace& space);

// Whether `entry` exists given the values (internal) chosen so far for the
// parameters before it: unconditional, or its parent chose an enabling
// value. REQUIRES: ValidateConditions(space) is OK; `chosen` holds the
// values of `space`'s entries by name.
bool IsActive(const SearchSpaceEntry& entry, const SearchSpace& space,
              const std::map<std::string, double>& chosen);

// Parses a JSON object {"<name>": <distribution>, ...}. A distribution
// object may add "condition": {"<parent>": [<value>, ...]}. Each distribution may
// take any form DistributionFromJson accepts (Optuna's, the legacy class
// names, or the abbreviated {"type": ...} form) and is validated and
// normalised as it does. InvalidArgument when the text is not JSON, is not
// an object, is empty, repeats a name, or a name or distribution is invalid;
// per-parameter messages name the parameter.
absl::StatusOr<SearchSpace> ParseSearchSpace(std::string_view json_text);

// ParseSearchSpace on the contents of the file at `path`. NotFound when the
// file does not exist, InvalidArgument when it cannot be read or parsed; the
// message includes `path`.
absl::StatusOr<SearchSpace> ReadSearchSpaceFile(const std::string& path);

// JSON object name -> Optuna's distribution JSON, one parameter per line and
// a trailing newline. ParseSearchSpace round-trips it for any non-empty
// `space` of valid distributions (an empty one gives "{}\n", which is
// rejected).
std::string SearchSpaceToJson(const SearchSpace& space);

}  // namespace parzen

#endif  // PARZEN_COMMON_SEARCH_SPACE_H_
