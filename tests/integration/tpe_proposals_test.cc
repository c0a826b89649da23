// Parzen's TPE against Optuna 3.1's as a whole sampler, through the real
// parzen-server. After the same history, made by
// optuna_tpe_proposals.py in the worker's MNIST search space (the worker's
// own DefaultSearchSpace, which the script reads as JSON: momentum only for
// SGD; a median pruner's PRUNED trials at several steps; two RUNNING
// trials), both sides propose 1,000 trials per mode, and every parameter's
// proposals must look drawn from one distribution.
// TpeCrosscheckTest matches the estimator number for number; this covers
// what lies around it: how PRUNED and RUNNING trials rank, the split into
// good and bad, the groups of a conditional space, the constant liar,
// the weights ramp, and the draw and choice of candidates.
//
// Both sides are seeded, so each verdict is the same on every run. A
// sampler that differs only in how it picks among its candidates
// (n_ei_candidates 1: the first draw of l(x), no ratio to g(x)) must fail
// the same comparison: the test can tell.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/study.h"
#include "common/distribution.h"
#include "common/search_space.h"
#include "tests/testing/child_process.h"
#include "tests/testing/server_process.h"
#include "worker/mnist/hyperparameters.h"

namespace parzen::testing {
namespace {

using Params = std::map<std::string, ParamValue>;

constexpr int kProposals = 1000;
// Per parameter and mode: two samplers alike pass all 20 comparisons
// about 998 times in 1,000 (and, seeded, the same way on every run).
constexpr double kAlpha = 1e-4;

struct HistoryTrial {
  std::string state;
  Params params;
  std::vector<double> intermediate;
};

struct OptunaRun {
  std::vector<HistoryTrial> history;
  std::vector<Params> proposals;
};

Params ParamsOf(const nlohmann::json& j) {
  Params out;
  for (const auto& [name, v] : j.items()) {
    if (v.is_string()) {
      out[name] = v.get<std::string>();
    } else if (v.is_number_integer()) {
      out[name] = v.get<int64_t>();
    } else {
      out[name] = v.get<double>();
    }
  }
  return out;
}

// The sample a comparison works on: the category's index, or the value
// on the scale the distribution samples on.
double Scaled(const Distribution& d, const ParamValue& v) {
  const absl::StatusOr<double> internal = ToInternal(d, v);  // a category's index
  EXPECT_TRUE(internal.ok()) << internal.status();
  const auto* f = std::get_if<FloatDistribution>(&d);
  const auto* i = std::get_if<IntDistribution>(&d);
  const bool log = (f != nullptr && f->log) || (i != nullptr && i->log);
  return log ? std::log(*internal) : *internal;
}

// Few values: compared as categories. Otherwise as a continuum.
bool IsDiscrete(const Distribution& d) {
  if (std::holds_alternative<CategoricalDistribution>(d)) return true;
  const auto* i = std::get_if<IntDistribution>(&d);
  return i != nullptr && (i->high - i->low) / i->step < 10;
}

// P(chi-square with `df` degrees of freedom > x), for integer df.
double ChiSquareTail(double x, int df) {
  const double h = x / 2;
  double term, sum;
  if (df % 2 == 0) {
    term = std::exp(-h);  // (h^0 / 0!) e^-h
    sum = term;
    for (int i = 1; i < df / 2; ++i) sum += term *= h / i;
  } else {
    sum = std::erfc(std::sqrt(h));
    term = std::exp(-h) * std::sqrt(h) / std::tgamma(1.5);  // h^(1/2) e^-h / Gamma(3/2)
    for (int i = 1; i <= (df - 1) / 2; ++i) {
      sum += term;
      term *= h / (i + 0.5);
    }
  }
  return std::min(1.0, sum);
}

// Two-sample test of homogeneity over categories: its p-value.
double ChiSquareP(const std::vector<double>& a, const std::vector<double>& b) {
  std::map<double, std::pair<double, double>> counts;
  for (double x : a) counts[x].first += 1;
  for (double x : b) counts[x].second += 1;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  double stat = 0;
  for (const auto& [value, c] : counts) {
    const double total = c.first + c.second;
    const double ea = total * na / (na + nb), eb = total * nb / (na + nb);
    stat += (c.first - ea) * (c.first - ea) / ea + (c.second - eb) * (c.second - eb) / eb;
  }
  if (counts.size() < 2) return 1;
  return ChiSquareTail(stat, static_cast<int>(counts.size()) - 1);
}

// Two-sample Kolmogorov-Smirnov test: its asymptotic p-value.
double KolmogorovSmirnovP(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  double d = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
  }
  const double en = std::sqrt(na * nb / (na + nb));
  const double lambda = (en + 0.12 + 0.11 / en) * d;
  if (lambda < 0.3) return 1;
  double p = 0;
  for (int k = 1; k <= 100; ++k) p += 2 * ((k % 2) ? 1 : -1) * std::exp(-2.0 * k * k * lambda * lambda);
  return std::clamp(p, 0.0, 1.0);
}

// Each parameter's p-value for "both sides draw it from one distribution",
// for those that at least 20 proposals of each side hold.
std::map<std::string, double> Compare(const SearchSpace& space, const std::vector<Params>& ours,
                                      const std::vector<Params>& theirs) {
  std::map<std::string, double> out;
  for (const SearchSpaceEntry& e : space) {
    std::vector<double> a, b;
    for (const Params& p : ours) {
      if (auto it = p.find(e.name); it != p.end()) a.push_back(Scaled(e.distribution, it->second));
    }
    for (const Params& p : theirs) {
      if (auto it = p.find(e.name); it != p.end()) b.push_back(Scaled(e.distribution, it->second));
    }
    // How often a conditional one is held is the comparison of its parent.
    if (a.size() < 20 || b.size() < 20) continue;
    out[e.name] = IsDiscrete(e.distribution) ? ChiSquareP(a, b) : KolmogorovSmirnovP(a, b);
  }
  return out;
}

// Optuna's side in `mode`, in the space of the JSON file `space_file`: the
// history it made and its proposals.
OptunaRun RunOptuna(const TempDir& dir, const std::string& space_file, const std::string& mode) {
  OptunaRun out;
  ChildProcess python({PARZEN_PYTHON3, PARZEN_TPE_PROPOSALS_SCRIPT, "--mode", mode, "--space",
                       space_file, "--proposals", std::to_string(kProposals)},
                      dir.File("python-" + mode + ".out"));
  const std::optional<int> rc = python.WaitFor(std::chrono::minutes(5));
  EXPECT_EQ(rc, 0) << python.Log();
  std::istringstream lines(python.Log());
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (j.contains("history")) {
      const nlohmann::json& h = j["history"];
      out.history.push_back({h["state"].get<std::string>(), ParamsOf(h["params"]),
                             h["intermediate"].get<std::vector<double>>()});
    } else if (j.contains("params")) {
      out.proposals.push_back(ParamsOf(j["params"]));
    }
  }
  return out;
}

class TpeProposalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("studies.db"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = client::Client::Connect({.address = server_->address()});
    std::ofstream(space_file_) << SearchSpaceToJson(space_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << server_->Log();
  }

  // A study with `sampler` that has lived the script's history, then
  // `kProposals` Asks, each told FAIL at once as on Optuna's side.
  std::vector<Params> Propose(const std::string& name, const v1::SamplerConfig& sampler,
                              const std::vector<HistoryTrial>& history) {
    client::StudyOptions options{.name = name, .heartbeat_grace_seconds = 0};
    options.sampler = sampler;
    options.pruner.mutable_nop();
    auto study = client_->CreateStudy(options);
    EXPECT_TRUE(study.ok()) << study.status();
    if (!study.ok()) return {};
    for (const HistoryTrial& h : history) {
      EXPECT_TRUE(study->Enqueue(h.params).ok());
      auto trial = study->Ask(space_);
      EXPECT_TRUE(trial.ok()) << trial.status();
      if (!trial.ok()) return {};
      EXPECT_EQ(trial->params(), h.params) << "trial " << trial->number();
      for (size_t step = 0; step < h.intermediate.size(); ++step) {
        EXPECT_TRUE(trial->Report(h.intermediate[step], static_cast<int64_t>(step) + 1).ok());
      }
      if (h.state == "COMPLETE") {
        EXPECT_TRUE(study->Tell(*trial, h.intermediate.back()).ok());
      } else if (h.state == "PRUNED") {
        EXPECT_TRUE(study->TellPruned(*trial).ok());
      } else {
        running_.push_back(*std::move(trial));  // stays RUNNING
      }
    }
    std::vector<Params> out;
    for (int k = 0; k < kProposals; ++k) {
      auto trial = study->Ask(space_);
      EXPECT_TRUE(trial.ok()) << trial.status();
      if (!trial.ok()) break;
      out.push_back(trial->params());
      EXPECT_TRUE(study->TellFail(*trial, "a proposal only").ok());
    }
    return out;
  }

  // The space parzen-worker asks in: a change to it changes this test.
  const SearchSpace space_ = mnist::DefaultSearchSpace();
  TempDir dir_;
  const std::string space_file_ = dir_.File("space.json");  // space_, for the script
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> client_;
  std::vector<client::Trial> running_;
};

v1::SamplerConfig Univariate() {
  v1::SamplerConfig c;
  c.mutable_tpe()->set_seed(11);
  c.mutable_tpe()->set_multivariate(false);
  c.mutable_tpe()->set_group(false);
  c.mutable_tpe()->set_constant_liar(false);
  return c;
}

v1::SamplerConfig Multivariate() {
  v1::SamplerConfig c;
  c.mutable_tpe()->set_seed(11);
  c.mutable_tpe()->set_multivariate(true);
  c.mutable_tpe()->set_group(true);
  c.mutable_tpe()->set_constant_liar(true);
  return c;
}

// Every parameter without a condition, which each proposal holds.
void ExpectEveryUnconditionalParameter(const SearchSpace& space,
                                       const std::map<std::string, double>& p) {
  for (const SearchSpaceEntry& e : space) {
    if (!e.condition) {
      EXPECT_TRUE(p.contains(e.name)) << e.name;
    }
  }
}

std::string Describe(const std::map<std::string, double>& p) {
  std::string out;
  for (const auto& [name, value] : p) {
    char cell[64];
    std::snprintf(cell, sizeof cell, " %s=%.3g", name.c_str(), value);
    out += cell;
  }
  return out;
}

// The smallest p-value, where the two sides differ most.
double Smallest(const std::map<std::string, double>& p) {
  double out = 1;
  for (const auto& [name, value] : p) out = std::min(out, value);
  return out;
}

// Optuna's defaults (3.1): each parameter on its own. With one candidate
// (below) the same comparisons must fail.
TEST_F(TpeProposalsTest, UnivariateProposalsAreOptunas) {
  const OptunaRun optuna = RunOptuna(dir_, space_file_, "univariate");
  ASSERT_EQ(optuna.history.size(), 152u);
  const std::vector<Params> ours = Propose("univariate", Univariate(), optuna.history);
  const std::map<std::string, double> p = Compare(space_, ours, optuna.proposals);
  std::printf("p-values:%s\n", Describe(p).c_str());
  ExpectEveryUnconditionalParameter(space_, p);
  EXPECT_GT(Smallest(p), kAlpha) << Describe(p);

  v1::SamplerConfig one_candidate = Univariate();
  one_candidate.mutable_tpe()->set_n_ei_candidates(1);
  const std::map<std::string, double> control = Compare(
      space_, Propose("one-candidate", one_candidate, optuna.history), optuna.proposals);
  std::printf("p-values with one candidate:%s\n", Describe(control).c_str());
  EXPECT_LT(Smallest(control), kAlpha / 100) << Describe(control);
}

// Parzen's default mode: joint, in groups, with the constant liar. And the
// comparison's power: with one candidate instead of 24, still TPE's model
// of the good trials but without the ratio that picks among candidates,
// the proposals must be told apart.
TEST_F(TpeProposalsTest, MultivariateGroupedLiarProposalsAreOptunas) {
  const OptunaRun optuna = RunOptuna(dir_, space_file_, "multivariate");
  ASSERT_EQ(optuna.history.size(), 152u);
  const std::vector<Params>& theirs = optuna.proposals;
  const std::map<std::string, double> p =
      Compare(space_, Propose("multivariate", Multivariate(), optuna.history), theirs);
  std::printf("p-values:%s\n", Describe(p).c_str());
  EXPECT_EQ(p.size(), space_.size());  // SGD proposals too, with a momentum
  EXPECT_GT(Smallest(p), kAlpha) << Describe(p);

  v1::SamplerConfig one_candidate = Multivariate();
  one_candidate.mutable_tpe()->set_n_ei_candidates(1);
  const std::map<std::string, double> control =
      Compare(space_, Propose("one-candidate", one_candidate, optuna.history), theirs);
  std::printf("p-values with one candidate:%s\n", Describe(control).c_str());
  EXPECT_LT(Smallest(control), kAlpha / 100) << Describe(control);
}

}  // namespace
}  // namespace parzen::testing
