// sampler_quality: how good each sampler's search is, per trial. A real
// server is driven through the C++ client on standard test functions
// (Branin, Hartmann-6, Rosenbrock-4 on [-5, 10]^4, and a mixed space of a
// categorical, an int and a log-float), 100 trials x 10 seeds per sampler,
// and the best value after a quarter, half and all of the trials is
// summarised over the seeds (median and quartiles). Optuna's samplers run
// the same functions and seeds in the same run
// (bench/optuna_sampler_quality.py), side by side.
//
// Verdict per function, for each TPE mode against the same mode in Optuna:
// "not worse" when Parzen's median best at the last checkpoint is at most
// Optuna's upper quartile there (inside its spread or below it), "better"
// when it is below Optuna's lower quartile. A function counts for J (B)
// when both modes are not worse (better).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/key_values.h"
#include "bench/local_server.h"
#include "client/client.h"
#include "client/study.h"
#include "client/trial.h"
#include "common/search_space.h"

namespace {

using parzen::CategoricalDistribution;
using parzen::FloatDistribution;
using parzen::IntDistribution;
using parzen::ParamValue;
using parzen::SearchSpace;
using Params = std::map<std::string, ParamValue>;

struct Flags {
  std::string server_binary = PARZEN_SERVER_BINARY;
  int seeds = 10;
  int trials = 100;
  int clients = 2;
  bool optuna = true;
  std::string python = "/usr/bin/python3";
  std::string optuna_script = PARZEN_OPTUNA_SCRIPT;
  std::vector<std::string> functions;  // empty: all
  std::optional<bool> bandwidth_weighting;  // unset: the server's default
  bool per_seed = false;               // also print every study's figures
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sampler_quality: %s\n", what.c_str());
  std::exit(1);
}

double Float(const Params& p, const std::string& name) { return std::get<double>(p.at(name)); }

struct TestFunction {
  std::string name;
  SearchSpace space;
  std::function<double(const Params&)> value;
  Params check_point;  // the Python side evaluates the same point
  bool continuous = true;  // CMA-ES applies
  double optimum = 0;
};

FloatDistribution Uniform(double low, double high, bool log = false) {
  return FloatDistribution{low, high, log, std::nullopt};
}

SearchSpace Box(const std::vector<std::string>& names, double low, double high) {
  SearchSpace space;
  for (const auto& n : names) space.push_back({n, Uniform(low, high)});
  return space;
}

std::vector<std::string> Xs(int d) {
  std::vector<std::string> names;
  for (int j = 0; j < d; ++j) names.push_back("x" + std::to_string(j));
  return names;
}

double Branin(const Params& p) {
  const double x1 = Float(p, "x1"), x2 = Float(p, "x2");
  const double pi = std::numbers::pi;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  return std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
}

double Hartmann6(const Params& p) {
  static constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                      {0.05, 10, 17, 0.1, 8, 14},
                                      {3, 3.5, 1.7, 10, 17, 8},
                                      {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double kP[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                      {2329, 4135, 8307, 3736, 1004, 9991},
                                      {2348, 1451, 3522, 2883, 3047, 6650},
                                      {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      inner += kA[i][j] * std::pow(Float(p, "x" + std::to_string(j)) - kP[i][j] * 1e-4, 2);
    }
    total += kAlpha[i] * std::exp(-inner);
  }
  return -total;
}

double Rosenbrock4(const Params& p) {
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    const double x = Float(p, "x" + std::to_string(i)), next = Float(p, "x" + std::to_string(i + 1));
    total += 100 * std::pow(next - x * x, 2) + std::pow(1 - x, 2);
  }
  return total;
}

const std::map<std::string, double> kMixedOffset = {{"relu", 0.0}, {"tanh", 0.3}, {"sigmoid", 1.0}};

double Mixed(const Params& p) {
  const double units = static_cast<double>(std::get<int64_t>(p.at("units")));
  return std::pow(std::log10(Float(p, "lr")) + 2.5, 2) + std::pow((units - 40) / 32, 2) +
         kMixedOffset.at(std::get<std::string>(p.at("activation")));
}

std::vector<TestFunction> Functions() {
  std::vector<TestFunction> out;
  SearchSpace branin = {{"x1", Uniform(-5, 10)}, {"x2", Uniform(0, 15)}};
  out.push_back({"branin", branin, Branin, {{"x1", 1.25}, {"x2", 3.5}}, true, 0.397887});
  Params hartmann_check, rosenbrock_check;
  for (int j = 0; j < 6; ++j) hartmann_check["x" + std::to_string(j)] = 0.1 + 0.13 * j;
  for (int j = 0; j < 4; ++j) rosenbrock_check["x" + std::to_string(j)] = 0.5 * j - 1;
  out.push_back({"hartmann6", Box(Xs(6), 0, 1), Hartmann6, hartmann_check, true, -3.32237});
  out.push_back({"rosenbrock4", Box(Xs(4), -5, 10), Rosenbrock4, rosenbrock_check, true, 0});
  SearchSpace mixed = {
      {"activation", CategoricalDistribution{{std::string("relu"), std::string("tanh"), std::string("sigmoid")}}},
      {"units", IntDistribution{1, 128}},
      {"lr", Uniform(1e-5, 1, /*log=*/true)}};
  out.push_back({"mixed", mixed, Mixed,
                 {{"activation", std::string("tanh")}, {"units", int64_t{17}}, {"lr", 3e-4}}, false, 0});
  return out;
}

// Parzen's arms: name -> the sampler with a seed.
struct Arm {
  std::string name;
  std::function<parzen::v1::SamplerConfig(uint64_t seed)> sampler;
  bool continuous_only = false;
};

std::vector<Arm> ParzenArms(std::optional<bool> bandwidth_weighting) {
  return {
      {"tpe_univariate",
       [=](uint64_t seed) {
         parzen::v1::SamplerConfig c;
         c.mutable_tpe()->set_seed(seed);
         c.mutable_tpe()->set_multivariate(false);
         c.mutable_tpe()->set_group(false);
         if (bandwidth_weighting) c.mutable_tpe()->set_bandwidth_weighting(*bandwidth_weighting);
         return c;
       }},
      {"tpe_multivariate",
       [=](uint64_t seed) {
         parzen::v1::SamplerConfig c;
         c.mutable_tpe()->set_seed(seed);
         c.mutable_tpe()->set_multivariate(true);
         if (bandwidth_weighting) c.mutable_tpe()->set_bandwidth_weighting(*bandwidth_weighting);
         return c;
       }},
      {"cmaes",
       [](uint64_t seed) {
         parzen::v1::SamplerConfig c;
         c.mutable_cmaes()->set_seed(seed);
         return c;
       },
       true},
      {"qmc",
       [](uint64_t seed) {
         parzen::v1::SamplerConfig c;
         c.mutable_qmc()->set_seed(seed);
         return c;
       }},
      {"random",
       [](uint64_t seed) {
         parzen::v1::SamplerConfig c;
         c.mutable_random()->set_seed(seed);
         return c;
       }},
  };
}

std::vector<int> Checkpoints(int trials) {
  std::vector<int> c = {std::max(1, trials / 4), std::max(1, trials / 2), trials};
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

// results[function]["parzen tpe_univariate"] -> per seed, the best value at
// each checkpoint.
using Results = std::map<std::string, std::map<std::string, std::vector<std::vector<double>>>>;

struct Job {
  const TestFunction* function;
  const Arm* arm;
  int seed;
};

std::vector<double> RunParzen(parzen::client::Client& client, const Job& job, int trials) {
  parzen::client::StudyOptions options;
  options.name = job.function->name + "-" + job.arm->name + "-" + std::to_string(job.seed);
  options.sampler = job.arm->sampler(static_cast<uint64_t>(job.seed));
  options.pruner.mutable_nop();
  auto study = client.CreateStudy(options);
  if (!study.ok()) Die("CreateStudy " + options.name + ": " + study.status().ToString());
  std::vector<double> bests;
  const std::vector<int> checkpoints = Checkpoints(trials);
  double best = INFINITY;
  for (int t = 1; t <= trials; ++t) {
    auto trial = study->Ask(job.function->space);
    if (!trial.ok()) Die("Ask " + options.name + ": " + trial.status().ToString());
    const double value = job.function->value(trial->params());
    if (auto told = study->Tell(*trial, value); !told.ok()) {
      Die("Tell " + options.name + ": " + told.status().ToString());
    }
    best = std::min(best, value);
    if (std::find(checkpoints.begin(), checkpoints.end(), t) != checkpoints.end()) bests.push_back(best);
  }
  return bests;
}

// Runs the Python side, adding its results to `results` under "optuna ..."
// and checking that it evaluates each function as this side does.
void RunOptuna(const Flags& f, const std::vector<TestFunction>& functions, Results& results,
               std::mutex& mu) {
  std::string cmd = f.python + " " + f.optuna_script + " --seeds " + std::to_string(f.seeds) +
                    " --trials " + std::to_string(f.trials) + " --functions ";
  for (size_t i = 0; i < functions.size(); ++i) cmd += (i ? "," : "") + functions[i].name;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) Die("cannot run " + cmd);
  char line[1024];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::map<std::string, std::string> fields = parzen::bench::KeyValues(line);
    if (std::string_view(line).starts_with("check ")) {
      const auto it = std::find_if(functions.begin(), functions.end(),
                                   [&](const TestFunction& fn) { return fn.name == fields["function"]; });
      if (it == functions.end()) Die("Optuna's side has a function this side lacks: " + fields["function"]);
      const double theirs = std::stod(fields["value"]), ours = it->value(it->check_point);
      if (std::fabs(theirs - ours) > 1e-9 * std::max(1.0, std::fabs(ours))) {
        Die(it->name + " differs between the two sides: " + std::to_string(ours) + " here, " +
            fields["value"] + " in Python");
      }
    } else if (std::string_view(line).starts_with("optuna ")) {
      std::vector<double> bests;
      for (int k : Checkpoints(f.trials)) bests.push_back(std::stod(fields.at("best" + std::to_string(k))));
      std::lock_guard lock(mu);
      results[fields["function"]]["optuna " + fields["sampler"]].push_back(bests);
    }
  }
  if (int rc = pclose(pipe); rc != 0) Die(cmd + " failed (status " + std::to_string(rc) + ")");
}

// Quantile with linear interpolation between order statistics (numpy's default).
double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

struct Summary {
  double q1, median, q3;
};

Summary Summarise(const std::vector<std::vector<double>>& per_seed, size_t checkpoint) {
  std::vector<double> v;
  for (const auto& bests : per_seed) v.push_back(bests[checkpoint]);
  return {Quantile(v, 0.25), Quantile(v, 0.5), Quantile(v, 0.75)};
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"sampler_quality: best value per trial budget on test functions, against Optuna's samplers"};
  app.add_option("--server-binary", f.server_binary, "parzen-server to start");
  app.add_option("--seeds", f.seeds, "seeds per sampler and function (0 .. seeds-1)")->capture_default_str();
  app.add_option("--trials", f.trials, "trials per study")->capture_default_str()->check(CLI::Range(4, 100000));
  app.add_option("--clients", f.clients, "studies driven at once")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_flag("--optuna,!--no-optuna", f.optuna, "also run Optuna's samplers");
  app.add_option("--python", f.python, "the Python with Optuna")->capture_default_str();
  app.add_option("--functions", f.functions, "only these test functions (default: all)")->delimiter(',');
  app.add_option("--bandwidth-weighting", f.bandwidth_weighting,
                 "true or false: Parzen's TPE arms with this bandwidth_weighting (default: the "
                 "server's, true: candidates scored as Optuna <= 3.4)");
  app.add_flag("--per-seed", f.per_seed,
               "first print each study's best values, a line per function, sampler and seed");
  CLI11_PARSE(app, argc, argv);

  std::vector<TestFunction> functions = Functions();
  if (!f.functions.empty()) {
    std::erase_if(functions, [&](const TestFunction& fn) {
      return std::find(f.functions.begin(), f.functions.end(), fn.name) == f.functions.end();
    });
    if (functions.size() != f.functions.size()) Die("--functions names one this program lacks");
  }
  const std::vector<Arm> arms = ParzenArms(f.bandwidth_weighting);
  Results results;
  std::mutex mu;
  std::thread optuna;
  if (f.optuna) optuna = std::thread([&] { RunOptuna(f, functions, results, mu); });

  parzen::bench::LocalServer server;
  if (std::string error = server.Start(f.server_binary); !error.empty()) Die(error);
  auto client = parzen::client::Client::Connect({.address = server.address()});
  std::vector<Job> jobs;
  for (const auto& fn : functions) {
    for (const auto& arm : arms) {
      if (arm.continuous_only && !fn.continuous) continue;
      for (int seed = 0; seed < f.seeds; ++seed) jobs.push_back({&fn, &arm, seed});
    }
  }
  std::mutex jobs_mu;
  size_t next_job = 0;
  std::vector<std::thread> drivers;
  for (int c = 0; c < f.clients; ++c) {
    drivers.emplace_back([&] {
      for (;;) {
        Job job;
        {
          std::lock_guard lock(jobs_mu);
          if (next_job == jobs.size()) return;
          job = jobs[next_job++];
        }
        std::vector<double> bests = RunParzen(*client, job, f.trials);
        std::lock_guard lock(mu);
        auto& per_seed = results[job.function->name]["parzen " + job.arm->name];
        per_seed.resize(static_cast<size_t>(f.seeds));
        per_seed[static_cast<size_t>(job.seed)] = std::move(bests);
      }
    });
  }
  for (auto& d : drivers) d.join();
  if (optuna.joinable()) optuna.join();

  const std::vector<int> checkpoints = Checkpoints(f.trials);
  if (f.per_seed) {
    for (const auto& [function, by_arm] : results) {
      for (const auto& [arm, per_seed] : by_arm) {
        const size_t space = arm.find(' ');
        for (size_t seed = 0; seed < per_seed.size(); ++seed) {
          std::printf("seed function=%s side=%s sampler=%s seed=%zu", function.c_str(),
                      arm.substr(0, space).c_str(), arm.substr(space + 1).c_str(), seed);
          for (size_t c = 0; c < checkpoints.size(); ++c) {
            std::printf(" best%d=%.17g", checkpoints[c], per_seed[seed][c]);
          }
          std::printf("\n");
        }
      }
    }
  }
  std::printf("best value so far: median [lower quartile, upper quartile] over %d seeds; all minimised\n",
              f.seeds);
  int not_worse = 0, better = 0;
  for (const auto& fn : functions) {
    std::printf("\n%s (optimum %g)\n%-24s", fn.name.c_str(), fn.optimum, "sampler");
    for (int k : checkpoints) std::printf("  %-32s", ("after " + std::to_string(k)).c_str());
    std::printf("\n");
    for (const auto& [arm, per_seed] : results[fn.name]) {
      std::printf("%-24s", arm.c_str());
      for (size_t c = 0; c < checkpoints.size(); ++c) {
        const Summary s = Summarise(per_seed, c);
        char cell[64];
        std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g]", s.median, s.q1, s.q3);
        std::printf("  %-32s", cell);
      }
      std::printf("\n");
    }
    if (!f.optuna) continue;
    bool all_not_worse = true, all_better = true;
    for (const char* mode : {"tpe_univariate", "tpe_multivariate"}) {
      const auto& ours = results[fn.name]["parzen " + std::string(mode)];
      const auto& theirs = results[fn.name]["optuna " + std::string(mode)];
      if (ours.empty() || theirs.empty()) Die("no " + std::string(mode) + " results for " + fn.name);
      const Summary p = Summarise(ours, checkpoints.size() - 1);
      const Summary o = Summarise(theirs, checkpoints.size() - 1);
      const bool ok = p.median <= o.q3, beats = p.median < o.q1;
      all_not_worse &= ok;
      all_better &= beats;
      std::printf("  %s: Parzen median %.4g vs Optuna %.4g [%.4g, %.4g]: %s\n", mode, p.median, o.median,
                  o.q1, o.q3, beats ? "better" : ok ? "not worse" : "WORSE");
    }
    not_worse += all_not_worse;
    better += all_better;
  }
  std::printf("\nsampler_quality functions=%zu parzen_tpe_not_worse=%d parzen_tpe_better=%d\n",
              functions.size(), f.optuna ? not_worse : -1, f.optuna ? better : -1);
  return 0;
}
