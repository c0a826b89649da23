#include "cli/dashboard/dashboard.h"

#include <httplib.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/json_output.h"
#include "cli/html_text.h"
#include "cli/report/assets.h"
#include "cli/report/report.h"

namespace parzen::cli {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Both pages load the same files; dashboard.js tells them apart by the
// body's data-page.
std::string Page(const std::string& title, const std::string& body_attributes) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         HtmlEscape(title) +
         "</title>\n<link rel=\"stylesheet\" href=\"/assets/report.css\">\n"
         "<script src=\"/assets/plotly.min.js\"></script>\n</head>\n<body " +
         body_attributes +
         ">\n<p id=\"live\" class=\"live\">connecting…</p>\n"
         "<script src=\"/assets/report.js\"></script>\n"
         "<script src=\"/assets/dashboard.js\"></script>\n</body>\n</html>\n";
}

void Json(httplib::Response& res, const nlohmann::json& json) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// A failed call to parzen-server: its status, as JSON the page shows.
void Error(httplib::Response& res, const absl::Status& s) {
  res.status = absl::IsNotFound(s) ? 404 : 502;
  Json(res, {{"error", std::string(s.message())}});
}

// One page's event stream. A thread of its own follows the study
// (WatchStudy) and queues each change; the HTTP thread writes what is
// queued, or a comment when nothing came for a while, which is how it
// learns that the page has gone (the write fails): then the watch is
// cancelled, so a closed page holds neither a thread nor a watch on the
// server for long, however quiet its study.
class EventStream {
 public:
  EventStream(client::Client& client, std::string study) : client_(client), study_(std::move(study)) {
    watcher_ = std::thread([this] { Follow(); });
  }
  ~EventStream() {
    cancel_.Cancel();
    watcher_.join();
  }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // What to send next, waiting up to `wait` for it ("" when nothing came),
  // and whether the stream ends with it.
  std::pair<std::string, bool> Next(absl::Duration wait) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](EventStream* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
                               return !s->pending_.empty() || s->ended_;
                             },
                             this),
                         wait);
    return {std::exchange(pending_, std::string()), ended_};
  }

 private:
  void Follow() ABSL_LOCKS_EXCLUDED(mu_) {
    std::string last;
    auto study = client_.LoadStudy(study_);
    if (!study.ok()) {
      last = "event: failed\ndata: " + nlohmann::json(std::string(study.status().message())).dump() +
             "\n\n";
    } else {
      const absl::Status watched = study->Watch(
          [this](const client::TrialChange& change) {
            const std::string event =
                "data: " +
                ReportTrialRow(change.trial)
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n\n";
            absl::MutexLock lock(&mu_);
            pending_ += event;
            return true;
          },
          &cancel_);
      last = "event: ended\ndata: " +
             nlohmann::json(watched.ok() ? std::string("the server ended the watch")
                                         : std::string(watched.message()))
                 .dump() +
             "\n\n";
    }
    absl::MutexLock lock(&mu_);
    pending_ += last;
    ended_ = true;
  }

  client::Client& client_;
  const std::string study_;
  client::WatchCancel cancel_;
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

void Asset(httplib::Server& server, const std::string& path, std::string_view content,
           const char* type) {
  server.Get(path, [content, type](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(content.data(), content.size(), type);
  });
}

}  // namespace

int RunDashboard(const client::ClientOptions& client_options, const DashboardOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (assets::PlotlyJs().empty()) {
    std::fprintf(stderr,
                 "parzen: this build of parzen has no plotly.js to serve: run "
                 "scripts/fetch-plotly.sh and build again\n");
    return 1;
  }
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "parzen: --listen takes HOST:PORT, not \"%s\"\n", options.listen.c_str());
    return 2;
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(options.listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "parzen: --listen takes HOST:PORT, not \"%s\"\n", options.listen.c_str());
    return 2;
  }
  if (!IsLoopback(host)) {
    std::fprintf(stderr,
                 "parzen dashboard: WARNING: listening on %s, beyond this machine: anyone who "
                 "can reach it can read every study (it asks no password). Listen on 127.0.0.1 "
                 "and reach it through an SSH tunnel unless that is what you want.\n",
                 host.c_str());
  }

  std::unique_ptr<client::Client> connected = client::Client::Connect(client_options);
  client::Client& client = *connected;
  httplib::Server server;
  // Each open study page holds a thread for its event stream.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  Asset(server, "/assets/plotly.min.js", assets::PlotlyJs(), "text/javascript");
  Asset(server, "/assets/report.js", assets::ReportJs(), "text/javascript");
  Asset(server, "/assets/report.css", assets::ReportCss(), "text/css");
  Asset(server, "/assets/dashboard.js", assets::DashboardJs(), "text/javascript");
  server.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(Page("Parzen studies", "data-page=\"list\""), "text/html; charset=utf-8");
  });
  // A study is named by a query parameter, which takes any name (a path
  // segment could not hold a "/").
  server.Get("/study", [](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.get_param_value("name");
    res.set_content(Page("Parzen: " + name, "data-page=\"study\" data-study=\"" + HtmlEscape(name) + "\""),
                    "text/html; charset=utf-8");
  });
  server.Get("/api/studies", [&client](const httplib::Request&, httplib::Response& res) {
    auto studies = client.ListStudies();
    if (!studies.ok()) return Error(res, studies.status());
    nlohmann::json out = nlohmann::json::array();
    for (const client::StudyListing& s : *studies) out.push_back(StudyListingJson(s));
    Json(res, out);
  });
  server.Get("/api/study", [&client](const httplib::Request& req, httplib::Response& res) {
    auto study = client.LoadStudy(req.get_param_value("name"));
    if (!study.ok()) return Error(res, study.status());
    auto trials = study->Trials();
    if (!trials.ok()) return Error(res, trials.status());
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    Json(res, ReportData({study->name(), study->directions(), *std::move(trials)}, now_us));
  });
  // Server-sent events: first every trial there is (the page may have
  // fetched its data just before a change), then each change.
  server.Get("/api/events", [&client](const httplib::Request& req, httplib::Response& res) {
    auto stream = std::make_shared<EventStream>(client, req.get_param_value("name"));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [stream, opened = false](size_t, httplib::DataSink& sink) mutable {
          std::string text = opened ? "" : ": watching\n\n";
          opened = true;
          auto [events, ended] = stream->Next(absl::Seconds(15));
          text += events.empty() ? ": still watching\n\n" : events;
          if (!sink.write(text.data(), text.size())) return false;  // the page has gone
          if (ended) sink.done();
          return true;
        });
  });

  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "parzen: cannot listen on %s\n", options.listen.c_str());
    return 1;
  }
  if (!options.port_file.empty()) std::ofstream(options.port_file) << bound << "\n";
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("parzen dashboard: http://%s:%d/ (read-only; Ctrl-C stops it)\n", shown.c_str(), bound);
  std::fflush(stdout);

  // SIGINT and SIGTERM, blocked in every thread, end the process from a
  // thread of their own. Not through server.stop(): that joins the worker
  // threads, and an event stream waits in WatchStudy until the study
  // changes. Nothing is left to write, so nothing is lost.
  std::thread([stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    std::printf("parzen dashboard: stopped\n");
    std::fflush(stdout);
    std::_Exit(0);
  }).detach();
  server.listen_after_bind();
  return 1;  // only if listening failed: a signal ends the process above
}

}  // namespace parzen::cli
