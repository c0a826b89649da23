// The CLI's --json forms, for scripts: one JSON document per command, with
// Optuna's field names where Optuna has them (number, state, values,
// params, user_attrs, intermediate_values, datetime_start,
// datetime_complete). Values JSON cannot hold (NaN, inf) print as null.
#ifndef PARZEN_CLI_JSON_OUTPUT_H_
#define PARZEN_CLI_JSON_OUTPUT_H_

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/frozen_trial.h"
#include "client/study.h"

namespace parzen::cli {

nlohmann::json TrialJson(const FrozenTrial& trial);
nlohmann::json StudyListingJson(const client::StudyListing& study);
nlohmann::json CountsJson(const client::StudyCounts& counts);
// Attributes stored as JSON text, as one object.
nlohmann::json UserAttrsJson(const std::map<std::string, std::string>& attrs);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_JSON_OUTPUT_H_
