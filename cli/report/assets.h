// The files a report embeds and the dashboard serves, built into the
// binary (assets.cc): plotly.js and its licence, fetched by
// scripts/fetch-plotly.sh, and the pages' own scripts and style from
// cli/report/ and cli/dashboard/.
#ifndef PARZEN_CLI_REPORT_ASSETS_H_
#define PARZEN_CLI_REPORT_ASSETS_H_

#include <string_view>

namespace parzen::cli::assets {

// Empty when the build had no plotly.js.
std::string_view PlotlyJs();
std::string_view PlotlyLicense();
inline constexpr std::string_view kPlotlyVersion = "2.35.3";
std::string_view ReportJs();
std::string_view ReportCss();
// The dashboard's pages' script (cli/dashboard/dashboard.js).
std::string_view DashboardJs();

}  // namespace parzen::cli::assets

#endif  // PARZEN_CLI_REPORT_ASSETS_H_
