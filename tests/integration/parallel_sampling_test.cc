// Many clients asking one study at once, through the real parzen-server:
// what a sampler hands out in parallel must not repeat itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/study.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

const SearchSpace kSpace = {
    {"lr", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
    {"x", FloatDistribution{-5, 5, false, std::nullopt}},
    {"units", IntDistribution{16, 512, false, 1}},
    {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam")}}},
};

double Objective(const client::Trial& trial) {
  const auto p = trial.params();
  return std::pow(std::log10(std::get<double>(p.at("lr"))) + 3, 2) +
         std::pow(std::get<double>(p.at("x")) - 1, 2) +
         std::fabs(static_cast<double>(std::get<int64_t>(p.at("units"))) - 128) / 128;
}

class ParallelSamplingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // As many sampler threads as workers: Asks sample side by side.
    auto server = ServerProcess::Start(dir_.File("studies.db"), {"--sampler-threads", "4"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << server_->Log();
  }

  std::unique_ptr<client::Client> Connect(const std::string& worker) const {
    return client::Client::Connect({.address = server_->address(), .worker_id = worker});
  }

  // The parameters of `clients` trials asked at the same moment, one per
  // client on its own connection.
  std::vector<client::Trial> AskAtOnce(const std::string& study_name, int clients) {
    std::vector<std::unique_ptr<client::Client>> connections;
    for (int i = 0; i < clients; ++i) connections.push_back(Connect("w" + std::to_string(i)));
    std::vector<std::optional<client::Trial>> trials(clients);
    std::barrier start(clients);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        auto study = connections[i]->LoadStudy(study_name);
        ASSERT_TRUE(study.ok()) << study.status();
        start.arrive_and_wait();
        auto trial = study->Ask(kSpace);
        ASSERT_TRUE(trial.ok()) << trial.status();
        trials[i].emplace(*std::move(trial));
      });
    }
    for (auto& t : threads) t.join();
    std::vector<client::Trial> out;
    for (auto& t : trials) {
      if (t) out.push_back(*std::move(t));
    }
    clients_ = std::move(connections);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::unique_ptr<client::Client>> clients_;
};

// Mean over pairs of the distance between two trials' (x, log10 lr) points.
double MeanPairDistance(const std::vector<client::Trial>& trials) {
  double sum = 0;
  int pairs = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    for (size_t j = i + 1; j < trials.size(); ++j) {
      const auto a = trials[i].params();
      const auto b = trials[j].params();
      sum += std::hypot(std::get<double>(a.at("x")) - std::get<double>(b.at("x")),
                        std::log10(std::get<double>(a.at("lr"))) -
                            std::log10(std::get<double>(b.at("lr"))));
      ++pairs;
    }
  }
  return sum / pairs;
}

// At the start of a TPE study (the startup trials) and again once it
// models the finished trials, 8 workers asking at once each get their own
// parameters; with the constant liar the modelled batch is spread out
// further than without it, where all 8 chase the same good region (mean
// over two seeds: a single batch's spread is noisy).
TEST_F(ParallelSamplingTest, EightTpeWorkersAskingAtOnceGetDistinctSpreadParameters) {
  std::map<bool, double> spread;
  for (const auto& [seed, liar] : {std::pair{7, true}, {7, false}, {8, true}, {8, false}}) {
    auto client = Connect("driver");
    client::StudyOptions options{.name = (liar ? "liar-" : "no-liar-") + std::to_string(seed)};
    options.sampler.mutable_tpe()->set_seed(seed);
    options.sampler.mutable_tpe()->set_constant_liar(liar);
    auto study = client->CreateStudy(options);
    ASSERT_TRUE(study.ok()) << study.status();

    // Round 0 is the study's start; later rounds see every earlier
    // round's trials finished.
    double modelled_spread = 0;
    for (int round = 0; round < 8; ++round) {
      std::vector<client::Trial> batch = AskAtOnce(options.name, 8);
      ASSERT_EQ(batch.size(), 8u);
      std::set<std::vector<double>> distinct;
      for (const client::Trial& t : batch) {
        std::vector<double> values;
        for (const TrialParam& p : t.snapshot().params) values.push_back(p.internal_value);
        distinct.insert(values);
      }
      EXPECT_EQ(distinct.size(), 8u) << "round " << round << " liar " << liar;
      if (round >= 2) modelled_spread += MeanPairDistance(batch);
      for (client::Trial& t : batch) ASSERT_TRUE(study->Tell(t, Objective(t)).ok());
    }
    spread[liar] += modelled_spread / 12;  // 6 modelled rounds, 2 seeds
  }
  EXPECT_GT(spread[true], spread[false]);
}

// Four workers racing through a grid: every point handed out exactly once
// (an Ask that loses its point to a faster one draws again), then each is
// told the budget is reached. The race is lost mostly on the last few
// points, so it is run on several studies.
TEST_F(ParallelSamplingTest, FourWorkersVisitEveryGridPointExactlyOnce) {
  auto number = [](double x) {
    google::protobuf::Value v;
    v.set_number_value(x);
    return v;
  };
  auto text = [](const std::string& s) {
    google::protobuf::Value v;
    v.set_string_value(s);
    return v;
  };
  v1::GridSamplerConfig grid;
  auto axis = [&](const std::string& name, std::vector<google::protobuf::Value> values) {
    for (auto& v : values) *(*grid.mutable_search_space())[name].add_values() = v;
  };
  axis("lr", {number(1e-4), number(1e-3), number(1e-2), number(1e-1)});
  axis("x", {number(-1), number(0), number(2.5)});
  axis("units", {number(16), number(128), number(512)});
  axis("opt", {text("sgd"), text("adam")});
  constexpr size_t kPoints = 4 * 3 * 3 * 2;

  auto driver = Connect("driver");
  std::vector<std::unique_ptr<client::Client>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(Connect("w" + std::to_string(i)));
  for (int round = 0; round < 5; ++round) {
    const std::string name = "grid-" + std::to_string(round);
    client::StudyOptions options{.name = name};
    *options.sampler.mutable_grid() = grid;
    options.sampler.mutable_grid()->set_seed(round);
    ASSERT_TRUE(driver->CreateStudy(options).ok());

    std::vector<int> budget_reached(4, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto study = workers[i]->LoadStudy(name);
        ASSERT_TRUE(study.ok()) << study.status();
        for (;;) {
          auto trial = study->Ask(kSpace);
          if (client::IsBudgetReached(trial.status())) {
            budget_reached[i] = 1;
            return;
          }
          ASSERT_TRUE(trial.ok()) << trial.status();
          ASSERT_TRUE(study->Tell(*trial, Objective(*trial)).ok());
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(budget_reached, std::vector<int>(4, 1));

    auto study = driver->LoadStudy(name);
    ASSERT_TRUE(study.ok());
    auto trials = study->Trials();
    ASSERT_TRUE(trials.ok()) << trials.status();
    ASSERT_EQ(trials->size(), kPoints) << name;
    std::set<std::string> ids;
    std::set<std::vector<double>> points;
    for (const FrozenTrial& t : *trials) {
      EXPECT_EQ(t.state, TrialState::kComplete);
      ids.insert(t.system_attrs.at("grid_id"));
      std::vector<double> point;
      for (const TrialParam& p : t.params) point.push_back(p.internal_value);
      points.insert(point);
    }
    EXPECT_EQ(ids.size(), kPoints) << name;
    EXPECT_EQ(points.size(), kPoints) << name;
  }
}

}  // namespace
}  // namespace parzen::testing
