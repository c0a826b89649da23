// The algorithm registries: what they resolve from the wire, what they
// store, and that every algorithm the wire lists is offered.
#include "server/plugins/plugin_registry.h"

#include <gtest/gtest.h>

#include "common/algorithm_args.h"
#include "parzen/v1/algorithms.pb.h"
#include "server/pruners/nop_pruner.h"
#include "server/pruners/percentile_pruner.h"
#include "server/pruners/registry.h"
#include "server/samplers/registry.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

TEST(PluginRegistryTest, EveryAlgorithmTheWireListsIsOfferedUnderItsName) {
  const SamplerRegistry samplers = BuiltinSamplers();
  const PrunerRegistry pruners = BuiltinPruners();
  for (const auto& [catalog, selection] :
       {std::pair<const AlgorithmCatalog*, const google::protobuf::Descriptor*>{
            &samplers, v1::SamplerConfig::descriptor()},
        {&pruners, v1::PrunerConfig::descriptor()}}) {
    for (const std::string& name : ListedAlgorithms(*selection)) {
      SCOPED_TRACE(name);
      const std::vector<std::string> offered = catalog->Names();
      EXPECT_NE(std::find(offered.begin(), offered.end(), name), offered.end());
    }
  }
}

TEST(PluginRegistryTest, ResolvingFillsDefaultsAndDrawsNothingGiven) {
  const PrunerRegistry pruners = BuiltinPruners();
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec median, pruners.Resolve(v1::PrunerConfig(), 0));
  EXPECT_EQ(median.name, "median");
  const auto& m = dynamic_cast<const v1::MedianPrunerConfig&>(*median.options);
  EXPECT_EQ(m.n_startup_trials(), 5);
  EXPECT_EQ(m.interval_steps(), 1);

  const SamplerRegistry samplers = BuiltinSamplers();
  // The default sampler is TPE (a static_cast to RandomSamplerConfig here
  // read a TPE config as random's until UndefinedBehaviorSanitizer said so).
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec tpe, samplers.Resolve(v1::SamplerConfig(), 1234));
  EXPECT_EQ(tpe.name, "tpe");
  const auto* tpe_options = dynamic_cast<const v1::TpeSamplerConfig*>(tpe.options.get());
  ASSERT_NE(tpe_options, nullptr);
  EXPECT_EQ(tpe_options->seed(), 1234u);
  v1::SamplerConfig seeded;
  seeded.mutable_random()->set_seed(7);
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec random, samplers.Resolve(seeded, 1234));
  EXPECT_EQ(random.name, "random");
  const auto* random_options = dynamic_cast<const v1::RandomSamplerConfig*>(random.options.get());
  ASSERT_NE(random_options, nullptr);
  EXPECT_EQ(random_options->seed(), 7u);
}

TEST(PluginRegistryTest, ByNameArgumentsAreParsedByTheOptionsType) {
  const PrunerRegistry pruners = BuiltinPruners();
  v1::PrunerConfig named;
  named.mutable_named()->set_name("percentile");
  (*named.mutable_named()->mutable_args())["percentile"] = "25";
  (*named.mutable_named()->mutable_args())["n_warmup_steps"] = "3";
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec spec, pruners.Resolve(named, 0));
  const auto& p = dynamic_cast<const v1::PercentilePrunerConfig&>(*spec.options);
  EXPECT_EQ(p.percentile(), 25);
  EXPECT_EQ(p.n_warmup_steps(), 3);
  EXPECT_EQ(p.n_startup_trials(), 5);
  // Read back in the typed form the wire has for it.
  v1::PrunerConfig back;
  pruners.ToSelection(spec, back);
  ASSERT_TRUE(back.has_percentile());
  EXPECT_EQ(back.percentile().percentile(), 25);

  (*named.mutable_named()->mutable_args())["n_warmup_steps"] = "three";
  auto bad = pruners.Resolve(named, 0);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"n_warmup_steps\" must be an integer"),
            std::string::npos)
      << bad.status();
  named.mutable_named()->set_name("hyperband");
  auto unknown = pruners.Resolve(named, 0);
  EXPECT_NE(unknown.status().message().find("this server offers: median, nop, percentile"),
            std::string::npos)
      << unknown.status();
}

TEST(PluginRegistryTest, StoredSettingsReadBackAndOldOnesStillDo) {
  const PrunerRegistry pruners = BuiltinPruners();
  v1::PrunerConfig config;
  config.mutable_percentile()->set_percentile(10);
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec spec, pruners.Resolve(config, 0));
  const std::string json = AlgorithmCatalog::ToJson(spec);
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec back, pruners.FromJson(json));
  EXPECT_EQ(back.name, "percentile");
  EXPECT_EQ(back.options->SerializeAsString(), spec.options->SerializeAsString());
  // As the previous release stored a median pruner: percentile included.
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec old, pruners.FromJson(
      R"({"kind":"median","percentile":50.0,"n_startup_trials":2,"n_warmup_steps":1,)"
      R"("interval_steps":1,"n_min_trials":1})"));
  EXPECT_EQ(dynamic_cast<const v1::MedianPrunerConfig&>(*old.options).n_startup_trials(), 2);
  EXPECT_EQ(pruners.FromJson(R"({"kind":"gone"})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(pruners.FromJson(R"({"kind":"median","interval_steps":0})").status().code(),
            absl::StatusCode::kDataLoss);
}

// An argument added later, whose default changed since (TPE's
// bandwidth_weighting): a study that sets it keeps it through storage; one
// stored before it existed reads back as that release ran it (its
// arg_stored_default, false), and one created now takes today's (true).
TEST(PluginRegistryTest, AnArgumentAddedLaterKeepsOldStudiesAsTheyWere) {
  const SamplerRegistry samplers = BuiltinSamplers();
  v1::SamplerConfig config;
  config.mutable_tpe()->set_seed(3);
  config.mutable_tpe()->set_bandwidth_weighting(true);
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec chosen, samplers.Resolve(config, 0, 1));
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec back, samplers.FromJson(AlgorithmCatalog::ToJson(chosen)));
  EXPECT_TRUE(dynamic_cast<const v1::TpeSamplerConfig&>(*back.options).bandwidth_weighting());
  // As the previous release stored a TPE sampler: every argument but it.
  ASSERT_OK_AND_ASSIGN(
      AlgorithmSpec old,
      samplers.FromJson(R"({"kind":"tpe","seed":"3","n_startup_trials":"10","n_ei_candidates":"24",)"
                        R"("multivariate":true,"group":true,"constant_liar":true,"prior_weight":1,)"
                        R"("consider_prior":true,"consider_magic_clip":true,)"
                        R"("consider_endpoints":false})"));
  const auto& old_tpe = dynamic_cast<const v1::TpeSamplerConfig&>(*old.options);
  EXPECT_TRUE(old_tpe.has_bandwidth_weighting());
  EXPECT_FALSE(old_tpe.bandwidth_weighting());
  EXPECT_EQ(old_tpe.n_ei_candidates(), 24);
  // A study created now without it takes today's default, and keeps it.
  v1::SamplerConfig unset;
  unset.mutable_tpe()->set_seed(3);
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec fresh, samplers.Resolve(unset, 0, 1));
  EXPECT_TRUE(dynamic_cast<const v1::TpeSamplerConfig&>(*fresh.options).bandwidth_weighting());
  ASSERT_OK_AND_ASSIGN(AlgorithmSpec fresh_back, samplers.FromJson(AlgorithmCatalog::ToJson(fresh)));
  EXPECT_TRUE(dynamic_cast<const v1::TpeSamplerConfig&>(*fresh_back.options).bandwidth_weighting());
}

TEST(PluginRegistryTest, ANameIsTakenOnceAndTheWiresTypeIsKept) {
  PrunerRegistry pruners = BuiltinPruners();
  EXPECT_EQ(pruners.Add(NopPrunerPlugin()).code(), absl::StatusCode::kAlreadyExists);
  // "nop" under another options type would read the wire's NopPrunerConfig
  // as something else.
  Plugin<Pruner> impostor = MedianPrunerPlugin();
  impostor.name = "nop";
  PrunerRegistry fresh("pruner", v1::PrunerConfig::descriptor(), "nop");
  EXPECT_EQ(fresh.Add(impostor).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parzen
