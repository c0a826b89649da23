#include "worker/mnist/hyperparameters.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace parzen::mnist {
namespace {

TEST(HyperparametersTest, DefaultSpaceIsValidAndKnownToTheTrainer) {
  const SearchSpace space = DefaultSearchSpace();
  ASSERT_OK(CheckSearchSpace(space));
  std::vector<std::string> names;
  for (const SearchSpaceEntry& e : space) {
    names.push_back(e.name);
    EXPECT_OK(ValidateDistribution(e.distribution).status()) << e.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"lr", "optimizer", "momentum", "batch_size",
                                             "dropout1", "dropout2", "fc_units", "conv1_channels",
                                             "conv2_channels", "weight_decay"}));
  // Momentum is SGD's alone.
  ASSERT_OK(ValidateConditions(space));
  ASSERT_TRUE(space[2].condition.has_value());
  EXPECT_EQ(space[2].condition->parent, "optimizer");
  EXPECT_EQ(space[2].condition->values, std::vector<ParamValue>{std::string("sgd")});
  EXPECT_EQ(std::get<FloatDistribution>(space[0].distribution),
            (FloatDistribution{1e-4, 1e-1, true, std::nullopt}));
  EXPECT_EQ(std::get<CategoricalDistribution>(space[3].distribution).choices,
            (std::vector<ParamValue>{int64_t{32}, int64_t{64}, int64_t{128}, int64_t{256}}));
}

TEST(HyperparametersTest, UnknownParameterIsRejectedWithTheKnownNames) {
  SearchSpace space = DefaultSearchSpace();
  space.push_back({"learning_rate", FloatDistribution{0.1, 0.2, false, std::nullopt}});
  const absl::Status s = CheckSearchSpace(space);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no parameter \"learning_rate\""), std::string::npos) << s;
  EXPECT_NE(s.message().find("known: lr, momentum"), std::string::npos) << s;
}

TEST(HyperparametersTest, DistributionsThatCannotProduceTheTypeAreRejected) {
  const std::vector<SearchSpaceEntry> bad = {
      {"batch_size", FloatDistribution{16, 64, false, std::nullopt}},
      {"batch_size", CategoricalDistribution{{int64_t{32}, 48.5}}},
      {"optimizer", CategoricalDistribution{{std::string("sgd"), std::string("rmsprop")}}},
      {"optimizer", IntDistribution{0, 1, false, 1}},
      {"nesterov", FloatDistribution{0, 1, false, std::nullopt}},
      {"lr", CategoricalDistribution{{std::string("fast")}}},
  };
  for (const SearchSpaceEntry& e : bad) {
    const absl::Status s = CheckSearchSpace({e});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << FormatDistribution(e.distribution);
    EXPECT_NE(s.message().find("\"" + e.name + "\" must take"), std::string::npos) << s;
  }
  // Integers may come from categorical numbers written as whole doubles, and
  // reals from int distributions.
  EXPECT_OK(CheckSearchSpace({{"batch_size", CategoricalDistribution{{32.0, int64_t{64}}}},
                              {"lr", IntDistribution{1, 2, false, 1}},
                              {"nesterov", CategoricalDistribution{{true, false}}}}));
}

TEST(HyperparametersTest, AppliesEveryParameterToTheConfig) {
  const std::map<std::string, ParamValue> params = {
      {"lr", 0.003},          {"momentum", 0.8},           {"nesterov", true},
      {"weight_decay", 1e-4}, {"optimizer", std::string("adam")}, {"lr_gamma", 0.7},
      {"batch_size", int64_t{128}}, {"dropout1", 0.1},     {"dropout2", 0.3},
      {"fc_units", int64_t{77}},    {"conv1_channels", int64_t{16}},
      {"conv2_channels", 48.0}};
  TrainConfig base;
  base.epochs = 4;
  ASSERT_OK_AND_ASSIGN(TrainConfig c, ApplyHyperparameters(params, base));
  EXPECT_EQ(c.optimizer.lr, 0.003);
  EXPECT_EQ(c.optimizer.momentum, 0.8);
  EXPECT_TRUE(c.optimizer.nesterov);
  EXPECT_EQ(c.optimizer.weight_decay, 1e-4);
  EXPECT_EQ(c.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(c.lr_gamma, 0.7);
  EXPECT_EQ(c.batch_size, 128);
  EXPECT_EQ(c.shape.dropout1, 0.1);
  EXPECT_EQ(c.shape.dropout2, 0.3);
  EXPECT_EQ(c.shape.fc_units, 77);
  EXPECT_EQ(c.shape.conv1_channels, 16);
  EXPECT_EQ(c.shape.conv2_channels, 48);
  EXPECT_EQ(c.epochs, 4) << "what the parameters do not name keeps the base value";
}

TEST(HyperparametersTest, WrongValueTypesFromEnqueuedTrialsAreRejected) {
  EXPECT_EQ(ApplyHyperparameters({{"batch_size", 32.5}}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyHyperparameters({{"optimizer", std::string("rmsprop")}}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyHyperparameters({{"lr", std::string("fast")}}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status s = ApplyHyperparameters({{"epochs", int64_t{3}}}, {}).status();
  EXPECT_NE(s.message().find("no parameter \"epochs\""), std::string::npos) << s;
}

}  // namespace
}  // namespace parzen::mnist
