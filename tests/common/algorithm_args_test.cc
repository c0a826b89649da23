// Spec strings and help read from the options messages' descriptors.
#include "common/algorithm_args.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

TEST(AlgorithmArgsTest, ArgumentsAreSetByTheirFieldsType) {
  v1::PercentilePrunerConfig p;
  ASSERT_OK(SetAlgorithmArgs({{"percentile", "12.5"}, {"n_min_trials", "3"}}, "percentile pruner",
                             p));
  EXPECT_EQ(p.percentile(), 12.5);
  EXPECT_EQ(p.n_min_trials(), 3);
  EXPECT_FALSE(p.has_n_startup_trials());
  ASSERT_OK(FillAlgorithmDefaults(p));
  EXPECT_EQ(p.n_startup_trials(), 5);
  EXPECT_EQ(p.n_min_trials(), 3);  // given, so kept
  EXPECT_EQ(AlgorithmArgs(p).at("percentile"), "12.5");
  v1::RandomSamplerConfig r;
  absl::Status negative = SetAlgorithmArgs({{"seed", "-1"}}, "random sampler", r);
  EXPECT_NE(negative.message().find("an integer from 0 to 2^64-1"), std::string::npos);
}

TEST(AlgorithmArgsTest, RequiredArgumentsAndSyntaxComeFromTheProto) {
  v1::PercentilePrunerConfig p;
  ASSERT_NE(MissingRequiredArg(p), nullptr);
  EXPECT_EQ(MissingRequiredArg(p)->name(), "percentile");
  p.set_percentile(0);
  EXPECT_EQ(MissingRequiredArg(p), nullptr);
  EXPECT_EQ(AlgorithmSyntax("percentile", *v1::PercentilePrunerConfig::descriptor()),
            "percentile:percentile=P[,n_startup_trials=5,n_warmup_steps=0,interval_steps=1,"
            "n_min_trials=1]");
  EXPECT_EQ(AlgorithmSyntax("nop", *v1::NopPrunerConfig::descriptor()), "nop");
  EXPECT_EQ(AlgorithmSyntax("random", *v1::RandomSamplerConfig::descriptor()), "random[:seed=...]");
  EXPECT_EQ(AlgorithmSyntaxes(*v1::SamplerConfig::descriptor()).find("random[:seed=...] | tpe[:"),
            0u);
}

TEST(AlgorithmArgsTest, SelectionsNameTheirAlgorithm) {
  v1::PrunerConfig typed;
  typed.mutable_median()->set_n_warmup_steps(2);
  ASSERT_OK_AND_ASSIGN(AlgorithmSelection s, SelectedAlgorithm(typed, "pruner"));
  EXPECT_EQ(s.name, "median");
  ASSERT_NE(s.typed, nullptr);
  // An unlisted algorithm goes by name, with its options as text.
  v1::PrunerConfig by_name;
  SelectAlgorithm("custom", typed.median(), by_name);
  ASSERT_TRUE(by_name.has_named());
  EXPECT_EQ(by_name.named().name(), "custom");
  EXPECT_EQ(by_name.named().args().at("n_warmup_steps"), "2");
  ASSERT_OK_AND_ASSIGN(s, SelectedAlgorithm(v1::PrunerConfig(), "pruner"));
  EXPECT_TRUE(s.name.empty());
}

// A selection written as a spec string reads back as the same options.
TEST(AlgorithmArgsTest, SpecStringsRoundTrip) {
  v1::SamplerConfig tpe;
  tpe.mutable_tpe()->set_seed(7);
  tpe.mutable_tpe()->set_multivariate(false);
  EXPECT_EQ(FormatAlgorithmSpec(tpe), "tpe:multivariate=false,seed=7");
  ASSERT_OK_AND_ASSIGN(AlgorithmSpecText text, SplitAlgorithmSpec(FormatAlgorithmSpec(tpe), "sampler"));
  EXPECT_EQ(text.name, "tpe");
  v1::TpeSamplerConfig again;
  ASSERT_OK(SetAlgorithmArgs(text.args, "tpe sampler", again));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, tpe.tpe()));

  v1::PrunerConfig nop;
  nop.mutable_nop();
  EXPECT_EQ(FormatAlgorithmSpec(nop), "nop");
  v1::PrunerConfig custom;
  SelectAlgorithm("custom", tpe.tpe(), custom);
  EXPECT_EQ(FormatAlgorithmSpec(custom), "custom:multivariate=false,seed=7");
  EXPECT_EQ(FormatAlgorithmSpec(v1::SamplerConfig()), "(none)");
}

// Lists and maps are JSON inside a spec string, commas and all.
TEST(AlgorithmArgsTest, JsonArgumentsKeepTheirCommas) {
  ASSERT_OK_AND_ASSIGN(
      AlgorithmSpecText spec,
      SplitAlgorithmSpec(R"(grid:search_space={"x":[1,2.5],"opt":["a,b","c"]},seed=3)", "sampler"));
  EXPECT_EQ(spec.name, "grid");
  ASSERT_EQ(spec.args.size(), 2u);
  EXPECT_EQ(spec.args.at("seed"), "3");
  v1::GridSamplerConfig grid;
  ASSERT_OK(SetAlgorithmArgs(spec.args, "grid sampler", grid));
  EXPECT_EQ(grid.seed(), 3u);
  ASSERT_EQ(grid.search_space().at("x").values_size(), 2);
  EXPECT_EQ(grid.search_space().at("x").values(1).number_value(), 2.5);
  EXPECT_EQ(grid.search_space().at("opt").values(0).string_value(), "a,b");
  // Written back as JSON, which reads back the same.
  v1::GridSamplerConfig again;
  ASSERT_OK(SetAlgorithmArgs(AlgorithmArgs(grid), "grid sampler", again));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, grid));
  EXPECT_EQ(AlgorithmSyntax("grid", *v1::GridSamplerConfig::descriptor()),
            "grid:search_space=JSON[,seed=...]");

  v1::GridSamplerConfig bad;
  absl::Status not_json = SetAlgorithmArgs({{"search_space", "[1,2]"}}, "grid sampler", bad);
  EXPECT_EQ(not_json.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(not_json.message().find("must be JSON"), std::string::npos) << not_json;
  EXPECT_NE(MissingRequiredArg(bad), nullptr);
}

}  // namespace
}  // namespace parzen
