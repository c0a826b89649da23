#include "client/study_config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace parzen::client {
namespace {

TEST(StudyConfigTest, PrunerSpecsBecomeTheirConfigs) {
  ASSERT_OK_AND_ASSIGN(v1::PrunerConfig nop, ParsePrunerSpec("nop"));
  EXPECT_TRUE(nop.has_nop());

  ASSERT_OK_AND_ASSIGN(v1::PrunerConfig plain, ParsePrunerSpec("median"));
  ASSERT_TRUE(plain.has_median());
  EXPECT_FALSE(plain.median().has_n_startup_trials()) << "unset means Optuna's default";

  ASSERT_OK_AND_ASSIGN(v1::PrunerConfig median,
                       ParsePrunerSpec("median:n_startup_trials=2,n_warmup_steps=1,"
                                       "interval_steps=3,n_min_trials=4"));
  ASSERT_TRUE(median.has_median());
  EXPECT_EQ(median.median().n_startup_trials(), 2);
  EXPECT_EQ(median.median().n_warmup_steps(), 1);
  EXPECT_EQ(median.median().interval_steps(), 3);
  EXPECT_EQ(median.median().n_min_trials(), 4);

  ASSERT_OK_AND_ASSIGN(v1::PrunerConfig percentile,
                       ParsePrunerSpec("percentile:percentile=25.5,n_warmup_steps=2"));
  ASSERT_TRUE(percentile.has_percentile());
  EXPECT_EQ(percentile.percentile().percentile(), 25.5);
  EXPECT_EQ(percentile.percentile().n_warmup_steps(), 2);
  EXPECT_FALSE(percentile.percentile().has_n_startup_trials());
}

TEST(StudyConfigTest, BadPrunerSpecsSayWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hyperband", "unknown pruner \"hyperband\""},
      {"median:n_startup=2", "unknown median pruner argument \"n_startup\""},
      {"median:percentile=30", "unknown median pruner argument \"percentile\""},
      {"median:percentile=30.5", "unknown median pruner argument \"percentile\""},
      {"median:foo=x", "unknown median pruner argument \"foo\""},
      {"median:n_warmup_steps=two", "\"n_warmup_steps\" must be an integer, got \"two\""},
      {"median:n_startup_trials=1.5", "\"n_startup_trials\" must be an integer, got \"1.5\""},
      {"percentile:percentile=x", "\"percentile\" must be a number, got \"x\""},
      {"median:n_warmup_steps", "expected name=value"},
      {"percentile", "needs percentile=P"},
      {"nop:x=1", "takes no arguments"},
  };
  for (const auto& [spec, message] : cases) {
    const absl::Status s = ParsePrunerSpec(spec).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_NE(s.message().find(message), std::string::npos) << spec << ": " << s;
  }
}

TEST(StudyConfigTest, SamplerSpecs) {
  ASSERT_OK_AND_ASSIGN(v1::SamplerConfig unseeded, ParseSamplerSpec("random"));
  ASSERT_TRUE(unseeded.has_random());
  EXPECT_FALSE(unseeded.random().has_seed());
  ASSERT_OK_AND_ASSIGN(v1::SamplerConfig seeded, ParseSamplerSpec("random:seed=42"));
  EXPECT_EQ(seeded.random().seed(), 42u);
  EXPECT_EQ(ParseSamplerSpec("hyperopt").status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(v1::SamplerConfig tpe, ParseSamplerSpec("tpe:multivariate=false"));
  EXPECT_FALSE(tpe.tpe().multivariate());
  EXPECT_FALSE(tpe.tpe().has_n_startup_trials()) << "unset means Optuna's default";
  const absl::Status negative = ParseSamplerSpec("random:seed=-1").status();
  EXPECT_EQ(negative.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative.message().find("\"seed\" must be an integer from 0"), std::string::npos)
      << negative;
  EXPECT_EQ(ParseSamplerSpec("random:depth=3").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StudyConfigTest, StudyConfigFileIsACreateStudyRequestInJson) {
  const std::string path = ::testing::TempDir() + "/study_config_test.json";
  std::ofstream(path) << R"({"name": "s", "directions": ["MAXIMIZE"], "maxTrials": 50,
                            "heartbeatGraceSeconds": 30, "maxRetries": 2,
                            "pruner": {"median": {"nWarmupSteps": 1}}})";
  ASSERT_OK_AND_ASSIGN(v1::CreateStudyRequest request, ReadStudyConfigFile(path));
  EXPECT_EQ(request.name(), "s");
  ASSERT_EQ(request.directions_size(), 1);
  EXPECT_EQ(request.directions(0), v1::MAXIMIZE);
  EXPECT_EQ(request.max_trials(), 50);
  EXPECT_EQ(request.heartbeat_grace_seconds(), 30);
  EXPECT_EQ(request.max_retries(), 2);
  EXPECT_EQ(request.pruner().median().n_warmup_steps(), 1);

  std::ofstream(path) << R"({"name": "s", "maxTrails": 50})";
  const absl::Status typo = ReadStudyConfigFile(path).status();
  EXPECT_EQ(typo.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(typo.message().find(path), std::string::npos) << typo;
  EXPECT_EQ(ReadStudyConfigFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace parzen::client
