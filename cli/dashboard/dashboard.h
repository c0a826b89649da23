// Dashboard: `parzen dashboard`, the report's views served live over HTTP
// to a browser. It is a gRPC client of parzen-server like any other (so it
// can run on a laptop against a remote server, with the CLI's token), and
// read-only: it serves GET requests only.
//
//   /                      every study with its counts and best value
//   /study?name=NAME       the report of one study, kept up to date
//   /api/studies           the list as JSON
//   /api/study?name=NAME   the report's data as JSON
//   /api/events?name=NAME  server-sent events: each trial that changes, as
//                          WatchStudy reports it
#ifndef PARZEN_CLI_DASHBOARD_DASHBOARD_H_
#define PARZEN_CLI_DASHBOARD_DASHBOARD_H_

#include <string>

#include "client/client.h"

namespace parzen::cli {

struct DashboardOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0: any free one
  std::string port_file;                  // if set, the port is written there
};

// Connects to parzen-server with `client_options` and serves until SIGINT
// or SIGTERM; returns the process's exit code. It connects itself so that
// every thread, gRPC's included, starts with those signals blocked and one
// thread of its own takes them.
int RunDashboard(const client::ClientOptions& client_options, const DashboardOptions& options);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_DASHBOARD_DASHBOARD_H_
