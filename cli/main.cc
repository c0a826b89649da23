// parzen: the command-line client. Lists studies, shows a study's status,
// its trials and its best trial.
#include <cstdio>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/table.h"
#include "worker/client/client.h"

namespace {

using parzen::FrozenTrial;
using parzen::cli::Table;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// User attributes are JSON: numbers get the same short form as values.
std::string AttrText(const std::string& json) {
  try {
    size_t used = 0;
    const double v = std::stod(json, &used);
    if (used == json.size()) return Number(v);
  } catch (const std::exception&) {
  }
  return json;
}

std::string ParamText(const parzen::ParamValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return Number(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return parzen::FormatValue(v);
}

std::string Seconds(const FrozenTrial& t) {
  if (!t.start_time_us || !t.complete_time_us) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", (t.complete_time_us - t.start_time_us) / 1e6);
  return buf;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "parzen: %s\n", std::string(s.message()).c_str());
  return 1;
}

int ListStudies(parzen::client::Client& client) {
  auto studies = client.ListStudies();
  if (!studies.ok()) return Fail(studies.status());
  Table table({"study", "direction", "trials", "running", "complete", "pruned", "fail", "best"});
  for (const parzen::client::StudyListing& s : *studies) {
    std::string directions;
    for (parzen::Direction d : s.directions) {
      directions += (directions.empty() ? "" : ",") +
                    std::string(d == parzen::Direction::kMaximize ? "maximize" : "minimize");
    }
    const parzen::client::StudyCounts& c = s.counts;
    table.AddRow({s.name, directions, std::to_string(c.trials), std::to_string(c.running),
                  std::to_string(c.complete), std::to_string(c.pruned), std::to_string(c.fail),
                  s.best_value ? Number(*s.best_value) : ""});
  }
  std::fputs(table.ToString().c_str(), stdout);
  return 0;
}

// Column choice for `trials`: empty shows every one the trials have.
struct Columns {
  std::vector<std::string> attrs;
  std::vector<std::string> params;
};

int ShowTrials(parzen::client::Study& study, const Columns& columns) {
  auto trials = study.Trials();
  if (!trials.ok()) return Fail(trials.status());
  std::vector<std::string> param_names = columns.params, attr_names = columns.attrs;
  if (param_names.empty() || attr_names.empty()) {
    std::set<std::string> params, attrs;
    for (const FrozenTrial& t : *trials) {
      for (const auto& p : t.params) params.insert(p.name);
      for (const auto& [name, value] : t.fixed_params) params.insert(name);
      for (const auto& [key, json] : t.user_attrs) attrs.insert(key);
    }
    if (param_names.empty()) param_names.assign(params.begin(), params.end());
    if (attr_names.empty()) attr_names.assign(attrs.begin(), attrs.end());
  }
  std::vector<std::string> header = {"#", "state", "value", "seconds"};
  header.insert(header.end(), attr_names.begin(), attr_names.end());
  header.insert(header.end(), param_names.begin(), param_names.end());
  Table table(header);
  for (const FrozenTrial& t : *trials) {
    std::vector<std::string> row = {
        std::to_string(t.number), std::string(parzen::TrialStateName(t.state)),
        t.values.empty() ? "" : Number(t.values[0]), Seconds(t)};
    for (const std::string& key : attr_names) {
      auto it = t.user_attrs.find(key);
      row.push_back(it == t.user_attrs.end() ? "" : AttrText(it->second));
    }
    for (const std::string& name : param_names) {
      std::string cell;
      if (const auto* p = t.FindParam(name)) {
        cell = ParamText(parzen::ToExternal(p->distribution, p->internal_value));
      } else if (auto it = t.fixed_params.find(name); it != t.fixed_params.end()) {
        cell = ParamText(it->second);
      }
      row.push_back(cell);
    }
    table.AddRow(std::move(row));
  }
  std::fputs(table.ToString().c_str(), stdout);
  return 0;
}

int ShowBest(parzen::client::Study& study) {
  auto best = study.BestTrial();
  if (!best.ok()) return Fail(best.status());
  if (!best->has_value()) {
    std::printf("study \"%s\" has no COMPLETE trial yet\n", study.name().c_str());
    return 0;
  }
  const FrozenTrial& t = **best;
  std::printf("best trial of \"%s\": #%lld, value %s\n", study.name().c_str(),
              static_cast<long long>(t.number), t.values.empty() ? "" : Number(t.values[0]).c_str());
  Table table({"", "name", "value"});
  for (const auto& p : t.params) {
    table.AddRow({"param", p.name, ParamText(parzen::ToExternal(p.distribution, p.internal_value))});
  }
  // Enqueued values the trial never suggested still shaped it.
  for (const auto& [name, value] : t.fixed_params) table.AddRow({"param", name, ParamText(value)});
  for (const auto& [key, json] : t.user_attrs) table.AddRow({"attr", key, AttrText(json)});
  std::fputs(table.ToString().c_str(), stdout);
  return 0;
}

int ShowStatus(parzen::client::Study& study) {
  auto counts = study.Counts();
  if (!counts.ok()) return Fail(counts.status());
  std::printf("study \"%s\": %lld trials: %lld running, %lld waiting, %lld complete, %lld pruned, "
              "%lld failed\n",
              study.name().c_str(), static_cast<long long>(counts->trials),
              static_cast<long long>(counts->running), static_cast<long long>(counts->waiting),
              static_cast<long long>(counts->complete), static_cast<long long>(counts->pruned),
              static_cast<long long>(counts->fail));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051";
  std::string study_name;
  Columns columns;
  CLI::App app{"parzen: look at the studies on a parzen-server"};
  app.add_option("--server", server, "parzen-server address")->capture_default_str();
  app.require_subcommand(1);
  app.add_subcommand("studies", "list every study with its trial counts");
  for (const char* name : {"status", "trials", "best"}) {
    CLI::App* sub = app.add_subcommand(
        name, std::string(name) == "status"   ? "trial counts of a study"
              : std::string(name) == "trials" ? "every trial of a study, with values, "
                                                "attributes and parameters"
                                              : "the best COMPLETE trial of a study");
    sub->add_option("study", study_name, "study name")->required();
    if (std::string(name) == "trials") {
      sub->add_option("--attrs", columns.attrs, "user attributes to show (default: all)")
          ->delimiter(',');
      sub->add_option("--params", columns.params, "parameters to show (default: all)")
          ->delimiter(',');
    }
  }
  CLI11_PARSE(app, argc, argv);

  parzen::client::ClientOptions options;
  options.address = server;
  options.retry.max_attempts = 3;
  auto client = parzen::client::Client::Connect(options);
  const std::string command = app.get_subcommands().front()->get_name();
  if (command == "studies") return ListStudies(*client);
  auto study = client->LoadStudy(study_name);
  if (!study.ok()) return Fail(study.status());
  if (command == "status") return ShowStatus(*study);
  if (command == "trials") return ShowTrials(*study, columns);
  return ShowBest(*study);
}
