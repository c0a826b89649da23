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
    auto server = ServerProcess::Start(dir_.File("studies.db"));
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

}  // namespace
}  // namespace parzen::testing
