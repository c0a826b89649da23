// tpe_latency: how long an Ask takes with TPE as a study grows. A server
// holds a study with a 5-parameter space (log-float, float, float, int,
// categorical); it is filled with n COMPLETE trials (enqueued, so filling
// costs no sampling), and at each n the Ask RPC is timed (each Ask told
// FAIL, so n stays). Univariate and multivariate TPE, then Optuna 3.1's
// TPESampler on an in-memory study holding the same trials
// (bench/optuna_tpe_latency.py), in the same run. Last, the p99 of
// ReportIntermediate on a study while 4 clients Ask it: sampling must not
// hold up reports.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "bench/local_server.h"
#include "parzen/v1/study_service.grpc.pb.h"

namespace {

namespace v1 = parzen::v1;
using Clock = std::chrono::steady_clock;
using Stub = v1::StudyService::Stub;

struct Flags {
  std::string server_binary = PARZEN_SERVER_BINARY;
  std::vector<int> n = {1000, 5000, 10000};
  int asks = 30;
  bool optuna = true;
  std::string python = "/usr/bin/python3";
  std::string optuna_script = PARZEN_OPTUNA_SCRIPT;
  double report_seconds = 5;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "tpe_latency: %s\n", what.c_str());
  std::exit(1);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}

v1::ParameterSpec Spec(const std::string& name, std::function<void(v1::Distribution*)> fill) {
  v1::ParameterSpec p;
  p.set_name(name);
  fill(p.mutable_distribution());
  return p;
}

std::vector<v1::ParameterSpec> Space() {
  return {
      Spec("lr", [](auto* d) {
        d->mutable_float_distribution()->set_low(1e-5);
        d->mutable_float_distribution()->set_high(1e-1);
        d->mutable_float_distribution()->set_log(true);
      }),
      Spec("x", [](auto* d) {
        d->mutable_float_distribution()->set_low(-5);
        d->mutable_float_distribution()->set_high(5);
      }),
      Spec("y", [](auto* d) {
        d->mutable_float_distribution()->set_low(0);
        d->mutable_float_distribution()->set_high(1);
      }),
      Spec("units", [](auto* d) {
        d->mutable_int_distribution()->set_low(16);
        d->mutable_int_distribution()->set_high(512);
      }),
      Spec("opt", [](auto* d) {
        for (const char* c : {"sgd", "adam", "rmsprop", "adagrad"}) {
          d->mutable_categorical_distribution()->add_choices()->set_string_value(c);
        }
      }),
  };
}

// The i-th filled trial: a fixed pseudo-random point and its objective
// (the Python side computes the same ones).
struct Point {
  double lr, x, y;
  int64_t units;
  int opt;
  double value;
};
Point PointAt(int64_t i) {
  auto u = [i](int k) {
    uint64_t z = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(k) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 31)) * 0x94d049bb133111ebULL;
    return static_cast<double>((z ^ (z >> 29)) >> 11) * 0x1.0p-53;
  };
  Point p;
  p.lr = std::clamp(std::exp(std::log(1e-5) + u(0) * (std::log(1e-1) - std::log(1e-5))), 1e-5, 1e-1);
  p.x = -5 + 10 * u(1);
  p.y = u(2);
  p.units = 16 + static_cast<int64_t>(u(3) * 497);
  p.opt = static_cast<int>(u(4) * 4);
  p.value = std::pow(std::log10(p.lr) + 3, 2) + p.x * p.x + std::fabs(p.y - 0.3) +
            std::fabs(static_cast<double>(p.units) - 128) / 128 + (p.opt == 1 ? 0 : 0.5);
  return p;
}

// mode 0: univariate TPE, 1: multivariate, 2: random (the floor: the RPC
// and its commit, no model).
void CreateStudy(Stub& stub, const std::string& name, int mode) {
  grpc::ClientContext ctx;
  v1::CreateStudyRequest req;
  req.set_name(name);
  if (mode == 2) {
    req.mutable_sampler()->mutable_random()->set_seed(1);
  } else {
    req.mutable_sampler()->mutable_tpe()->set_seed(1);
    req.mutable_sampler()->mutable_tpe()->set_multivariate(mode == 1);
    req.mutable_sampler()->mutable_tpe()->set_group(mode == 1);
  }
  req.mutable_pruner()->mutable_nop();
  v1::CreateStudyResponse resp;
  Check(stub.CreateStudy(&ctx, req, &resp), "CreateStudy");
}

v1::Trial Ask(Stub& stub, const std::string& study) {
  grpc::ClientContext ctx;
  v1::AskRequest req;
  req.set_study(study);
  for (const auto& p : Space()) *req.add_search_space() = p;
  v1::AskResponse resp;
  Check(stub.Ask(&ctx, req, &resp), "Ask");
  return resp.trial();
}

void Tell(Stub& stub, int64_t trial_id, v1::TrialState state, std::optional<double> value) {
  grpc::ClientContext ctx;
  v1::TellRequest req;
  req.set_trial_id(trial_id);
  req.set_state(state);
  if (value) req.add_values(*value);
  v1::TellResponse resp;
  Check(stub.Tell(&ctx, req, &resp), "Tell");
}

// Adds trials `from` .. `to` - 1, COMPLETE with their fixed points.
void Fill(Stub& stub, const std::string& study, int64_t from, int64_t to) {
  static const char* kChoices[] = {"sgd", "adam", "rmsprop", "adagrad"};
  for (int64_t i = from; i < to; ++i) {
    const Point p = PointAt(i);
    {
      grpc::ClientContext ctx;
      v1::EnqueueTrialRequest req;
      req.set_study(study);
      auto& params = *req.mutable_params();
      params["lr"].set_double_value(p.lr);
      params["x"].set_double_value(p.x);
      params["y"].set_double_value(p.y);
      params["units"].set_int_value(p.units);
      params["opt"].set_string_value(kChoices[p.opt]);
      v1::EnqueueTrialResponse resp;
      Check(stub.EnqueueTrial(&ctx, req, &resp), "EnqueueTrial");
    }
    Tell(stub, Ask(stub, study).trial_id(), v1::COMPLETE, p.value);
  }
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// The median latency in ms of `asks` Asks, each told FAIL.
double TimeAsks(Stub& stub, const std::string& study, int asks) {
  std::vector<double> ms;
  for (int i = 0; i < asks; ++i) {
    const auto start = Clock::now();
    const v1::Trial t = Ask(stub, study);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    Tell(stub, t.trial_id(), v1::FAIL, std::nullopt);
  }
  return Percentile(ms, 0.5);
}

// p99 of ReportIntermediate (ms) on `study` while 4 other clients Ask it.
double ReportP99UnderAsks(const std::string& address, const std::string& study, double seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> askers;
  for (int c = 0; c < 4; ++c) {
    askers.emplace_back([&] {
      auto stub = v1::StudyService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      while (!stop) Tell(*stub, Ask(*stub, study).trial_id(), v1::FAIL, std::nullopt);
    });
  }
  auto stub = std::unique_ptr<Stub>(
      v1::StudyService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  const v1::Trial reporting = Ask(*stub, study);
  std::vector<double> ms;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (int64_t step = 0; Clock::now() < end; ++step) {
    grpc::ClientContext ctx;
    v1::ReportIntermediateRequest req;
    req.set_trial_id(reporting.trial_id());
    req.set_step(step);
    req.set_value(1.0 / static_cast<double>(step + 1));
    v1::ReportIntermediateResponse resp;
    const auto start = Clock::now();
    Check(stub->ReportIntermediate(&ctx, req, &resp), "ReportIntermediate");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  stop = true;
  for (auto& t : askers) t.join();
  Tell(*stub, reporting.trial_id(), v1::FAIL, std::nullopt);
  return Percentile(ms, 0.99);
}

// Optuna's ms per ask + 5 suggests at each n, from the Python script.
std::vector<double> OptunaMs(const Flags& f) {
  std::string cmd = f.python + " " + f.optuna_script;
  for (int n : f.n) cmd += " " + std::to_string(n);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {};
  std::vector<double> out;
  char line[256];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::fputs(line, stdout);
    double n = 0, ms = 0;
    if (std::sscanf(line, "optuna n=%lf ms=%lf", &n, &ms) == 2) out.push_back(ms);
  }
  pclose(pipe);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"tpe_latency: Ask latency with TPE as a study grows, against Optuna's"};
  app.add_option("--server-binary", f.server_binary, "parzen-server to start");
  app.add_option("--n", f.n, "study sizes (COMPLETE trials)")->delimiter(',');
  app.add_option("--asks", f.asks, "Asks timed at each size")->capture_default_str();
  app.add_flag("--optuna,!--no-optuna", f.optuna, "also time Optuna's TPESampler");
  app.add_option("--report-seconds", f.report_seconds, "how long to time reports under Asks");
  CLI11_PARSE(app, argc, argv);
  std::sort(f.n.begin(), f.n.end());

  parzen::bench::LocalServer server;
  if (std::string error = server.Start(f.server_binary); !error.empty()) Die(error);
  auto stub = v1::StudyService::NewStub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  std::printf("%-14s %8s %10s\n", "mode", "n", "ask_p50_ms");
  std::vector<std::vector<double>> parzen(3);
  for (int mode = 0; mode < 3; ++mode) {
    const std::string study = mode == 0 ? "univariate" : mode == 1 ? "multivariate" : "random";
    CreateStudy(*stub, study, mode);
    int64_t filled = 0;
    for (int n : f.n) {
      Fill(*stub, study, filled, n);
      filled = n;
      parzen[mode].push_back(TimeAsks(*stub, study, f.asks));
      std::printf("%-14s %8d %10.3f\n", study.c_str(), n, parzen[mode].back());
      std::fflush(stdout);
    }
  }
  const double report_p99 = ReportP99UnderAsks(server.address(), "univariate", f.report_seconds);
  std::printf("ReportIntermediate p99 while 4 clients Ask (n=%d, univariate): %.3f ms\n",
              f.n.back(), report_p99);
  std::vector<double> optuna = f.optuna ? OptunaMs(f) : std::vector<double>{};
  auto at = [&](const std::vector<double>& v, int n) {
    for (size_t i = 0; i < f.n.size() && i < v.size(); ++i) {
      if (f.n[i] == n) return v[i];
    }
    return std::nan("");
  };
  // The slower of the two modes, against Optuna's default (univariate).
  const double a = std::max(at(parzen[0], 1000), at(parzen[1], 1000));
  const double c = std::max(at(parzen[0], 10000), at(parzen[1], 10000));
  const double b = at(optuna, 1000);
  std::printf("tpe_latency n=1000 parzen_ms=%.3f optuna_ms=%.1f ratio=%.1f n10000_parzen_ms=%.3f\n",
              a, b, b / a, c);
  return 0;
}
