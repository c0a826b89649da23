#include "cli/dashboard/dashboard.h"

#include <httplib.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "cli/json_output.h"
#include "cli/report/assets.h"
#include "cli/report/report.h"

namespace parzen::cli {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
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
  server.Get(R"(/study/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
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
  server.Get(R"(/api/study/([^/]+))", [&client](const httplib::Request& req, httplib::Response& res) {
    auto study = client.LoadStudy(req.matches[1]);
    if (!study.ok()) return Error(res, study.status());
    auto trials = study->Trials();
    if (!trials.ok()) return Error(res, trials.status());
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    Json(res, ReportData({study->name(), study->directions(), *std::move(trials)}, now_us));
  });
  // The trials as WatchStudy reports them: first every trial there is (the
  // page may have fetched its data just before a change), then each change.
  server.Get(R"(/api/study/([^/]+)/events)", [&client](const httplib::Request& req,
                                                        httplib::Response& res) {
    const std::string name = req.matches[1];
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [&client, name](size_t, httplib::DataSink& sink) {
          auto study = client.LoadStudy(name);
          if (!study.ok()) {
            const std::string event =
                "event: failed\ndata: " + nlohmann::json(std::string(study.status().message())).dump() + "\n\n";
            sink.write(event.data(), event.size());
            sink.done();
            return true;
          }
          const std::string open = ": watching\n\n";
          if (!sink.write(open.data(), open.size())) return false;
          const absl::Status watched = study->Watch([&](const client::TrialChange& change) {
            const std::string event =
                "data: " +
                ReportTrialRow(change.trial).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n\n";
            // A page that went away ends the watch at its next change.
            return sink.write(event.data(), event.size());
          });
          const std::string end = "event: ended\ndata: " +
                                  nlohmann::json(watched.ok() ? std::string("the server ended the watch")
                                                              : std::string(watched.message()))
                                      .dump() +
                                  "\n\n";
          sink.write(end.data(), end.size());
          sink.done();
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
