#include "cli/report/report.h"

#include <cmath>
#include <ctime>
#include <map>

#include "cli/html_text.h"
#include "cli/report/assets.h"
#include "cli/report/importance.h"

namespace parzen::cli {
namespace {

nlohmann::json ValueJson(const ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json DistributionJson(const std::string& name, const Distribution& d) {
  nlohmann::json out = {{"name", name}};
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    out["type"] = "float";
    out["low"] = f->low;
    out["high"] = f->high;
    out["log"] = f->log;
  } else if (const auto* i = std::get_if<IntDistribution>(&d)) {
    out["type"] = "int";
    out["low"] = i->low;
    out["high"] = i->high;
    out["log"] = i->log;
  } else {
    out["type"] = "categorical";
    out["log"] = false;
    nlohmann::json choices = nlohmann::json::array();
    for (const ParamValue& c : std::get<CategoricalDistribution>(d).choices) {
      choices.push_back(ValueJson(c));
    }
    out["choices"] = std::move(choices);
  }
  return out;
}

std::string UtcText(int64_t us) {
  const auto seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return buf;
}

// JSON to put inside <script>: every "<" written as \u003c (the same
// string to JSON.parse), so no name can close the element or open an
// HTML comment that would swallow the rest of the page.
std::string ScriptSafeJson(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

// Text to put inside an HTML comment.
std::string CommentSafe(std::string text) {
  for (size_t at = 0; (at = text.find("--", at)) != std::string::npos;) text.replace(at, 2, "- -");
  return text;
}

}  // namespace

nlohmann::json ReportParamJson(const std::string& name, const Distribution& d) {
  return DistributionJson(name, d);
}

nlohmann::json ReportTrialRow(const FrozenTrial& t) {
  nlohmann::json values;
  if (!t.values.empty()) {
    values = nlohmann::json::array();
    for (double x : t.values) values.push_back(Number(x));
  }
  nlohmann::json intermediate;
  if (!t.intermediate_values.empty()) {
    nlohmann::json steps = nlohmann::json::array(), reported = nlohmann::json::array();
    for (const auto& [step, value] : t.intermediate_values) {
      steps.push_back(step);
      reported.push_back(Number(value));
    }
    intermediate = {std::move(steps), std::move(reported)};
  }
  nlohmann::json params = nlohmann::json::object();
  for (const TrialParam& p : t.params) {
    params[p.name] = ValueJson(ToExternal(p.distribution, p.internal_value));
  }
  return {
      {"number", t.number},
      {"state", TrialStateName(t.state)},
      {"values", std::move(values)},
      {"params", std::move(params)},
      {"start", t.start_time_us ? nlohmann::json(t.start_time_us / 1e6) : nlohmann::json()},
      {"complete", t.complete_time_us ? nlohmann::json(t.complete_time_us / 1e6) : nlohmann::json()},
      {"worker", t.worker_id},
      {"intermediate", std::move(intermediate)},
  };
}

nlohmann::json ReportData(const ReportStudy& study, int64_t generated_us) {
  // Each parameter as the first trial that holds it holds it.
  std::map<std::string, Distribution> distributions;
  for (const FrozenTrial& t : study.trials) {
    for (const TrialParam& p : t.params) distributions.try_emplace(p.name, p.distribution);
  }
  nlohmann::json params = nlohmann::json::array();
  for (const auto& [name, d] : distributions) params.push_back(DistributionJson(name, d));

  // Column by column, as the page reads them.
  nlohmann::json columns = nlohmann::json::object();
  for (const char* key : {"number", "state", "values", "start", "complete", "worker", "intermediate"}) {
    columns[key] = nlohmann::json::array();
  }
  nlohmann::json param_columns = nlohmann::json::object();
  for (const auto& [name, d] : distributions) param_columns[name] = nlohmann::json::array();
  for (const FrozenTrial& t : study.trials) {
    nlohmann::json row = ReportTrialRow(t);
    for (auto& [key, column] : columns.items()) column.push_back(std::move(row[key]));
    for (auto& [name, column] : param_columns.items()) {
      auto it = row["params"].find(name);
      column.push_back(it == row["params"].end() ? nlohmann::json() : std::move(*it));
    }
  }
  columns["params"] = std::move(param_columns);

  const std::vector<Importance> importances = ParameterImportances(study.trials);
  nlohmann::json importance = nlohmann::json::array();
  for (const Importance& i : importances) {
    importance.push_back({{"name", i.name}, {"importance", i.importance}});
  }
  nlohmann::json pairs = nlohmann::json::array();
  const size_t top = std::min<size_t>(importances.size(), 3);
  for (size_t a = 0; a < top; ++a) {
    for (size_t b = a + 1; b < top; ++b) pairs.push_back({importances[a].name, importances[b].name});
  }
  nlohmann::json directions = nlohmann::json::array();
  for (Direction d : study.directions) {
    directions.push_back(d == Direction::kMaximize ? "maximize" : "minimize");
  }
  return {
      {"study", study.name},
      {"directions", std::move(directions)},
      {"generated", UtcText(generated_us)},
      {"params", std::move(params)},
      {"trials", std::move(columns)},
      {"importance",
       {{"method",
         "share of the objective's variance explained by the parameter's binned mean, less "
         "what as many bins explain by chance (epsilon squared; fANOVA's first-order term, "
         "estimated from up to 10 equal-count bins or one per choice), over COMPLETE trials, "
         "normalised to sum to 1"},
        {"values", std::move(importance)}}},
      {"contour_pairs", std::move(pairs)},
  };
}

absl::StatusOr<std::string> ReportHtml(const ReportStudy& study, int64_t generated_us) {
  if (assets::PlotlyJs().empty()) {
    return absl::FailedPreconditionError(
        "this build of parzen has no plotly.js to embed: run scripts/fetch-plotly.sh and build "
        "again");
  }
  const std::string data = ScriptSafeJson(
      ReportData(study, generated_us).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::string html;
  html.reserve(assets::PlotlyJs().size() + data.size() + 65536);
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>Parzen report: " + HtmlEscape(study.name) + "</title>\n<style>\n";
  html += assets::ReportCss();
  html += "</style>\n<!-- plotly.js ";
  html += assets::kPlotlyVersion;
  html += " (npm: plotly.js-dist-min), embedded so this page opens offline. Its licence:\n";
  html += CommentSafe(std::string(assets::PlotlyLicense()));
  html += "-->\n<script>\n";
  html += assets::PlotlyJs();
  html += "\n</script>\n</head>\n<body>\n";
  html += "<script id=\"parzen-data\" type=\"application/json\">" + data + "</script>\n";
  html += "<script>\n";
  html += assets::ReportJs();
  html += "\n</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace parzen::cli
