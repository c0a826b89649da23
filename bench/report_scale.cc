// report_scale: how long `parzen report` takes for a large study, and how
// long the page takes to draw every chart in headless Chromium. A server
// is filled with N trials (random sampler, 5 parameters, 8 workers, a
// tenth of them PRUNED after reporting 4 steps, a few FAIL); then the CLI
// writes the report (timed end to end: reading the trials over gRPC,
// building the page, writing it), and tests/browser/open_report.mjs opens
// it and waits until the page says every chart is drawn. Last line:
// report_scale trials=N generate_s=G open_s=O
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sys/wait.h>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "bench/local_server.h"
#include "parzen/v1/study_service.grpc.pb.h"

namespace {

namespace v1 = parzen::v1;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "report_scale: %s\n", what.c_str());
  std::exit(1);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}

void AddFloat(v1::AskRequest& req, const std::string& name, double low, double high, bool log) {
  v1::ParameterSpec* p = req.add_search_space();
  p->set_name(name);
  p->mutable_distribution()->mutable_float_distribution()->set_low(low);
  p->mutable_distribution()->mutable_float_distribution()->set_high(high);
  p->mutable_distribution()->mutable_float_distribution()->set_log(log);
}

void Fill(v1::StudyService::Stub& stub, const std::string& study, int n) {
  for (int i = 0; i < n; ++i) {
    v1::AskRequest req;
    req.set_study(study);
    req.set_worker_id("node-" + std::to_string(i % 8));
    AddFloat(req, "lr", 1e-5, 1e-1, true);
    AddFloat(req, "dropout", 0, 0.5, false);
    AddFloat(req, "momentum", 0.5, 0.99, false);
    v1::ParameterSpec* units = req.add_search_space();
    units->set_name("units");
    units->mutable_distribution()->mutable_int_distribution()->set_low(16);
    units->mutable_distribution()->mutable_int_distribution()->set_high(512);
    v1::ParameterSpec* opt = req.add_search_space();
    opt->set_name("optimizer");
    for (const char* c : {"sgd", "adam", "rmsprop"}) {
      opt->mutable_distribution()->mutable_categorical_distribution()->add_choices()->set_string_value(c);
    }
    v1::AskResponse ask;
    {
      grpc::ClientContext ctx;
      Check(stub.Ask(&ctx, req, &ask), "Ask");
    }
    double lr = 0, dropout = 0;
    for (const auto& p : ask.trial().params()) {
      if (p.name() == "lr") lr = p.value().double_value();
      if (p.name() == "dropout") dropout = p.value().double_value();
    }
    const double loss = std::pow(std::log10(lr) + 3, 2) + dropout;
    v1::TellRequest tell;
    tell.set_trial_id(ask.trial().trial_id());
    if (i % 10 == 3) {
      for (int step = 0; step < 4; ++step) {
        v1::ReportIntermediateRequest r;
        r.set_trial_id(ask.trial().trial_id());
        r.set_step(step);
        r.set_value(loss + 1.0 / (step + 1));
        v1::ReportIntermediateResponse rr;
        grpc::ClientContext ctx;
        Check(stub.ReportIntermediate(&ctx, r, &rr), "ReportIntermediate");
      }
      tell.set_state(v1::PRUNED);
    } else if (i % 50 == 7) {
      tell.set_state(v1::FAIL);
    } else {
      tell.set_state(v1::COMPLETE);
      tell.add_values(loss);
    }
    v1::TellResponse told;
    grpc::ClientContext ctx;
    Check(stub.Tell(&ctx, tell, &told), "Tell");
  }
}

// Runs `command`, returns its exit code and what it printed.
std::pair<int, std::string> Run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) Die("cannot run " + command);
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, got);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 10000;
  std::string dir = "/tmp/parzen-report-scale";
  CLI::App app{"report_scale: parzen report of a large study, generated and opened in Chromium"};
  app.add_option("--trials", trials, "trials in the study")->capture_default_str();
  app.add_option("--out", dir, "where the report and its screenshot go")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);

  parzen::bench::LocalServer server;
  if (std::string error = server.Start(PARZEN_SERVER_BINARY); !error.empty()) Die(error);
  auto stub = v1::StudyService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  {
    v1::CreateStudyRequest create;
    create.set_name("scale");
    create.mutable_sampler()->mutable_random()->set_seed(1);
    create.mutable_pruner()->mutable_nop();
    v1::CreateStudyResponse created;
    grpc::ClientContext ctx;
    Check(stub->CreateStudy(&ctx, create, &created), "CreateStudy");
  }
  const auto fill_start = Clock::now();
  Fill(*stub, "scale", trials);
  std::printf("filled %d trials in %.1f s\n", trials,
              std::chrono::duration<double>(Clock::now() - fill_start).count());

  const std::string html = dir + "/report.html";
  const auto generate_start = Clock::now();
  const auto [cli_code, cli_out] = Run(std::string(PARZEN_CLI_BINARY) + " --server " +
                                       server.address() + " report scale -o " + html);
  const double generate_s = std::chrono::duration<double>(Clock::now() - generate_start).count();
  if (cli_code != 0) Die("parzen report failed: " + cli_out);
  std::printf("parzen report: %.2f s (%s)", generate_s, cli_out.c_str());

  const auto [node_code, node_out] =
      Run("node " PARZEN_BROWSER_DIR "/open_report.mjs " + html + " " + dir + "/report.png 300000");
  const size_t json_at = node_out.rfind("{\"launched\"");
  const nlohmann::json seen = nlohmann::json::parse(
      json_at == std::string::npos ? std::string() : node_out.substr(json_at), nullptr, false);
  if (node_code != 0 || seen.is_discarded()) Die("the browser could not open it: " + node_out);
  const double open_s = seen["drawnMs"].get<double>() / 1000;
  std::printf("opened in headless Chromium, every chart drawn: %.2f s; console errors: %zu\n",
              open_s, seen["errors"].size());
  for (const auto& [id, plot] : seen["plots"].items()) {
    std::string points;
    for (const auto& t : plot["traces"]) points += (points.empty() ? "" : ",") + t["points"].dump();
    std::printf("  %-14s traces=%zu points=%s\n", id.c_str(), plot["traces"].size(), points.c_str());
  }
  for (const auto& [id, counts] : seen["sampled"].items()) {
    std::printf("  sampled: %s shows %s of %s\n", id.c_str(), counts[0].dump().c_str(),
                counts[1].dump().c_str());
  }
  std::printf("report_scale trials=%d generate_s=%.2f open_s=%.2f\n", trials, generate_s, open_s);
  return seen["errors"].empty() ? 0 : 1;
}
