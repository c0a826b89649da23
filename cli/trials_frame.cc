#include "cli/trials_frame.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>

#include "cli/table.h"
#include "cli/time_text.h"

namespace parzen::cli {
namespace {

// pandas writes datetimes as "2026-12-03 20:00:01.123456" (ours in UTC).
std::string DatetimeText(int64_t us) { return UtcMicrosText(us, ' '); }

// ... and durations as a Timedelta prints: "0 days 00:00:05.123456".
std::string DurationText(int64_t us) {
  const int64_t s = us / 1'000'000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld days %02lld:%02lld:%02lld.%06lld",
                static_cast<long long>(s / 86400), static_cast<long long>(s / 3600 % 24),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60),
                static_cast<long long>(us % 1'000'000));
  return buf;
}

Cell ParamCell(const ParamValue& v) {
  return std::visit([](const auto& x) { return Cell(x); }, v);
}

// Attributes are stored as JSON text: scalars become typed cells, lists
// and objects stay JSON text, text that does not parse stays as it is.
Cell AttrCell(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text;
  if (j.is_null()) return std::monostate{};
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

// Python's repr of a float: the shortest text that reads back the same,
// with ".0" on integral values so pandas keeps the column a float one.
std::string FloatText(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string CellText(const Cell& cell) {
  struct {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(double v) const { return FloatText(v); }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "True" : "False"; }
    std::string operator()(const std::string& v) const { return v; }
  } text;
  return std::visit(text, cell);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Sort order across kinds: numbers (and booleans) before text.
int Rank(const Cell& c) { return std::holds_alternative<std::string>(c) ? 1 : 0; }

double AsNumber(const Cell& c) {
  if (const auto* d = std::get_if<double>(&c)) return *d;
  if (const auto* i = std::get_if<int64_t>(&c)) return static_cast<double>(*i);
  if (const auto* b = std::get_if<bool>(&c)) return *b ? 1 : 0;
  return 0;
}

// Missing, or NaN (pandas sorts both last).
bool Missing(const Cell& c) {
  if (std::holds_alternative<std::monostate>(c)) return true;
  const auto* d = std::get_if<double>(&c);
  return d && std::isnan(*d);
}

}  // namespace

TrialsFrame MakeTrialsFrame(const std::vector<FrozenTrial>& trials, const FrameOptions& options) {
  const bool multi = options.objectives > 1;
  // The nested columns some trial has, in name order, or the ones asked for.
  std::set<std::string> param_names, attr_names, system_names;
  for (const FrozenTrial& t : trials) {
    for (const TrialParam& p : t.params) param_names.insert(p.name);
    for (const auto& [name, value] : t.fixed_params) param_names.insert(name);
    for (const auto& [key, json] : t.user_attrs) attr_names.insert(key);
    for (const auto& [key, json] : t.system_attrs) system_names.insert(key);
  }
  const std::vector<std::string> params =
      options.params.empty() ? std::vector<std::string>(param_names.begin(), param_names.end())
                             : options.params;
  const std::vector<std::string> attrs =
      options.user_attrs.empty() ? std::vector<std::string>(attr_names.begin(), attr_names.end())
                                 : options.user_attrs;
  const std::vector<std::string> system = options.system_attrs
                                              ? std::vector<std::string>(system_names.begin(),
                                                                         system_names.end())
                                              : std::vector<std::string>{};
  TrialsFrame frame;
  frame.columns.push_back("number");
  if (multi) {
    for (size_t i = 0; i < options.objectives; ++i) frame.columns.push_back("values_" + std::to_string(i));
  } else {
    frame.columns.push_back("value");
  }
  for (const char* c : {"datetime_start", "datetime_complete", "duration"}) frame.columns.push_back(c);
  for (const auto& name : params) frame.columns.push_back("params_" + name);
  for (const auto& key : attrs) frame.columns.push_back("user_attrs_" + key);
  for (const auto& key : system) frame.columns.push_back("system_attrs_" + key);
  frame.columns.push_back("state");

  for (const FrozenTrial& t : trials) {
    std::vector<Cell> row(frame.columns.size());  // every cell missing to begin with
    size_t at = 0;
    row[at++] = t.number;
    for (size_t i = 0; i < (multi ? options.objectives : 1); ++i, ++at) {
      if (i < t.values.size()) row[at] = t.values[i];
    }
    if (t.start_time_us) row[at] = DatetimeText(t.start_time_us);
    ++at;
    if (t.complete_time_us) row[at] = DatetimeText(t.complete_time_us);
    ++at;
    if (t.start_time_us && t.complete_time_us) {
      row[at] = DurationText(t.complete_time_us - t.start_time_us);
    }
    ++at;
    for (const auto& name : params) {
      if (const TrialParam* p = t.FindParam(name)) {
        row[at] = ParamCell(ToExternal(p->distribution, p->internal_value));
      } else if (auto it = t.fixed_params.find(name); it != t.fixed_params.end()) {
        row[at] = ParamCell(it->second);  // enqueued, not suggested yet
      }
      ++at;
    }
    for (const auto& key : attrs) {
      if (auto it = t.user_attrs.find(key); it != t.user_attrs.end()) row[at] = AttrCell(it->second);
      ++at;
    }
    for (const auto& key : system) {
      if (auto it = t.system_attrs.find(key); it != t.system_attrs.end()) {
        row[at] = AttrCell(it->second);
      }
      ++at;
    }
    row[at] = std::string(TrialStateName(t.state));
    frame.rows.push_back(std::move(row));
  }
  return frame;
}

absl::Status SortFrame(TrialsFrame& frame, const std::string& spec) {
  std::string name = spec;
  bool descending = false;
  if (const size_t colon = spec.rfind(':'); colon != std::string::npos) {
    const std::string order = spec.substr(colon + 1);
    if (order != "desc" && order != "asc") {
      return absl::InvalidArgumentError("--sort takes COLUMN, COLUMN:asc or COLUMN:desc, not \"" +
                                        spec + "\"");
    }
    descending = order == "desc";
    name = spec.substr(0, colon);
  }
  const auto it = std::find(frame.columns.begin(), frame.columns.end(), name);
  if (it == frame.columns.end()) {
    std::string known;
    for (const auto& c : frame.columns) known += (known.empty() ? "" : ", ") + c;
    return absl::InvalidArgumentError("no column \"" + name + "\" to sort by; the columns are " +
                                      known);
  }
  const auto column = static_cast<size_t>(it - frame.columns.begin());
  // Rows arrive in number order: a stable sort keeps it among ties.
  std::stable_sort(frame.rows.begin(), frame.rows.end(),
                   [&](const std::vector<Cell>& a, const std::vector<Cell>& b) {
                     const Cell& x = a[column];
                     const Cell& y = b[column];
                     if (Missing(x) || Missing(y)) return !Missing(x) && Missing(y);
                     if (Rank(x) != Rank(y)) return descending ? Rank(x) > Rank(y) : Rank(x) < Rank(y);
                     if (Rank(x) == 1) {
                       const auto& s = std::get<std::string>(x);
                       const auto& t = std::get<std::string>(y);
                       return descending ? s > t : s < t;
                     }
                     return descending ? AsNumber(x) > AsNumber(y) : AsNumber(x) < AsNumber(y);
                   });
  return absl::OkStatus();
}

std::string FrameCsv(const TrialsFrame& frame) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + CsvField(fields[i]);
    out += "\n";
  };
  line(frame.columns);
  for (const auto& row : frame.rows) {
    std::vector<std::string> fields;
    fields.reserve(row.size());
    for (const Cell& c : row) fields.push_back(Missing(c) ? "" : CellText(c));
    line(fields);
  }
  return out;
}

nlohmann::json FrameJson(const TrialsFrame& frame) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : frame.rows) {
    nlohmann::json record = nlohmann::json::object();
    for (size_t i = 0; i < row.size(); ++i) {
      const Cell& c = row[i];
      nlohmann::json& v = record[frame.columns[i]];
      if (const auto* d = std::get_if<double>(&c)) {
        if (std::isfinite(*d)) v = *d;
      } else if (const auto* n = std::get_if<int64_t>(&c)) {
        v = *n;
      } else if (const auto* b = std::get_if<bool>(&c)) {
        v = *b;
      } else if (const auto* s = std::get_if<std::string>(&c)) {
        v = *s;
      }
    }
    out.push_back(std::move(record));
  }
  return out;
}

std::string FrameTable(const TrialsFrame& frame) {
  Table table(frame.columns);
  for (const auto& row : frame.rows) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < row.size(); ++i) {
      const Cell& c = row[i];
      std::string text;
      if (const auto* d = std::get_if<double>(&c)) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.6g", *d);
        text = buf;
      } else {
        text = CellText(c);
      }
      const std::string& column = frame.columns[i];
      // Times to the second, durations to the hundredth.
      if (!text.empty() && column.rfind("datetime_", 0) == 0) text.resize(text.size() - 7);
      if (!text.empty() && column == "duration") text.resize(text.size() - 4);
      cells.push_back(std::move(text));
    }
    table.AddRow(std::move(cells));
  }
  return table.ToString();
}

}  // namespace parzen::cli
