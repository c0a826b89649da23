// parzen: the command-line client. Creates, lists and deletes studies,
// shows a study's status, its trials (as Optuna's trials_dataframe: a
// table, CSV or JSON) and its best trial, follows a study live, enqueues
// trials, asks for and tells trials from a shell script, and backs up the
// server's database. Exit codes: 0 done, 1 the server refused or the study
// or trial is unknown, 2 bad usage, 3 the server could not be reached.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/dashboard/dashboard.h"
#include "cli/json_output.h"
#include "cli/param_assignments.h"
#include "cli/report/report.h"
#include "cli/table.h"
#include "cli/trials_frame.h"
#include "common/access_token.h"
#include "common/parse_flags.h"
#include "client/client.h"
#include "client/health.h"
#include "client/study_config.h"
#include "client/study_options.h"

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

// Every objective's value, comma-separated (multi-objective studies).
std::string ValuesText(const FrozenTrial& t) {
  std::string out;
  for (double v : t.values) out += (out.empty() ? "" : ",") + Number(v);
  return out;
}

std::string Seconds(const FrozenTrial& t) {
  if (!t.start_time_us || !t.complete_time_us) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", (t.complete_time_us - t.start_time_us) / 1e6);
  return buf;
}

constexpr int kUsageError = parzen::kExitUsage;
constexpr int kUnreachable = 3;

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "parzen: %s\n", std::string(s.message()).c_str());
  // The client retries these before giving up: the server is not there (or
  // not answering), which a script may want to tell from a refusal.
  if (s.code() == absl::StatusCode::kUnavailable ||
      s.code() == absl::StatusCode::kDeadlineExceeded) {
    return kUnreachable;
  }
  return 1;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "parzen: %s\n", message.c_str());
  return kUsageError;
}

int CheckHealth(const std::string& server, std::chrono::seconds timeout,
                const std::optional<parzen::client::TlsOptions>& tls) {
  absl::StatusOr<bool> serving = parzen::client::IsServing(server, timeout, tls);
  if (!serving.ok()) return Fail(serving.status());
  std::printf("%s: %s\n", server.c_str(), *serving ? "serving" : "not serving");
  return *serving ? 0 : 1;
}

int PrintJson(const nlohmann::json& json) {
  // Replace, not throw, should a server string not be valid UTF-8.
  std::puts(json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

int ListStudies(parzen::client::Client& client, bool json) {
  auto studies = client.ListStudies();
  if (!studies.ok()) return Fail(studies.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const parzen::client::StudyListing& s : *studies) {
      out.push_back(parzen::cli::StudyListingJson(s));
    }
    return PrintJson(out);
  }
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

// `trials`: which trials, which columns, in what order and form.
struct TrialsFlags {
  std::string format = "table";
  std::vector<std::string> states;  // empty: every trial
  std::string sort;                 // empty: by number
  int64_t limit = 0;                // 0: all
  bool system_attrs = false;
  std::vector<std::string> params, attrs;  // empty: every one the trials have
  bool nested_json = false;                // --json: whole trial documents
};

int ShowTrials(parzen::client::Study& study, const TrialsFlags& f) {
  std::vector<parzen::TrialState> states;
  for (const std::string& name : f.states) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    std::optional<parzen::TrialState> state = parzen::TrialStateFromName(upper);
    if (!state) {
      return Usage("--state takes COMPLETE, PRUNED, FAIL, RUNNING or WAITING, not \"" + name +
                   "\"");
    }
    states.push_back(*state);
  }
  if (f.nested_json) {
    auto trials = study.Trials(states);
    if (!trials.ok()) return Fail(trials.status());
    nlohmann::json out = nlohmann::json::array();
    for (const FrozenTrial& t : *trials) out.push_back(parzen::cli::TrialJson(t));
    return PrintJson(out);
  }
  // The columns come from every trial, as a DataFrame filtered in pandas
  // keeps them, so a script sees the same columns whatever it filters.
  auto trials = study.Trials();
  if (!trials.ok()) return Fail(trials.status());
  parzen::cli::TrialsFrame frame = parzen::cli::MakeTrialsFrame(
      *trials, {.objectives = study.directions().size(),
                .system_attrs = f.system_attrs,
                .params = f.params,
                .user_attrs = f.attrs});
  if (!states.empty()) {
    std::vector<std::vector<parzen::cli::Cell>> kept;
    for (size_t i = 0; i < trials->size(); ++i) {
      if (std::find(states.begin(), states.end(), (*trials)[i].state) != states.end()) {
        kept.push_back(std::move(frame.rows[i]));
      }
    }
    frame.rows = std::move(kept);
  }
  if (!f.sort.empty()) {
    if (absl::Status s = parzen::cli::SortFrame(frame, f.sort); !s.ok()) {
      return Usage(std::string(s.message()));
    }
  }
  if (f.limit > 0 && frame.rows.size() > static_cast<size_t>(f.limit)) {
    frame.rows.resize(static_cast<size_t>(f.limit));
  }
  if (f.format == "csv") {
    std::fputs(parzen::cli::FrameCsv(frame).c_str(), stdout);
  } else if (f.format == "json") {
    return PrintJson(parzen::cli::FrameJson(frame));
  } else {
    std::fputs(parzen::cli::FrameTable(frame).c_str(), stdout);
  }
  return 0;
}

// A multi-objective study has no single best trial: its Pareto front, a
// row per trial with its values and parameters.
int ShowParetoFront(parzen::client::Study& study, bool json) {
  auto front = study.BestTrials();
  if (!front.ok()) return Fail(front.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const FrozenTrial& t : *front) out.push_back(parzen::cli::TrialJson(t));
    return PrintJson(out);
  }
  if (front->empty()) {
    std::printf("study \"%s\" has no COMPLETE trial yet\n", study.name().c_str());
    return 0;
  }
  std::printf("best trials of \"%s\" (the Pareto front, %zu of them):\n", study.name().c_str(),
              front->size());
  std::set<std::string> param_names;
  for (const FrozenTrial& t : *front) {
    for (const auto& p : t.params) param_names.insert(p.name);
  }
  std::vector<std::string> header = {"number"};
  for (size_t i = 0; i < study.directions().size(); ++i) {
    header.push_back("value" + std::to_string(i) + " (" +
                     (study.directions()[i] == parzen::Direction::kMaximize ? "max" : "min") + ")");
  }
  header.insert(header.end(), param_names.begin(), param_names.end());
  Table table(header);
  for (const FrozenTrial& t : *front) {
    std::vector<std::string> row = {std::to_string(t.number)};
    for (double v : t.values) row.push_back(Number(v));
    for (const std::string& name : param_names) {
      const parzen::TrialParam* p = t.FindParam(name);
      row.push_back(p ? ParamText(parzen::ToExternal(p->distribution, p->internal_value)) : "");
    }
    table.AddRow(row);
  }
  std::fputs(table.ToString().c_str(), stdout);
  return 0;
}

int ShowBest(parzen::client::Study& study, bool json) {
  if (study.directions().size() > 1) return ShowParetoFront(study, json);
  auto best = study.BestTrial();
  if (!best.ok()) return Fail(best.status());
  if (json) return PrintJson(best->has_value() ? parzen::cli::TrialJson(**best) : nullptr);
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

int ShowStatus(parzen::client::Study& study, bool json) {
  auto counts = study.Counts();
  if (!counts.ok()) return Fail(counts.status());
  auto attrs = study.UserAttrs();
  if (!attrs.ok()) return Fail(attrs.status());
  if (json) {
    nlohmann::json out = parzen::cli::CountsJson(*counts);
    out["study"] = study.name();
    out["user_attrs"] = parzen::cli::UserAttrsJson(*attrs);
    return PrintJson(out);
  }
  std::printf("study \"%s\": %lld trials: %lld running, %lld waiting, %lld complete, %lld pruned, "
              "%lld failed\n",
              study.name().c_str(), static_cast<long long>(counts->trials),
              static_cast<long long>(counts->running), static_cast<long long>(counts->waiting),
              static_cast<long long>(counts->complete), static_cast<long long>(counts->pruned),
              static_cast<long long>(counts->fail));
  for (const auto& [key, value_json] : *attrs) {
    std::printf("  %s: %s\n", key.c_str(), AttrText(value_json).c_str());
  }
  return 0;
}

// Optuna's study set-user-attr, several at once.
int SetStudyAttrs(parzen::client::Study& study, const std::vector<std::string>& assignments) {
  auto attrs = parzen::cli::ParseAttrAssignments(assignments);
  if (!attrs.ok()) return Fail(attrs.status());
  // One call each: a refusal part-way leaves the earlier ones set, so say
  // which.
  std::string set;
  for (const auto& [key, json] : *attrs) {
    if (absl::Status s = study.SetUserAttrJson(key, json); !s.ok()) {
      // Not every refusal names the key (a study that is full, a deleted
      // study).
      std::string message = "'" + key + "' was not set: " + std::string(s.message());
      if (!set.empty()) message += " (already set: " + set + ")";
      return Fail(absl::Status(s.code(), message));
    }
    set += (set.empty() ? "" : ", ") + key;
  }
  std::printf("set %zu user attribute%s of study \"%s\"\n", attrs->size(),
              attrs->size() == 1 ? "" : "s", study.name().c_str());
  return 0;
}

// Optuna's create-study: the flags of parzen-worker, or a config file.
struct CreateFlags {
  parzen::client::StudyFlags study;
  bool skip_if_exists = false;
};

absl::StatusOr<parzen::v1::CreateStudyRequest> CreateRequest(const std::string& name,
                                                              const CreateFlags& f) {
  PARZEN_ASSIGN_OR_RETURN(parzen::v1::CreateStudyRequest request,
                          parzen::client::CreateStudyRequestFrom(f.study));
  if (!request.name().empty() && request.name() != name) {
    return absl::InvalidArgumentError("the config file names study \"" + request.name() +
                                      "\", not \"" + name + "\"");
  }
  request.set_name(name);
  // A config file's own load_if_exists stands; the flag can only add it.
  request.set_load_if_exists(request.load_if_exists() || f.skip_if_exists);
  return request;
}

int CreateStudy(parzen::client::Client& client, const std::string& name, const CreateFlags& f) {
  auto request = CreateRequest(name, f);
  if (!request.ok()) return Fail(request.status());
  auto study = client.CreateStudy(*request);
  if (absl::IsAlreadyExists(study.status())) {
    return Fail(absl::AlreadyExistsError("study \"" + name +
                                         "\" already exists (--skip-if-exists leaves it as it is)"));
  }
  if (!study.ok()) return Fail(study.status());
  if (!study->created()) {
    // As Optuna's --skip-if-exists: the existing study is left as it is,
    // whatever the flags said.
    std::printf("study \"%s\" already exists; left as it is\n", name.c_str());
    return 0;
  }
  std::string directions;
  for (parzen::Direction d : study->directions()) {
    directions += (directions.empty() ? "" : ",") +
                  std::string(d == parzen::Direction::kMaximize ? "maximize" : "minimize");
  }
  std::printf("created study \"%s\" (%s)\n", name.c_str(), directions.c_str());
  return 0;
}

int DeleteStudy(parzen::client::Client& client, const std::string& name) {
  if (absl::Status s = client.DeleteStudy(name); !s.ok()) return Fail(s);
  std::printf("deleted study \"%s\" and its trials\n", name.c_str());
  return 0;
}

int Enqueue(parzen::client::Study& study, const std::vector<std::string>& assignments) {
  auto params = parzen::cli::ParseParamAssignments(assignments);
  if (!params.ok()) return Fail(params.status());
  auto number = study.Enqueue(*params);
  if (!number.ok()) return Fail(number.status());
  std::printf("enqueued trial #%lld in study \"%s\"; the next Ask hands it out\n",
              static_cast<long long>(*number), study.name().c_str());
  return 0;
}

// Optuna's `optuna ask`: starts a trial and prints it as one line of JSON,
// {"number": 3, "trial_id": 7, "params": {"x": 0.25}}, for a shell script
// to read. `search_space`: JSON as a search-space file has it, or @FILE.
int AskTrial(parzen::client::Study& study, const std::string& search_space) {
  parzen::SearchSpace space;
  if (!search_space.empty()) {
    absl::StatusOr<parzen::SearchSpace> parsed =
        search_space[0] == '@' ? parzen::ReadSearchSpaceFile(search_space.substr(1))
                               : parzen::ParseSearchSpace(search_space);
    if (!parsed.ok()) return Usage("--search-space: " + std::string(parsed.status().message()));
    space = *std::move(parsed);
  }
  auto trial = study.Ask(space);
  if (!trial.ok()) return Fail(trial.status());
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, value] : trial->params()) {
    params[name] = std::visit([](const auto& x) { return nlohmann::json(x); }, value);
  }
  const nlohmann::json out = {
      {"number", trial->number()}, {"trial_id", trial->id()}, {"params", std::move(params)}};
  std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

// Optuna's `optuna tell`: finishes trial `number` of the study.
struct TellFlags {
  int64_t number = -1;
  std::vector<double> values;
  std::string state;  // empty: COMPLETE, which needs values
  std::string fail_reason;
  bool skip_if_finished = false;
};

int TellTrial(parzen::client::Client& client, parzen::client::Study& study, const TellFlags& f) {
  std::string state = f.state.empty() ? "COMPLETE" : f.state;
  std::transform(state.begin(), state.end(), state.begin(), ::toupper);
  if (state != "COMPLETE" && state != "PRUNED" && state != "FAIL") {
    return Usage("--state takes complete, pruned or fail, not \"" + f.state + "\"");
  }
  if (state == "COMPLETE" && f.values.empty()) {
    return Usage("a COMPLETE trial needs --values (or give --state pruned or fail)");
  }
  if (state != "COMPLETE" && !f.values.empty()) {
    return Usage("--values go with a COMPLETE trial only (a PRUNED one keeps its last report)");
  }
  // The trial is most likely RUNNING: look there first, then everywhere
  // to say what became of it.
  std::optional<FrozenTrial> found;
  for (bool running_only : {true, false}) {
    auto trials = running_only ? study.Trials({parzen::TrialState::kRunning}) : study.Trials();
    if (!trials.ok()) return Fail(trials.status());
    for (FrozenTrial& t : *trials) {
      if (t.number == f.number) found = std::move(t);
    }
    if (found) break;
  }
  const std::string which =
      "trial " + std::to_string(f.number) + " of study \"" + study.name() + "\"";
  if (!found) return Fail(absl::NotFoundError(which + " does not exist"));
  if (found->state != parzen::TrialState::kRunning) {
    const std::string is = which + " is " + std::string(parzen::TrialStateName(found->state));
    if (parzen::IsFinished(found->state) && f.skip_if_finished) {
      std::printf("%s already; left as it is\n", is.c_str());
      return 0;
    }
    return Fail(absl::FailedPreconditionError(
        is + (parzen::IsFinished(found->state) ? " already (--skip-if-finished leaves it)"
                                               : ": it has not started")));
  }
  parzen::client::Trial trial(&client, *std::move(found), /*lease=*/nullptr);
  absl::StatusOr<parzen::client::TellResult> told =
      state == "COMPLETE" ? study.Tell(trial, f.values)
      : state == "PRUNED" ? study.TellPruned(trial)
                          : study.TellFail(trial, f.fail_reason);
  if (!told.ok()) return Fail(told.status());
  std::printf("told %s: %s%s\n", which.c_str(), std::string(parzen::TrialStateName(told->state)).c_str(),
              told->message.empty() ? "" : (" (" + told->message + ")").c_str());
  return 0;
}

// `report`: the study as one self-contained HTML page.
int WriteReport(parzen::client::Study& study, const std::string& path) {
  auto trials = study.Trials();
  if (!trials.ok()) return Fail(trials.status());
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  absl::StatusOr<std::string> html = parzen::cli::ReportHtml(
      {.name = study.name(), .directions = study.directions(), .trials = *std::move(trials)}, now_us);
  if (!html.ok()) return Fail(html.status());
  if (path == "-") {
    std::fwrite(html->data(), 1, html->size(), stdout);
    return 0;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(html->data(), static_cast<std::streamsize>(html->size()));
  out.close();
  if (!out) return Fail(absl::PermissionDeniedError("cannot write " + path));
  std::printf("wrote %s: study \"%s\", %.1f MB; open it in any browser\n", path.c_str(),
              study.name().c_str(), static_cast<double>(html->size()) / 1e6);
  return 0;
}

// One line per event a person would want to see: a trial appearing or
// changing state, or reporting a new step. Other changes (parameters,
// attributes) are left out.
class ChangePrinter {
 public:
  void Print(const FrozenTrial& t) {
    Seen& seen = seen_[t.number];
    const bool first = !seen.state.has_value();
    if (first || *seen.state != t.state) PrintState(t);
    for (auto it = t.intermediate_values.upper_bound(seen.last_step);
         it != t.intermediate_values.end(); ++it) {
      if (first && t.state != parzen::TrialState::kRunning) break;  // history, not news
      std::printf("#%lld step %lld: %s\n", static_cast<long long>(t.number),
                  static_cast<long long>(it->first), Number(it->second).c_str());
    }
    seen.state = t.state;
    if (!t.intermediate_values.empty()) seen.last_step = t.intermediate_values.rbegin()->first;
    std::fflush(stdout);
  }

 private:
  struct Seen {
    std::optional<parzen::TrialState> state;
    int64_t last_step = std::numeric_limits<int64_t>::min();
  };

  static void PrintState(const FrozenTrial& t) {
    std::string line = "#" + std::to_string(t.number) + " " +
                       std::string(parzen::TrialStateName(t.state));
    switch (t.state) {
      case parzen::TrialState::kRunning:
        if (!t.worker_id.empty()) line += " on " + t.worker_id;
        for (const auto& p : t.params) {
          line += " " + p.name + "=" + ParamText(parzen::ToExternal(p.distribution, p.internal_value));
        }
        if (t.retry_of) line += " (retry of #" + std::to_string(*t.retry_of) + ")";
        break;
      case parzen::TrialState::kComplete:
      case parzen::TrialState::kPruned:
        if (!t.values.empty()) {
          line += (t.values.size() > 1 ? " values " : " value ") + ValuesText(t);
        }
        if (!t.intermediate_values.empty() && t.state == parzen::TrialState::kPruned) {
          line += " at step " + std::to_string(t.intermediate_values.rbegin()->first);
        }
        if (!Seconds(t).empty()) line += " after " + Seconds(t) + " s";
        break;
      case parzen::TrialState::kFail:
        if (!t.fail_reason.empty()) line += ": " + t.fail_reason;
        break;
      case parzen::TrialState::kWaiting:
        line += " (enqueued)";
        break;
    }
    std::printf("%s\n", line.c_str());
  }

  std::map<int64_t, Seen> seen_;
};

// Follows the study until the server ends the watch or Ctrl-C. A lost
// connection (a server that crashed, or a link that keepalive pings found
// dead) or a stream the server ended for falling behind is retried: the
// new stream starts with the study as it is then, and the printer shows
// only what changed meanwhile.
int Watch(parzen::client::Study& study) {
  constexpr std::chrono::seconds kMaxBackoff{8};
  ChangePrinter printer;
  std::chrono::seconds backoff{1};
  bool lost = false;
  for (;;) {
    absl::Status s = study.Watch([&](const parzen::client::TrialChange& change) {
      if (lost) {
        std::fprintf(stderr, "watch: reconnected\n");
        lost = false;
        backoff = std::chrono::seconds(1);
      }
      printer.Print(change.trial);
      return true;
    });
    if (s.ok()) break;
    // RESOURCE_EXHAUSTED: the server ended a stream that fell too far
    // behind (or has too many open); a new one starts from the study as it
    // is, like a reconnection.
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      std::fprintf(stderr, "watch: the server ended the stream (%s); watching again in %lld s\n",
                   std::string(s.message()).c_str(), static_cast<long long>(backoff.count()));
    } else if (s.code() == absl::StatusCode::kUnavailable) {
      std::fprintf(stderr, "watch: connection lost (%s); reconnecting in %lld s\n",
                   std::string(s.message()).c_str(), static_cast<long long>(backoff.count()));
    } else {
      return Fail(s);
    }
    lost = true;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(2 * backoff, kMaxBackoff);
  }
  std::printf("the server ended the watch\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051";
  std::string study_name;
  TrialsFlags trials_flags;
  TellFlags tell_flags;
  std::string search_space;
  std::string report_path = "report.html";
  CLI::App app{"parzen: look at the studies on a parzen-server, and work on them from a shell"};
  int keepalive_s = 20;
  app.add_option("--server", server, "parzen-server address (or $PARZEN_SERVER)")
      ->envname("PARZEN_SERVER")
      ->capture_default_str();
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "the access token the server requires (its --token-file)");
  parzen::client::TlsFiles tls_files;
  parzen::client::AddTlsFlags(&app, &tls_files);
  app.add_option("--keepalive-s", keepalive_s,
                 "ping the server every this many seconds while a call is open; a link "
                 "silent for up to 10 s more is given up (watch then reconnects)")
      ->capture_default_str()
      ->check(CLI::Range(5, 3600));
  app.require_subcommand(1);
  bool json = false;
  int health_timeout_s = 5;
  app.add_subcommand("health",
                     "ask the server's gRPC health service (no token needed): exit 0 when it "
                     "serves, 1 when it answers otherwise, 3 when nothing answers in time")
      ->add_option("--timeout-s", health_timeout_s,
                   "wait this long for an answer (a server still starting is waited for)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_subcommand("studies", "list every study with its trial counts")
      ->add_flag("--json", json, "print JSON instead of a table");
  std::string backup_name;
  app.add_subcommand("backup",
                     "write a consistent copy of the server's database, named NAME, into its "
                     "--backup-dir")
      ->add_option("name", backup_name, "file name in the server's --backup-dir")
      ->required();
  parzen::cli::DashboardOptions dashboard;
  CLI::App* dashboard_command = app.add_subcommand(
      "dashboard",
      "serve every study live to a browser (read-only): the report's views, updated as trials "
      "start, report, get pruned and finish");
  dashboard_command->add_option("--listen", dashboard.listen,
                                "HOST:PORT to serve on (port 0: any free one); beyond loopback "
                                "anyone who reaches it can read every study")
      ->capture_default_str();
  dashboard_command->add_option("--port-file", dashboard.port_file,
                                "write the port here once listening");
  CreateFlags create;
  CLI::App* create_command = app.add_subcommand(
      "create",
      "create a study (Optuna's create-study); fails if it exists, unless --skip-if-exists");
  parzen::client::AddStudyFlags(*create_command, create.study, "--config");
  create_command->add_flag("--skip-if-exists", create.skip_if_exists,
                           "leave an existing study of this name as it is and exit 0");
  std::vector<std::string> assignments;
  const std::map<std::string, std::string> study_commands = {
      {"create", ""},
      {"delete", "delete a study and all its trials (Optuna's delete-study); there is no undo"},
      {"set-attr", "set user attributes of a study (Optuna's study set-user-attr)"},
      {"status", "trial counts of a study"},
      {"trials", "the trials of a study as Optuna's trials_dataframe(): a table, CSV or JSON"},
      {"ask", "start a trial and print it as JSON (Optuna's ask), for a shell script to run; "
              "tell it within the study's heartbeat grace, or it is failed and retried"},
      {"tell", "finish a trial by its number (Optuna's tell): --values, or --state pruned|fail"},
      {"report", "write the study as one self-contained HTML page of interactive plots, opened "
                 "offline in any browser"},
      {"best", "the best COMPLETE trial of a study (of a multi-objective one: its Pareto front)"},
      {"watch", "follow a study live: a line per new trial, state change and report, until "
                "Ctrl-C"},
      {"enqueue", "enqueue a trial with fixed parameters (Optuna's enqueue_trial); the next Ask "
                  "hands it out first"},
  };
  for (const auto& [name, help] : study_commands) {
    CLI::App* sub = name == "create" ? create_command : app.add_subcommand(name, help);
    sub->add_option("study", study_name, "study name")->required();
    if (name == "status" || name == "best") {
      sub->add_flag("--json", json, "print JSON instead of a table");
    }
    if (name == "report") {
      sub->add_option("-o,--output", report_path, "the HTML file to write (- for stdout)")
          ->capture_default_str();
    }
    if (name == "ask") {
      sub->add_option("--search-space", search_space,
                      "the parameters to sample, as JSON ({\"x\": {\"name\": "
                      "\"FloatDistribution\", \"attributes\": {\"low\": 0, \"high\": 1}}}; a "
                      "search-space file's forms) or @FILE; none: only enqueued values");
    }
    if (name == "tell") {
      sub->add_option("number", tell_flags.number, "the trial's number")
          ->required()
          ->check(CLI::NonNegativeNumber);
      sub->add_option("--values", tell_flags.values, "the objective values (one per objective)")
          ->expected(1, -1);
      sub->add_option("--state", tell_flags.state, "complete (default), pruned or fail");
      sub->add_option("--fail-reason", tell_flags.fail_reason, "why, for --state fail");
      sub->add_flag("--skip-if-finished", tell_flags.skip_if_finished,
                    "exit 0, changing nothing, when the trial is finished already");
    }
    if (name == "set-attr") {
      sub->add_option("attrs", assignments,
                      "KEY=VALUE for each attribute: VALUE is a number, true/false, or text")
          ->required();
    }
    if (name == "enqueue") {
      sub->add_option("params", assignments,
                      "NAME=VALUE for each parameter: VALUE is a number, true/false, or text "
                      "(quote JSON-style, '\"64\"', for text that looks like a number)")
          ->required();
    }
    if (name == "trials") {
      TrialsFlags& f = trials_flags;
      sub->add_option("--format", f.format,
                      "table for people; csv (pandas.read_csv reads it back with Optuna's "
                      "columns) or json (an object per row) for programs")
          ->check(CLI::IsMember({"table", "csv", "json"}))
          ->capture_default_str();
      sub->add_option("--state", f.states,
                      "only trials in these states (COMPLETE, PRUNED, FAIL, RUNNING, WAITING)")
          ->delimiter(',');
      sub->add_option("--sort", f.sort,
                      "order by this column (e.g. value, params_lr), or COLUMN:desc; missing "
                      "values last");
      sub->add_option("--limit", f.limit, "at most this many rows (after sorting)")
          ->check(CLI::PositiveNumber);
      sub->add_flag("--system-attrs", f.system_attrs,
                    "add the system_attrs_* columns (what samplers and pruners recorded)");
      sub->add_option("--attrs", f.attrs, "user attributes to show (default: all)")
          ->delimiter(',');
      sub->add_option("--params", f.params, "parameters to show (default: all)")->delimiter(',');
      sub->add_flag("--json", f.nested_json,
                    "print each whole trial as a JSON document (nested params, intermediate "
                    "values, worker), as `best --json` does");
    }
  }
  if (const std::optional<int> code = parzen::ParseFlags(app, argc, argv)) return *code;

  const std::string command = app.get_subcommands().front()->get_name();
  absl::StatusOr<std::optional<parzen::client::TlsOptions>> tls =
      parzen::client::ReadTlsFiles(tls_files);
  // Files named on the command line that cannot be used are bad usage, as
  // for parzen-worker and parzen-server.
  if (!tls.ok()) return Usage(std::string(tls.status().message()));
  if (command == "health") {
    return CheckHealth(server, std::chrono::seconds(health_timeout_s), *tls);
  }
  parzen::client::ClientOptions options;
  options.address = server;
  options.tls = *std::move(tls);
  options.retry.max_attempts = 3;
  if (!token_file.empty()) {
    absl::StatusOr<std::string> token = parzen::ReadAccessTokenFile(token_file);
    if (!token.ok()) return Usage(std::string(token.status().message()));
    options.access_token = *std::move(token);
  }
  options.keepalive_time = std::chrono::seconds(keepalive_s);
  options.keepalive_timeout =
      std::min<std::chrono::milliseconds>(options.keepalive_time, std::chrono::seconds(10));
  if (command == "dashboard") return parzen::cli::RunDashboard(options, dashboard);
  auto client = parzen::client::Client::Connect(options);
  if (command == "studies") return ListStudies(*client, json);
  if (command == "backup") {
    auto backup = client->BackupDatabase(backup_name);
    if (!backup.ok()) return Fail(backup.status());
    std::printf("backup written on the server: %s (%lld bytes)\n", backup->path.c_str(),
                static_cast<long long>(backup->bytes));
    return 0;
  }
  if (command == "create") return CreateStudy(*client, study_name, create);
  if (command == "delete") return DeleteStudy(*client, study_name);
  auto study = client->LoadStudy(study_name);
  if (!study.ok()) return Fail(study.status());
  if (command == "status") return ShowStatus(*study, json);
  if (command == "trials") return ShowTrials(*study, trials_flags);
  if (command == "ask") return AskTrial(*study, search_space);
  if (command == "report") return WriteReport(*study, report_path);
  if (command == "tell") return TellTrial(*client, *study, tell_flags);
  if (command == "watch") return Watch(*study);
  if (command == "enqueue") return Enqueue(*study, assignments);
  if (command == "set-attr") return SetStudyAttrs(*study, assignments);
  return ShowBest(*study, json);
}
