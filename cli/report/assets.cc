#include "cli/report/assets.h"

// Each file is pulled in whole by the assembler (.incbin), so a 4.5 MB
// script costs no compile time; CMake passes the paths and makes this file
// depend on them.
#define PARZEN_ASSET(symbol, path)                                            \
  __asm__(".section .rodata\n"                                                \
          ".global " #symbol "\n"                                             \
          #symbol ":\n"                                                       \
          ".incbin \"" path "\"\n"                                            \
          ".global " #symbol "_end\n"                                         \
          #symbol "_end:\n"                                                   \
          ".previous\n");                                                     \
  extern "C" const char symbol[];                                             \
  extern "C" const char symbol##_end[];

PARZEN_ASSET(parzen_asset_report_js, PARZEN_REPORT_JS)
PARZEN_ASSET(parzen_asset_report_css, PARZEN_REPORT_CSS)
PARZEN_ASSET(parzen_asset_dashboard_js, PARZEN_DASHBOARD_JS)
#ifdef PARZEN_PLOTLY_JS
PARZEN_ASSET(parzen_asset_plotly_js, PARZEN_PLOTLY_JS)
PARZEN_ASSET(parzen_asset_plotly_license, PARZEN_PLOTLY_LICENSE)
#endif

namespace parzen::cli::assets {

std::string_view ReportJs() {
  return {parzen_asset_report_js,
          static_cast<size_t>(parzen_asset_report_js_end - parzen_asset_report_js)};
}

std::string_view ReportCss() {
  return {parzen_asset_report_css,
          static_cast<size_t>(parzen_asset_report_css_end - parzen_asset_report_css)};
}

std::string_view DashboardJs() {
  return {parzen_asset_dashboard_js,
          static_cast<size_t>(parzen_asset_dashboard_js_end - parzen_asset_dashboard_js)};
}

#ifdef PARZEN_PLOTLY_JS
std::string_view PlotlyJs() {
  return {parzen_asset_plotly_js,
          static_cast<size_t>(parzen_asset_plotly_js_end - parzen_asset_plotly_js)};
}
std::string_view PlotlyLicense() {
  return {parzen_asset_plotly_license,
          static_cast<size_t>(parzen_asset_plotly_license_end - parzen_asset_plotly_license)};
}
#else
std::string_view PlotlyJs() { return {}; }
std::string_view PlotlyLicense() { return {}; }
#endif

}  // namespace parzen::cli::assets
