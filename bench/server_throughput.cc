// server_throughput: a load generator for parzen-server. C clients, each on
// its own gRPC channel, loop Ask (3-parameter search space) + Tell against a
// server with a file database for a fixed time; then the same workload is
// measured through Optuna's own path (bench/optuna_throughput.py) on this
// machine, and the last line printed compares the two.
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "bench/local_server.h"
#include "parzen/v1/study_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = parzen::v1;
using parzen::bench::LocalServer;
using parzen::bench::ReadFile;

// Deadline of each RPC; generous, since a timeout here is a failed run anyway.
constexpr auto kRpcDeadline = std::chrono::seconds(30);

struct Flags {
  std::string server;
  std::string server_binary = PARZEN_SERVER_BINARY;
  int clients = 8;
  double seconds = 10;
  double warmup_seconds = 1;
  double floor_seconds = 5;
  bool optuna = true;
  int optuna_processes = 4;
  double optuna_seconds = 10;
  std::string python = "/usr/bin/python3";
  std::string optuna_script = PARZEN_OPTUNA_SCRIPT;
};


std::string RpcError(const char* rpc, const grpc::Status& s) {
  return std::string(rpc) + " failed: code " + std::to_string(static_cast<int>(s.error_code())) +
         ": " + s.error_message();
}

// CPU seconds (user + system) used so far by process `pid`, from
// /proc/PID/stat; NaN if it cannot be read.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name, which may hold spaces, start after ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nan("");
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) {
      stime = std::strtod(field.c_str(), nullptr);
      return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return std::nan("");
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// CPU used by the server and by this load generator during the measured
// window: steadier than trials/s on a noisy machine, and it shows which
// side a change helped.
class CpuWindow {
 public:
  CpuWindow(pid_t server, Clock::time_point begin, Clock::time_point end)
      : thread_([=, this] {
          std::this_thread::sleep_until(begin);
          const double server0 = ProcessCpuSeconds(server), self0 = SelfCpuSeconds();
          std::this_thread::sleep_until(end);
          server_seconds_ = ProcessCpuSeconds(server) - server0;
          self_seconds_ = SelfCpuSeconds() - self0;
        }) {}
  ~CpuWindow() { Join(); }
  // Waits for the window to close.
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  double server_seconds() const { return server_seconds_; }
  double self_seconds() const { return self_seconds_; }

 private:
  double server_seconds_ = std::nan("");
  double self_seconds_ = std::nan("");
  std::thread thread_;
};

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + kRpcDeadline;
}

// A parzen-server started by the benchmark on a file database in a temporary
// directory; stopped with SIGTERM by Stop() or the destructor. Not thread-safe.
v1::AskRequest MakeAskRequest(const std::string& study, int client) {
  v1::AskRequest req;
  req.set_study(study);
  req.set_worker_id("bench-" + std::to_string(client));
  v1::ParameterSpec* lr = req.add_search_space();
  lr->set_name("lr");
  v1::FloatDistribution* f = lr->mutable_distribution()->mutable_float_distribution();
  f->set_low(1e-5);
  f->set_high(1e-1);
  f->set_log(true);
  v1::ParameterSpec* units = req.add_search_space();
  units->set_name("units");
  v1::IntDistribution* i = units->mutable_distribution()->mutable_int_distribution();
  i->set_low(16);
  i->set_high(256);
  v1::ParameterSpec* opt = req.add_search_space();
  opt->set_name("optimizer");
  v1::CategoricalDistribution* c = opt->mutable_distribution()->mutable_categorical_distribution();
  for (const char* choice : {"sgd", "adam", "rmsprop"}) c->add_choices()->set_string_value(choice);
  return req;
}

// A cheap deterministic objective of the sampled parameters, so Tell carries
// a real value.
double Objective(const v1::Trial& trial) {
  double value = 0;
  for (const v1::Parameter& p : trial.params()) {
    if (p.name() == "lr" && p.value().has_double_value()) {
      const double x = std::log10(p.value().double_value()) + 3;
      value += x * x;
    } else if (p.name() == "units" && p.value().has_int_value()) {
      const double x = (static_cast<double>(p.value().int_value()) - 128) / 128;
      value += x * x;
    } else if (p.name() == "optimizer") {
      value += 0.1 * p.internal_value();
    }
  }
  return value;
}

// What one client thread measured. Latencies are in microseconds.
struct ClientResult {
  int64_t trials_total = 0;     // every Tell that succeeded, warmup included
  int64_t trials_measured = 0;  // Tells that finished inside the measured window
  std::vector<double> ask_us;
  std::vector<double> tell_us;
};

struct Shared {
  Clock::time_point measure_begin;
  Clock::time_point measure_end;
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string first_error;  // guarded by mu

  void Fail(const std::string& error) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = error;
    failed = true;
  }
};

// kAskTell is the benchmark. kReadFloor loops two GetTrial reads of one
// trial instead and writes nothing: what gRPC and the loop alone cost on
// this machine, the floor under any Ask+Tell.
enum class Workload { kAskTell, kReadFloor };

// One client: Ask, then Tell, then Ask again, until the window closes. All
// clients run on one completion queue drained by one thread, which also
// polls the sockets: no thread is woken per call, so the load generator,
// which shares the two cores with the server, spends as little as it can.
class Client {
 public:
  Client(v1::StudyService::Stub* stub, const v1::AskRequest* ask_req, Workload workload,
         int64_t read_trial_id, Shared* shared, ClientResult* out, grpc::CompletionQueue* cq)
      : stub_(stub),
        ask_req_(ask_req),
        workload_(workload),
        shared_(shared),
        out_(out),
        cq_(cq) {
    out_->ask_us.reserve(1 << 16);
    out_->tell_us.reserve(1 << 16);
    tell_req_.set_state(v1::COMPLETE);
    get_req_.set_trial_id(read_trial_id);
  }

  // Returns false once the client has stopped (window over or an error).
  bool StartAsk() {
    t0_ = Clock::now();
    if (t0_ >= shared_->measure_end || shared_->failed.load(std::memory_order_relaxed)) {
      return false;
    }
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(Deadline());
    asking_ = true;
    if (workload_ == Workload::kReadFloor) return StartGet();
    ask_reader_ = stub_->AsyncAsk(ctx_.get(), *ask_req_, cq_);
    ask_reader_->Finish(&ask_resp_, &status_, this);
    return true;
  }

  // Handles the completion of the call in flight; false once stopped.
  bool Proceed() { return asking_ ? OnAsk() : OnTell(); }

 private:
  bool StartGet() {
    get_reader_ = stub_->AsyncGetTrial(ctx_.get(), get_req_, cq_);
    get_reader_->Finish(&get_resp_, &status_, this);
    return true;
  }

  bool OnAsk() {
    t1_ = Clock::now();
    if (workload_ == Workload::kReadFloor) {
      if (!status_.ok()) return Fail(RpcError("GetTrial", status_));
      if (get_resp_.trial().params_size() != 3) return Fail("GetTrial: want 3 parameters");
      ctx_ = std::make_unique<grpc::ClientContext>();
      ctx_->set_deadline(Deadline());
      asking_ = false;
      return StartGet();
    }
    if (!status_.ok()) return Fail(RpcError("Ask", status_));
    if (ask_resp_.trial().params_size() != 3) {
      return Fail("Ask returned " + std::to_string(ask_resp_.trial().params_size()) +
                  " parameters, want 3");
    }
    tell_req_.set_trial_id(ask_resp_.trial().trial_id());
    tell_req_.clear_values();
    tell_req_.add_values(Objective(ask_resp_.trial()));
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(Deadline());
    asking_ = false;
    tell_reader_ = stub_->AsyncTell(ctx_.get(), tell_req_, cq_);
    tell_reader_->Finish(&tell_resp_, &status_, this);
    return true;
  }

  bool OnTell() {
    const Clock::time_point t2 = Clock::now();
    if (workload_ == Workload::kReadFloor) {
      if (!status_.ok()) return Fail(RpcError("GetTrial", status_));
    } else if (!status_.ok()) {
      return Fail(RpcError("Tell", status_));
    } else if (tell_resp_.trial().state() != v1::COMPLETE) {
      return Fail("Tell stored state " + v1::TrialState_Name(tell_resp_.trial().state()) + " (" +
                  tell_resp_.message() + "), want COMPLETE");
    }
    ++out_->trials_total;
    auto in_window = [&](Clock::time_point t) {
      return t >= shared_->measure_begin && t < shared_->measure_end;
    };
    if (in_window(t1_)) {
      out_->ask_us.push_back(std::chrono::duration<double, std::micro>(t1_ - t0_).count());
    }
    if (in_window(t2)) {
      out_->tell_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1_).count());
      ++out_->trials_measured;
    }
    return StartAsk();
  }

  bool Fail(const std::string& error) {
    shared_->Fail(error);
    return false;
  }

  v1::StudyService::Stub* const stub_;
  const v1::AskRequest* const ask_req_;
  const Workload workload_;
  Shared* const shared_;
  ClientResult* const out_;
  grpc::CompletionQueue* const cq_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::AskResponse>> ask_reader_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::TellResponse>> tell_reader_;
  grpc::Status status_;
  bool asking_ = true;
  v1::AskResponse ask_resp_;
  v1::TellRequest tell_req_;
  v1::TellResponse tell_resp_;
  v1::GetTrialRequest get_req_;
  v1::GetTrialResponse get_resp_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetTrialResponse>> get_reader_;
  Clock::time_point t0_, t1_;
};

// Nearest-rank percentile in milliseconds; `v` is reordered.
double PercentileMs(std::vector<double>& v, double p) {
  if (v.empty()) return std::nan("");
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  return v[rank] / 1000.0;
}

// Runs bench/optuna_throughput.py and returns its trials/s, or NaN with
// `error` set.
double RunOptuna(const Flags& flags, std::string* error) {
  std::ostringstream cmd;
  cmd << "'" << flags.python << "' '" << flags.optuna_script << "' --processes "
      << flags.optuna_processes << " --seconds " << flags.optuna_seconds;
  FILE* pipe = popen(cmd.str().c_str(), "r");
  if (pipe == nullptr) {
    *error = "cannot run " + cmd.str();
    return std::nan("");
  }
  std::string output;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  double result = std::nan("");
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::printf("  %s\n", line.c_str());
    if (line.rfind("optuna_throughput ", 0) != 0) continue;
    const size_t pos = line.find("trials_per_s=");
    if (pos != std::string::npos) result = std::strtod(line.c_str() + pos + 13, nullptr);
  }
  std::fflush(stdout);
  if (status != 0) {
    *error = cmd.str() + " exited with status " + std::to_string(status);
    return std::nan("");
  }
  if (std::isnan(result)) *error = "no optuna_throughput line in the output of " + cmd.str();
  return result;
}

void PrintResult(double parzen, double optuna) {
  const double ratio = (std::isnan(optuna) || optuna <= 0) ? std::nan("") : parzen / optuna;
  std::printf("server_throughput parzen_trials_per_s=%.1f optuna_trials_per_s=%.1f ratio=%.1f\n",
              parzen, optuna, ratio);
  std::fflush(stdout);
}

// What the clients did in one measured window. Latencies are in
// microseconds: `first_us` of Ask (or the first read), `second_us` of Tell.
struct Window {
  int64_t loops_total = 0;     // warmup included
  int64_t loops_measured = 0;  // finished inside the window
  std::vector<double> first_us;
  std::vector<double> second_us;
  double server_cpu_s = std::nan("");
  double self_cpu_s = std::nan("");
  std::string error;  // the first RPC error; the window is void then

  double server_cpu_us_per_loop() const { return server_cpu_s * 1e6 / Loops(); }
  double self_cpu_us_per_loop() const { return self_cpu_s * 1e6 / Loops(); }

 private:
  double Loops() const { return std::max<double>(1, static_cast<double>(loops_measured)); }
};

// Runs one client per stub until `warmup + seconds` have passed, measuring
// the last `seconds` and the CPU of process `cpu_pid` meanwhile.
Window Measure(const std::vector<std::unique_ptr<v1::StudyService::Stub>>& stubs,
               const std::vector<v1::AskRequest>& ask_reqs, Workload workload,
               int64_t read_trial_id, double warmup, double seconds, pid_t cpu_pid) {
  Shared shared;
  shared.measure_begin = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(warmup));
  shared.measure_end = shared.measure_begin + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(seconds));
  std::vector<ClientResult> results(stubs.size());
  CpuWindow cpu(cpu_pid, shared.measure_begin, shared.measure_end);
  {
    grpc::CompletionQueue cq;
    std::vector<std::unique_ptr<Client>> clients;
    int running = 0;
    for (size_t k = 0; k < stubs.size(); ++k) {
      clients.push_back(std::make_unique<Client>(stubs[k].get(), &ask_reqs[k], workload,
                                                 read_trial_id, &shared, &results[k], &cq));
      running += clients.back()->StartAsk();
    }
    void* tag = nullptr;
    bool ok = false;
    while (running > 0 && cq.Next(&tag, &ok)) {
      if (!static_cast<Client*>(tag)->Proceed()) --running;
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }
  cpu.Join();
  Window w;
  w.error = shared.first_error;
  w.server_cpu_s = cpu.server_seconds();
  w.self_cpu_s = cpu.self_seconds();
  for (const ClientResult& r : results) {
    w.loops_total += r.trials_total;
    w.loops_measured += r.trials_measured;
    w.first_us.insert(w.first_us.end(), r.ask_us.begin(), r.ask_us.end());
    w.second_us.insert(w.second_us.end(), r.tell_us.begin(), r.tell_us.end());
  }
  return w;
}

int Run(const Flags& flags) {
  LocalServer local;
  std::string address = flags.server;
  if (address.empty()) {
    const std::string err = local.Start(flags.server_binary);
    if (!err.empty()) {
      std::fprintf(stderr, "server_throughput: %s\n", err.c_str());
      return 1;
    }
    address = local.address();
    std::printf("parzen-server started at %s, database %s\n", address.c_str(),
                local.db_path().c_str());
  } else {
    std::printf("parzen-server at %s (not started by the benchmark)\n", address.c_str());
  }

  // One channel per client, each with a distinct argument and a local
  // subchannel pool, so every client has its own HTTP/2 connection.
  std::vector<std::unique_ptr<v1::StudyService::Stub>> stubs;
  for (int i = 0; i < flags.clients; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("parzen.client", i);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "server_throughput: client %d cannot connect to %s\n", i,
                   address.c_str());
      local.KeepDir();
      return 1;
    }
    stubs.push_back(v1::StudyService::NewStub(channel));
  }

  // Random sampler and no pruner, so the measurement is the server's own path.
  const std::string study = "server-throughput-" + std::to_string(getpid()) + "-" +
                            std::to_string(Clock::now().time_since_epoch().count());
  {
    v1::CreateStudyRequest req;
    req.set_name(study);
    req.add_directions(v1::MINIMIZE);
    req.mutable_sampler()->mutable_random();
    req.mutable_pruner()->mutable_nop();
    v1::CreateStudyResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status s = stubs[0]->CreateStudy(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "server_throughput: %s\n", RpcError("CreateStudy", s).c_str());
      local.KeepDir();
      return 1;
    }
  }

  std::vector<v1::AskRequest> ask_reqs;
  for (int i = 0; i < flags.clients; ++i) ask_reqs.push_back(MakeAskRequest(study, i));
  // Only a server the benchmark started has a pid to read.
  const pid_t cpu_pid = flags.server.empty() ? local.pid() : getpid();
  Window run = Measure(stubs, ask_reqs, Workload::kAskTell, 0, flags.warmup_seconds,
                       flags.seconds, cpu_pid);
  if (!run.error.empty()) {
    std::fprintf(stderr, "server_throughput: RPC error, the measurement is void: %s\n",
                 run.error.c_str());
    if (!flags.server.empty()) return 1;
    local.KeepDir();
    std::fprintf(stderr, "server log (%s):\n%s", local.log_path().c_str(), local.Log().c_str());
    return 1;
  }
  const int64_t trials_total = run.loops_total;
  const int64_t trials_measured = run.loops_measured;
  std::vector<double>& ask_us = run.first_us;
  std::vector<double>& tell_us = run.second_us;
  const double parzen_tps = static_cast<double>(trials_measured) / flags.seconds;

  // Sanity: every Tell the clients saw succeed is a COMPLETE trial.
  {
    v1::GetStudyRequest req;
    req.set_name(study);
    v1::GetStudyResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status s = stubs[0]->GetStudy(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "server_throughput: %s\n", RpcError("GetStudy", s).c_str());
      local.KeepDir();
      return 1;
    }
    const v1::StudySummary& sum = resp.summary();
    std::printf("server check: n_trials=%lld n_complete=%lld n_running=%lld (clients told %lld)\n",
                static_cast<long long>(sum.n_trials()), static_cast<long long>(sum.n_complete()),
                static_cast<long long>(sum.n_running()), static_cast<long long>(trials_total));
    if (sum.n_complete() < trials_total) {
      std::fprintf(stderr, "server_throughput: server has %lld COMPLETE trials, clients told %lld\n",
                   static_cast<long long>(sum.n_complete()), static_cast<long long>(trials_total));
      local.KeepDir();
      return 1;
    }
  }
  std::optional<Window> read_floor;
  if (flags.floor_seconds > 0) {
    v1::AskResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = stubs[0]->Ask(&ctx, ask_reqs[0], &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "server_throughput: %s\n", RpcError("Ask", st).c_str());
      return 1;
    }
    read_floor = Measure(stubs, ask_reqs, Workload::kReadFloor, resp.trial().trial_id(), 0.5,
                         flags.floor_seconds, cpu_pid);
    if (!read_floor->error.empty()) {
      std::fprintf(stderr, "server_throughput: floor: %s\n", read_floor->error.c_str());
      return 1;
    }
  }
  stubs.clear();
  if (flags.server.empty()) {
    const int code = local.Stop();
    if (code != 0) {
      std::fprintf(stderr, "server_throughput: parzen-server exited with %d; log (%s):\n%s", code,
                   local.log_path().c_str(), local.Log().c_str());
      return 1;
    }
  }

  std::printf("\n%8s %8s %9s %10s %11s %11s %12s %12s\n", "clients", "seconds", "trials",
              "trials/s", "ask_p50_ms", "ask_p99_ms", "tell_p50_ms", "tell_p99_ms");
  std::printf("%8d %8.1f %9lld %10.1f %11.3f %11.3f %12.3f %12.3f\n\n", flags.clients,
              flags.seconds, static_cast<long long>(trials_measured), parzen_tps,
              PercentileMs(ask_us, 0.50), PercentileMs(ask_us, 0.99),
              PercentileMs(tell_us, 0.50), PercentileMs(tell_us, 0.99));
  std::printf("CPU per trial: server %.0f us, load generator %.0f us (2 cores give %.0f us per "
              "trial at 5,000 trials/s)\n\n",
              flags.server.empty() ? run.server_cpu_us_per_loop() : std::nan(""),
              run.self_cpu_us_per_loop(), 2e6 / 5000);
  if (read_floor) {
    const double loops_per_s =
        static_cast<double>(read_floor->loops_measured) / flags.floor_seconds;
    std::printf("transport floor (the same clients, 2 GetTrial reads per loop, nothing written): "
                "%.1f loops/s; CPU per loop: server %.0f us, load generator %.0f us\n\n",
                loops_per_s,
                flags.server.empty() ? read_floor->server_cpu_us_per_loop() : std::nan(""),
                read_floor->self_cpu_us_per_loop());
  }
  std::fflush(stdout);

  if (!flags.optuna) {
    PrintResult(parzen_tps, std::nan(""));
    return 0;
  }
  std::printf("optuna (%s, %d processes, %.1f s):\n", flags.python.c_str(),
              flags.optuna_processes, flags.optuna_seconds);
  std::fflush(stdout);
  std::string error;
  const double optuna_tps = RunOptuna(flags, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "server_throughput: %s\n", error.c_str());
    PrintResult(parzen_tps, std::nan(""));
    return 1;
  }
  PrintResult(parzen_tps, optuna_tps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As parzen-server does: Debian's Abseil checks every gRPC lock for
  // deadlock cycles otherwise, which costs the load generator CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Flags flags;
  CLI::App app{"server_throughput: Ask+Tell load on parzen-server, compared with Optuna"};
  app.add_option("--server", flags.server, "address of a running server; empty: start one");
  app.add_option("--server-binary", flags.server_binary, "parzen-server to start")
      ->capture_default_str();
  app.add_option("--clients", flags.clients, "concurrent clients, one channel each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", flags.seconds, "measured time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup-seconds", flags.warmup_seconds, "unmeasured time before")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--floor-seconds", flags.floor_seconds,
                 "then measure the transport floor (reads only) this long; 0 skips it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--optuna,!--no-optuna", flags.optuna, "also measure Optuna on this machine")
      ->capture_default_str();
  app.add_option("--optuna-processes", flags.optuna_processes, "Optuna worker processes")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--optuna-seconds", flags.optuna_seconds, "Optuna measured time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--python", flags.python, "python with optuna installed")->capture_default_str();
  app.add_option("--optuna-script", flags.optuna_script, "the Optuna side of the benchmark")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // A server that went away must show up as a failed RPC, not kill us.
  signal(SIGPIPE, SIG_IGN);
  return Run(flags);
}
