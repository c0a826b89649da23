// Text put into HTML by the report and the dashboard: names are the
// user's, so & < > " ' become entities.
#ifndef PARZEN_CLI_HTML_TEXT_H_
#define PARZEN_CLI_HTML_TEXT_H_

#include <string>

namespace parzen::cli {

std::string HtmlEscape(const std::string& text);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_HTML_TEXT_H_
