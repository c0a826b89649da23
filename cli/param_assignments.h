// ParseParamAssignments: the NAME=VALUE words of `parzen enqueue`, read the
// way a person types them: VALUE is a JSON scalar when it parses as one
// (64 an integer, 0.01 a float, true a bool, "64" a string) and otherwise
// the text itself (adam), so quoting is needed only for a string that
// looks like a number.
#ifndef PARZEN_CLI_PARAM_ASSIGNMENTS_H_
#define PARZEN_CLI_PARAM_ASSIGNMENTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/distribution.h"

namespace parzen::cli {

// INVALID_ARGUMENT naming the word for a missing '=', an empty name, a
// name given twice, a JSON null, array or object, or malformed UTF-8.
absl::StatusOr<std::map<std::string, ParamValue>> ParseParamAssignments(
    const std::vector<std::string>& words);

// The KEY=VALUE words of `parzen set-attr`, read the same way except that
// any JSON value is taken (null, [1,2], {"a":1}): each as JSON text, in the
// order given. INVALID_ARGUMENT for a missing '=', an empty key, a key
// given twice or malformed UTF-8.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseAttrAssignments(
    const std::vector<std::string>& words);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_PARAM_ASSIGNMENTS_H_
