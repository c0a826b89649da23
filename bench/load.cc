// load: holds one parzen-server with a file database under sustained load
// and then checks that it kept every write it acknowledged. C clients, each
// on its own channel: most are workers (Ask, a define-by-run Suggest,
// ReportIntermediate each step with the median pruner's decision, Tell
// COMPLETE or PRUNED), some list (GetStudy + a page of ListTrials), some
// watch (WatchStudy). Afterwards every acknowledged Ask, Suggest, Report
// and Tell is looked up, once from the running server and once more after
// a restart on the same file. Then a study of N trials (100,000 by
// default) gives the server's memory per 1,000 trials and its start-up
// time with that database. Prints throughput and p50 / p99 / p999 latency
// per RPC, errors, server RSS, and as its last line
//   load clients=64 seconds=60 errors=E lost=L p99_ms=P rss_growth_mb=G
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "bench/local_server.h"
#include "parzen/v1/study_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = parzen::v1;
using parzen::bench::LocalServer;

constexpr auto kRpcDeadline = std::chrono::seconds(30);
constexpr int kSteps = 5;

struct Flags {
  std::string server_binary = PARZEN_SERVER_BINARY;
  int clients = 64;
  int listers = 6;
  int watchers = 6;
  double seconds = 60;
  int64_t big_trials = 100000;
};

// Server RSS in MiB, from /proc/PID/status.
double RssMb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return std::nan("");
}

std::unique_ptr<v1::StudyService::Stub> NewStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 << 20);
  // Its own connection per client: a shared one would measure one HTTP/2
  // stream scheduler, not 64 clients.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return v1::StudyService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
}

// Latencies and errors one client saw, per RPC.
struct Record {
  std::map<std::string, std::vector<float>> latency_ms;
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> first_error;

  template <typename Call>
  grpc::Status Time(const std::string& rpc, Call call) {
    const auto start = Clock::now();
    grpc::Status status = call();
    latency_ms[rpc].push_back(
        std::chrono::duration<float, std::milli>(Clock::now() - start).count());
    if (!status.ok()) {
      if (errors[rpc]++ == 0) {
        first_error[rpc] = std::to_string(status.error_code()) + " " + status.error_message();
      }
    }
    return status;
  }
};

// What the server acknowledged about one trial.
struct AckedTrial {
  int64_t trial_id = 0;
  std::map<std::string, double> params;  // Ask's and Suggest's, internal values
  std::vector<std::pair<int64_t, double>> reports;
  v1::TrialState state = v1::RUNNING;  // RUNNING: the Tell was not acknowledged
  double value = 0;
};

v1::AskRequest AskRequestFor(const std::string& study, int client) {
  v1::AskRequest ask;
  ask.set_study(study);
  ask.set_worker_id("load-" + std::to_string(client));
  auto add = [&](const char* name) {
    v1::ParameterSpec* p = ask.add_search_space();
    p->set_name(name);
    return p->mutable_distribution();
  };
  auto* lr = add("lr")->mutable_float_distribution();
  lr->set_low(1e-5);
  lr->set_high(1e-1);
  lr->set_log(true);
  auto* units = add("units")->mutable_int_distribution();
  units->set_low(16);
  units->set_high(512);
  auto* opt = add("optimizer")->mutable_categorical_distribution();
  opt->add_choices()->set_string_value("sgd");
  opt->add_choices()->set_string_value("adam");
  return ask;
}

// One worker client: Ask, Suggest, Report each step (stopping when the
// pruner says so), Tell; until `stop`.
void RunWorker(const std::string& address, const std::string& study, int client,
               const std::atomic<bool>& stop, Record& record, std::vector<AckedTrial>& acked) {
  auto stub = NewStub(address);
  std::mt19937_64 rng(client);
  std::normal_distribution<double> noise(0, 0.05);
  const v1::AskRequest ask_request = AskRequestFor(study, client);
  while (!stop.load()) {
    v1::AskResponse asked;
    grpc::ClientContext ask_context;
    SetDeadline(ask_context);
    if (!record.Time("Ask", [&] { return stub->Ask(&ask_context, ask_request, &asked); }).ok()) {
      continue;
    }
    AckedTrial trial;
    trial.trial_id = asked.trial().trial_id();
    for (const v1::Parameter& p : asked.trial().params()) trial.params[p.name()] = p.internal_value();

    v1::SuggestRequest suggest;
    suggest.set_trial_id(trial.trial_id);
    suggest.set_name("dropout");
    suggest.mutable_distribution()->mutable_float_distribution()->set_high(0.5);
    v1::SuggestResponse suggested;
    grpc::ClientContext suggest_context;
    SetDeadline(suggest_context);
    if (record.Time("Suggest", [&] { return stub->Suggest(&suggest_context, suggest, &suggested); })
            .ok()) {
      trial.params["dropout"] = suggested.parameter().internal_value();
    }

    const double quality = std::uniform_real_distribution<double>(0.1, 1.0)(rng);
    bool pruned = false;
    double last = 0;
    for (int step = 0; step < kSteps && !pruned; ++step) {
      v1::ReportIntermediateRequest report;
      report.set_trial_id(trial.trial_id);
      report.set_step(step);
      last = quality / (1 + step) + noise(rng);
      report.set_value(last);
      v1::ReportIntermediateResponse reported;
      grpc::ClientContext report_context;
      SetDeadline(report_context);
      if (record
              .Time("ReportIntermediate",
                    [&] { return stub->ReportIntermediate(&report_context, report, &reported); })
              .ok()) {
        trial.reports.emplace_back(step, last);
        pruned = reported.should_prune();
      }
    }

    v1::TellRequest tell;
    tell.set_trial_id(trial.trial_id);
    tell.set_state(pruned ? v1::PRUNED : v1::COMPLETE);
    // As Optuna: a PRUNED trial's value is its last report, not told.
    if (!pruned) tell.add_values(last);
    v1::TellResponse told;
    grpc::ClientContext tell_context;
    SetDeadline(tell_context);
    if (record.Time("Tell", [&] { return stub->Tell(&tell_context, tell, &told); }).ok()) {
      trial.state = tell.state();
      trial.value = trial.reports.empty() || !pruned ? last : trial.reports.back().second;
    }
    acked.push_back(std::move(trial));
  }
}

void RunLister(const std::string& address, const std::string& study, const std::atomic<bool>& stop,
               Record& record) {
  auto stub = NewStub(address);
  while (!stop.load()) {
    v1::GetStudyRequest get;
    get.set_name(study);
    v1::GetStudyResponse got;
    grpc::ClientContext get_context;
    SetDeadline(get_context);
    record.Time("GetStudy", [&] { return stub->GetStudy(&get_context, get, &got); });
    v1::ListTrialsRequest list;
    list.set_study(study);
    list.set_page_size(100);
    v1::ListTrialsResponse listed;
    grpc::ClientContext list_context;
    SetDeadline(list_context);
    record.Time("ListTrials", [&] { return stub->ListTrials(&list_context, list, &listed); });
  }
}

// Reads one WatchStudy stream after another until `stop`; counts events
// and the streams the server ended for falling behind (by design, not an
// error: the caller watches again).
void RunWatcher(const std::string& address, const std::string& study, const std::atomic<bool>& stop,
                Record& record, std::atomic<int64_t>& events, std::atomic<int64_t>& restarts,
                std::mutex& contexts_mutex, std::vector<grpc::ClientContext*>& contexts) {
  auto stub = NewStub(address);
  v1::WatchStudyRequest request;
  request.set_study(study);
  while (!stop.load()) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(contexts_mutex);
      contexts.push_back(&context);
    }
    auto reader = stub->WatchStudy(&context, request);
    v1::WatchStudyResponse event;
    while (reader->Read(&event)) events.fetch_add(1);
    const grpc::Status status = reader->Finish();
    {
      std::lock_guard lock(contexts_mutex);
      std::erase(contexts, &context);
    }
    if (stop.load()) break;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      restarts.fetch_add(1);
    } else if (!status.ok()) {
      record.Time("WatchStudy", [&] { return status; });
    }
  }
}

// Every trial of `study`, by trial id; false (and the reason on stderr)
// if reading fails.
bool ReadTrials(v1::StudyService::Stub& stub, const std::string& study,
                std::map<int64_t, v1::Trial>* out) {
  std::string token;
  do {
    v1::ListTrialsRequest request;
    request.set_study(study);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListTrialsResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    const grpc::Status status = stub.ListTrials(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "load: ListTrials: %s\n", status.error_message().c_str());
      return false;
    }
    for (const v1::Trial& t : response.trials()) (*out)[t.trial_id()] = t;
    token = response.next_page_token();
  } while (!token.empty());
  return true;
}

// Acknowledged writes the server does not hold as acknowledged: a missing
// trial, parameter, report or told state counts one each.
int64_t CountLost(const std::vector<AckedTrial>& acked, const std::map<int64_t, v1::Trial>& stored,
                  std::string* first) {
  int64_t lost = 0;
  auto miss = [&](const std::string& what) {
    if (lost++ == 0) *first = what;
  };
  for (const AckedTrial& a : acked) {
    const auto it = stored.find(a.trial_id);
    if (it == stored.end()) {
      miss("trial id " + std::to_string(a.trial_id) + " is gone");
      continue;
    }
    const v1::Trial& t = it->second;
    for (const auto& [name, internal] : a.params) {
      const auto p = std::find_if(t.params().begin(), t.params().end(),
                                  [&](const v1::Parameter& q) { return q.name() == name; });
      if (p == t.params().end() || p->internal_value() != internal) {
        miss("trial id " + std::to_string(a.trial_id) + " lacks parameter " + name);
      }
    }
    for (const auto& [step, value] : a.reports) {
      const auto r = std::find_if(t.intermediate_values().begin(), t.intermediate_values().end(),
                                  [&](const v1::IntermediateValue& v) { return v.step() == step; });
      if (r == t.intermediate_values().end() || r->value() != value) {
        miss("trial id " + std::to_string(a.trial_id) + " lacks the report of step " +
             std::to_string(step));
      }
    }
    // A told trial has its state and one value: the told one, or for a
    // PRUNED trial its last acknowledged report.
    if (a.state != v1::RUNNING &&
        (t.state() != a.state || t.values_size() != 1 || t.values(0) != a.value)) {
      miss("trial id " + std::to_string(a.trial_id) + " is " + v1::TrialState_Name(t.state()) +
           ", told " + v1::TrialState_Name(a.state));
    }
  }
  return lost;
}

double Percentile(std::vector<float>& v, double q) {
  if (v.empty()) return std::nan("");
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

bool CreateStudy(v1::StudyService::Stub& stub, const std::string& name) {
  v1::CreateStudyRequest create;
  create.set_name(name);
  create.mutable_sampler()->mutable_random()->set_seed(1);
  auto* median = create.mutable_pruner()->mutable_median();
  median->set_n_startup_trials(5);
  median->set_n_warmup_steps(1);
  v1::CreateStudyResponse created;
  grpc::ClientContext context;
  SetDeadline(context);
  const grpc::Status status = stub.CreateStudy(&context, create, &created);
  if (!status.ok()) std::fprintf(stderr, "load: CreateStudy: %s\n", status.error_message().c_str());
  return status.ok();
}

// The 100,000-trial study: RSS per 1,000 trials while it fills, start-up
// time with it. Returns false on failure.
bool BigStudy(const Flags& flags) {
  LocalServer server;
  if (std::string e = server.Start(flags.server_binary); !e.empty()) {
    std::fprintf(stderr, "load: %s\n", e.c_str());
    return false;
  }
  auto stub = NewStub(server.address());
  if (!CreateStudy(*stub, "big")) return false;
  const double rss_empty = RssMb(server.pid());
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&, c] {
      auto client = NewStub(server.address());
      const v1::AskRequest ask = AskRequestFor("big", c);
      while (next.fetch_add(1) < flags.big_trials) {
        v1::AskResponse asked;
        grpc::ClientContext ask_context;
        SetDeadline(ask_context);
        if (!client->Ask(&ask_context, ask, &asked).ok()) {
          failures.fetch_add(1);
          continue;
        }
        v1::TellRequest tell;
        tell.set_trial_id(asked.trial().trial_id());
        tell.set_state(v1::COMPLETE);
        tell.add_values(asked.trial().params(0).internal_value());
        v1::TellResponse told;
        grpc::ClientContext tell_context;
        SetDeadline(tell_context);
        if (!client->Tell(&tell_context, tell, &told).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double fill_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double rss_full = RssMb(server.pid());
  stub.reset();
  if (const int code = server.Stop(); code != 0) {
    std::fprintf(stderr, "load: the big study's server exited %d\n", code);
    return false;
  }
  std::chrono::duration<double> startup{};
  if (std::string e = server.Restart(flags.server_binary, {}, &startup); !e.empty()) {
    std::fprintf(stderr, "load: restart: %s\n", e.c_str());
    return false;
  }
  const double rss_loaded = RssMb(server.pid());
  std::map<int64_t, v1::Trial> trials;
  auto reader = NewStub(server.address());
  if (!ReadTrials(*reader, "big", &trials)) return false;
  const int64_t db_bytes = static_cast<int64_t>(std::filesystem::file_size(server.db_path()));
  const double per_1000 = (rss_full - rss_empty) / (static_cast<double>(flags.big_trials) / 1000);
  std::printf(
      "\n%lld-trial study: filled in %.1f s by 4 clients (%lld failed calls); server RSS %.1f MiB "
      "empty, %.1f MiB full (%.3f MiB per 1,000 trials), %.1f MiB after a restart; database "
      "%.1f MiB; start-up with it %.2f s; %zu trials read back\n",
      static_cast<long long>(flags.big_trials), fill_s, static_cast<long long>(failures.load()),
      rss_empty, rss_full, per_1000, rss_loaded, static_cast<double>(db_bytes) / (1 << 20),
      startup.count(), trials.size());
  std::printf("load_big_study trials=%lld rss_mb_per_1000_trials=%.3f startup_s=%.2f read_back=%zu\n",
              static_cast<long long>(flags.big_trials), per_1000, startup.count(), trials.size());
  return failures.load() == 0 && static_cast<int64_t>(trials.size()) == flags.big_trials;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"parzen-server under sustained load, then a check of every acknowledged write"};
  app.add_option("--server-binary", flags.server_binary);
  app.add_option("--clients", flags.clients, "clients in all (workers, listers and watchers)");
  app.add_option("--listers", flags.listers, "of which loop GetStudy + ListTrials");
  app.add_option("--watchers", flags.watchers, "of which hold WatchStudy streams");
  app.add_option("--seconds", flags.seconds, "how long the load lasts");
  app.add_option("--big-trials", flags.big_trials, "trials of the memory / start-up study (0: none)");
  CLI11_PARSE(app, argc, argv);
  const int workers = flags.clients - flags.listers - flags.watchers;
  if (workers < 1) {
    std::fprintf(stderr, "load: --clients must exceed --listers + --watchers\n");
    return 2;
  }

  LocalServer server;
  if (std::string e = server.Start(flags.server_binary); !e.empty()) {
    std::fprintf(stderr, "load: %s\n", e.c_str());
    return 1;
  }
  auto admin = NewStub(server.address());
  if (!CreateStudy(*admin, "load")) return 1;
  const double rss_before = RssMb(server.pid());

  std::atomic<bool> stop{false};
  std::vector<Record> records(static_cast<size_t>(flags.clients));
  std::vector<std::vector<AckedTrial>> acked(static_cast<size_t>(workers));
  std::atomic<int64_t> events{0}, restarts{0};
  std::mutex contexts_mutex;
  std::vector<grpc::ClientContext*> watch_contexts;
  std::vector<std::thread> threads;
  for (int c = 0; c < flags.clients; ++c) {
    Record& record = records[static_cast<size_t>(c)];
    if (c < workers) {
      threads.emplace_back(RunWorker, server.address(), "load", c, std::cref(stop),
                           std::ref(record), std::ref(acked[static_cast<size_t>(c)]));
    } else if (c < workers + flags.listers) {
      threads.emplace_back(RunLister, server.address(), "load", std::cref(stop), std::ref(record));
    } else {
      threads.emplace_back(RunWatcher, server.address(), "load", std::cref(stop), std::ref(record),
                           std::ref(events), std::ref(restarts), std::ref(contexts_mutex),
                           std::ref(watch_contexts));
    }
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stop.store(true);
  {
    std::lock_guard lock(contexts_mutex);
    for (grpc::ClientContext* c : watch_contexts) c->TryCancel();
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double rss_after = RssMb(server.pid());

  // Merge what the clients saw.
  std::map<std::string, std::vector<float>> latency;
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> first_error;
  std::vector<float> all;
  for (Record& r : records) {
    for (auto& [rpc, v] : r.latency_ms) {
      latency[rpc].insert(latency[rpc].end(), v.begin(), v.end());
      all.insert(all.end(), v.begin(), v.end());
    }
    for (const auto& [rpc, n] : r.errors) {
      errors[rpc] += n;
      first_error.emplace(rpc, r.first_error[rpc]);
    }
  }
  int64_t total_errors = 0;
  std::printf("parzen-server, file database, %d clients (%d workers, %d listers, %d watchers), "
              "%.1f s\n\n",
              flags.clients, workers, flags.listers, flags.watchers, elapsed);
  std::printf("%-20s %10s %10s %9s %9s %9s %7s\n", "rpc", "calls", "calls/s", "p50 ms", "p99 ms",
              "p999 ms", "errors");
  for (auto& [rpc, v] : latency) {
    const int64_t n = static_cast<int64_t>(v.size());
    const double p50 = Percentile(v, 0.5), p99 = Percentile(v, 0.99), p999 = Percentile(v, 0.999);
    std::printf("%-20s %10lld %10.0f %9.2f %9.2f %9.2f %7lld\n", rpc.c_str(),
                static_cast<long long>(n), static_cast<double>(n) / elapsed, p50, p99, p999,
                static_cast<long long>(errors[rpc]));
    total_errors += errors[rpc];
  }
  for (const auto& [rpc, e] : first_error) std::printf("first %s error: %s\n", rpc.c_str(), e.c_str());
  std::printf("WatchStudy: %lld events, %lld streams ended for falling behind (watched again)\n",
              static_cast<long long>(events.load()), static_cast<long long>(restarts.load()));
  std::printf("server RSS %.1f MiB before, %.1f MiB after\n", rss_before, rss_after);

  // Every acknowledged write, from the running server and after a restart.
  std::vector<AckedTrial> every;
  for (auto& a : acked) every.insert(every.end(), a.begin(), a.end());
  int64_t told = 0, pruned = 0;
  for (const AckedTrial& a : every) {
    told += a.state != v1::RUNNING;
    pruned += a.state == v1::PRUNED;
  }
  std::map<int64_t, v1::Trial> live;
  if (!ReadTrials(*admin, "load", &live)) return 1;
  std::string first_lost;
  int64_t lost = CountLost(every, live, &first_lost);
  admin.reset();
  const int stop_code = server.Stop();
  std::chrono::duration<double> startup{};
  if (std::string e = server.Restart(flags.server_binary, {}, &startup); !e.empty()) {
    std::fprintf(stderr, "load: restart: %s\n", e.c_str());
    return 1;
  }
  std::map<int64_t, v1::Trial> durable;
  auto reader = NewStub(server.address());
  if (!ReadTrials(*reader, "load", &durable)) return 1;
  lost += CountLost(every, durable, &first_lost);
  std::printf("checked %zu trials (%lld told, %lld of them pruned) live and after a restart "
              "(stop exit code %d, start-up %.2f s): %lld acknowledged writes missing%s%s\n",
              every.size(), static_cast<long long>(told), static_cast<long long>(pruned), stop_code,
              startup.count(), static_cast<long long>(lost), lost ? "; first: " : "",
              first_lost.c_str());
  if (stop_code != 0) ++total_errors;
  reader.reset();
  server.Stop();

  bool big_ok = true;
  if (flags.big_trials > 0) big_ok = BigStudy(flags);

  std::printf("\nload clients=%d seconds=%.0f errors=%lld lost=%lld p99_ms=%.2f rss_growth_mb=%.1f\n",
              flags.clients, flags.seconds, static_cast<long long>(total_errors),
              static_cast<long long>(lost), Percentile(all, 0.99), rss_after - rss_before);
  return total_errors == 0 && lost == 0 && big_ok ? 0 : 1;
}
