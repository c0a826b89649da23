// Report: one self-contained HTML page about a study, for `parzen report`:
// optimization history with the best so far, intermediate values per
// trial, parallel coordinates, contours of the most important pairs,
// slices, parameter importances, the empirical distribution of values, a
// timeline of trials per worker, the Pareto front of a multi-objective
// study, and the trials table. plotly.js and the page's own script are
// embedded, so the file opens offline in any browser. Plots that would
// choke on a large study draw a sample and say so on the plot.
#ifndef PARZEN_CLI_REPORT_REPORT_H_
#define PARZEN_CLI_REPORT_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/frozen_trial.h"
#include "common/status.h"

namespace parzen::cli {

struct ReportStudy {
  std::string name;
  std::vector<Direction> directions;
  std::vector<FrozenTrial> trials;  // in number order
};

// What the page draws, as it embeds it: the study, each parameter's
// distribution, the trials column by column, the importances and the
// contour pairs (the most important parameters, two by two).
nlohmann::json ReportData(const ReportStudy& study, int64_t generated_us);

// One trial as the page's columns hold it (number, state, values, params
// by name, start, complete, worker, intermediate), for the dashboard's
// live updates; and one parameter's entry in "params".
nlohmann::json ReportTrialRow(const FrozenTrial& trial);
nlohmann::json ReportParamJson(const std::string& name, const Distribution& distribution);

// The page. Unavailable when this build has no plotly.js to embed
// (scripts/fetch-plotly.sh, then build again).
absl::StatusOr<std::string> ReportHtml(const ReportStudy& study, int64_t generated_us);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_REPORT_REPORT_H_
