// The study-creation flags parzen create and parzen-worker share.
#include "client/study_options.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace parzen::client {
namespace {

// The request a command line makes, through the shared flags.
absl::StatusOr<v1::CreateStudyRequest> FromCommandLine(std::vector<std::string> args) {
  CLI::App app;
  StudyFlags flags;
  AddStudyFlags(app, flags, "--config");
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return CreateStudyRequestFrom(flags);
}

TEST(StudyOptionsTest, BothToolsReapLostTrialsAndRetryThemOnceByDefault) {
  ASSERT_OK_AND_ASSIGN(v1::CreateStudyRequest plain, FromCommandLine({}));
  EXPECT_EQ(plain.heartbeat_grace_seconds(), 60);
  EXPECT_EQ(plain.max_retries(), 1);
  // No sampler: the server picks Optuna's default for the number of
  // objectives (tpe, or nsga2 for several).
  EXPECT_EQ(plain.sampler().kind_case(), v1::SamplerConfig::KIND_NOT_SET);
  EXPECT_TRUE(plain.pruner().has_median());
  ASSERT_EQ(plain.directions_size(), 1);  // minimize, as StudyOptions says
  EXPECT_EQ(plain.directions(0), v1::MINIMIZE);
  // The library's own defaults are the same.
  const v1::CreateStudyRequest library = StudyOptions{}.ToRequest();
  EXPECT_EQ(library.heartbeat_grace_seconds(), 60);
  EXPECT_EQ(library.max_retries(), 1);
}

TEST(StudyOptionsTest, FlagsSetTheRequestAndNoGraceMeansNoRetries) {
  ASSERT_OK_AND_ASSIGN(
      v1::CreateStudyRequest r,
      FromCommandLine({"--direction", "maximize", "--direction", "minimize", "--sampler",
                       "random:seed=4", "--pruner", "nop", "--max-trials", "9",
                       "--heartbeat-grace", "0", "--max-retries", "3"}));
  ASSERT_EQ(r.directions_size(), 2);
  EXPECT_EQ(r.directions(0), v1::MAXIMIZE);
  EXPECT_EQ(r.sampler().random().seed(), 4u);
  EXPECT_TRUE(r.pruner().has_nop());
  EXPECT_EQ(r.max_trials(), 9);
  EXPECT_EQ(r.heartbeat_grace_seconds(), 0);
  EXPECT_EQ(r.max_retries(), 0);  // only reaped trials are retried
  // A name this build does not list goes to the server by name.
  ASSERT_OK_AND_ASSIGN(v1::CreateStudyRequest named,
                       FromCommandLine({"--sampler", "botorch:acq=ei"}));
  EXPECT_EQ(named.sampler().named().name(), "botorch");
  EXPECT_EQ(named.sampler().named().args().at("acq"), "ei");
  // A listed one is checked here.
  EXPECT_EQ(FromCommandLine({"--pruner", "median:n_warmup=1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(FromCommandLine({"--config", "x.json", "--max-trials", "3"}).ok());
}

}  // namespace
}  // namespace parzen::client
