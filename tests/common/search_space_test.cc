#include "common/search_space.h"

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The InvalidArgument message of parsing `json`; fails the test otherwise.
std::string ParseError(const std::string& json) {
  absl::StatusOr<SearchSpace> r = ParseSearchSpace(json);
  EXPECT_FALSE(r.ok()) << json;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  return std::string(r.status().message());
}

// Writes `contents` to a fresh file under the test temp dir.
std::string WriteTempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/search_space_test_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

TEST(SearchSpaceTest, ParsesEveryFormToTheExactDistribution) {
  ASSERT_OK_AND_ASSIGN(SearchSpace space, ParseSearchSpace(R"({
    "lr": {"name": "FloatDistribution",
           "attributes": {"step": null, "low": 1e-05, "high": 0.1, "log": true}},
    "dropout": {"type": "float", "low": 0, "high": 0.5, "step": 0.1},
    "units": {"type": "int", "low": 16, "high": 130, "step": 16},
    "momentum": {"name": "UniformDistribution", "attributes": {"low": 0.5, "high": 0.99}},
    "layers": {"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 8}},
    "optimizer": {"type": "categorical", "choices": ["adam", 3, 0.5, true]}
  })"));
  const SearchSpace expected = {
      {"lr", FloatDistribution{1e-5, 0.1, true, std::nullopt}},
      {"dropout", FloatDistribution{0, 0.5, false, 0.1}},
      // 130 is snapped down onto the grid 16 + 16k.
      {"units", IntDistribution{16, 128, false, 16}},
      {"momentum", FloatDistribution{0.5, 0.99, false, std::nullopt}},
      {"layers", IntDistribution{1, 8, true, 1}},
      {"optimizer", CategoricalDistribution{{std::string("adam"), int64_t{3}, 0.5, true}}},
  };
  EXPECT_EQ(space, expected);
}

TEST(SearchSpaceTest, KeepsFileOrderNotAlphabetical) {
  ASSERT_OK_AND_ASSIGN(SearchSpace space, ParseSearchSpace(R"({
    "z": {"type": "int", "low": 0, "high": 1},
    "a": {"type": "int", "low": 0, "high": 1},
    "m": {"type": "int", "low": 0, "high": 1}})"));
  ASSERT_EQ(space.size(), 3u);
  EXPECT_EQ(space[0].name, "z");
  EXPECT_EQ(space[1].name, "a");
  EXPECT_EQ(space[2].name, "m");
}

TEST(SearchSpaceTest, RoundTripsThroughJson) {
  const SearchSpace space = {
      {"z_lr", FloatDistribution{1e-5, 0.1, true, std::nullopt}},
      {"dropout", FloatDistribution{0, 1, false, 0.1}},
      {"units", IntDistribution{16, 128, false, 16}},
      {"with \"quotes\"", IntDistribution{1, 1024, true, 1}},
      {"opt", CategoricalDistribution{{std::string("adam"), int64_t{-7}, 1e-300, false}}},
  };
  const std::string json = SearchSpaceToJson(space);
  EXPECT_THAT(json, StartsWith("{\n  \"z_lr\": {\"name\": \"FloatDistribution\""));
  ASSERT_OK_AND_ASSIGN(SearchSpace parsed, ParseSearchSpace(json));
  EXPECT_EQ(parsed, space) << json;
  EXPECT_EQ(SearchSpaceToJson(parsed), json);
}

TEST(SearchSpaceTest, RejectsTextThatIsNotJson) {
  EXPECT_THAT(ParseError(R"({"lr": {"type": "float", "low": 0,)"),
              StartsWith("search space is not valid JSON: "));
  EXPECT_THAT(ParseError(""), StartsWith("search space is not valid JSON: "));
}

TEST(SearchSpaceTest, RejectsTopLevelThatIsNotAnObject) {
  EXPECT_THAT(ParseError(R"([{"type": "int", "low": 0, "high": 1}])"),
              HasSubstr("must be a JSON object mapping parameter names to distributions, got "
                        "array"));
  EXPECT_THAT(ParseError("3"), HasSubstr("got number"));
}

TEST(SearchSpaceTest, RejectsEmptyObject) { EXPECT_EQ(ParseError("{}"), "search space is empty"); }

TEST(SearchSpaceTest, RejectsDuplicateNames) {
  EXPECT_EQ(ParseError(R"({"lr": {"type": "float", "low": 0, "high": 1},
                           "n": {"type": "int", "low": 0, "high": 1},
                           "lr": {"type": "float", "low": 0, "high": 2}})"),
            "search space: parameter \"lr\": listed more than once");
  // Nested keys are the distributions' business, not a duplicate parameter.
  EXPECT_OK(ParseSearchSpace(R"({"a": {"type": "int", "low": 0, "high": 1},
                                 "b": {"type": "int", "low": 0, "high": 1}})"));
}

TEST(SearchSpaceTest, InvalidDistributionMessageNamesTheParameter) {
  EXPECT_EQ(ParseError(R"({"ok": {"type": "int", "low": 0, "high": 1},
                           "lr": {"type": "float", "low": 1, "high": 0}})"),
            "search space: parameter \"lr\": low (1.0) must be <= high (0.0)");
  EXPECT_EQ(ParseError(R"({"n": {"type": "int", "low": "a", "high": 3}})"),
            "search space: parameter \"n\": \"low\" must be an integer, got string");
  EXPECT_EQ(ParseError(R"({"c": {"type": "categorical", "choices": []}})"),
            "search space: parameter \"c\": choices must contain at least one element");
  EXPECT_THAT(ParseError(R"({"x": {"type": "gaussian"}})"),
              StartsWith("search space: parameter \"x\": unknown distribution type \"gaussian\""));
  EXPECT_THAT(ParseError(R"({"x": 3})"),
              StartsWith("search space: parameter \"x\": expected an object, got number"));
  EXPECT_THAT(ParseError(R"({"lr": {"name": "FloatDistribution", "attributes": {"low": 0}}})"),
              StartsWith("search space: parameter \"lr\": missing \"high\""));
}

TEST(SearchSpaceTest, InvalidNameIsRejected) {
  EXPECT_EQ(ParseError(R"({"": {"type": "int", "low": 0, "high": 1}})"),
            "search space: parameter \"\": parameter name must not be empty");
  EXPECT_THAT(ParseError(R"({"a\tb": {"type": "int", "low": 0, "high": 1}})"),
              StartsWith("search space: parameter \"a\\tb\": parameter name \"a\\tb\" contains a "
                         "control character"));
}

TEST(SearchSpaceFileTest, ReadsAFile) {
  const std::string path = WriteTempFile(
      "ok.json", R"({"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": true}})");
  ASSERT_OK_AND_ASSIGN(SearchSpace space, ReadSearchSpaceFile(path));
  const SearchSpace expected = {{"lr", FloatDistribution{0.001, 0.1, true, std::nullopt}}};
  EXPECT_EQ(space, expected);
}

TEST(SearchSpaceFileTest, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = ::testing::TempDir() + "/search_space_test_does_not_exist.json";
  absl::StatusOr<SearchSpace> r = ReadSearchSpaceFile(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(SearchSpaceFileTest, BadContentsAndDirectoriesAreInvalidArgumentNamingThePath) {
  const std::string path =
      WriteTempFile("bad.json", R"({"n": {"type": "int", "low": 2, "high": 1}})");
  absl::StatusOr<SearchSpace> r = ReadSearchSpaceFile(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            path + ": search space: parameter \"n\": low (2) must be <= high (1)");

  r = ReadSearchSpaceFile(::testing::TempDir());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(::testing::TempDir()));
}

}  // namespace
}  // namespace parzen

namespace parzen {
namespace {

TEST(ConditionalSearchSpaceTest, AFileSaysWhenAParameterExists) {
  ASSERT_OK_AND_ASSIGN(SearchSpace space, ParseSearchSpace(R"({
    "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
    "momentum": {"type": "float", "low": 0, "high": 0.99, "condition": {"optimizer": ["sgd"]}}
  })"));
  ASSERT_EQ(space.size(), 2u);
  ASSERT_TRUE(space[1].condition.has_value());
  EXPECT_EQ(space[1].condition->parent, "optimizer");
  // Round trip through the written form.
  ASSERT_OK_AND_ASSIGN(SearchSpace again, ParseSearchSpace(SearchSpaceToJson(space)));
  EXPECT_EQ(again, space);
  EXPECT_TRUE(IsActive(space[1], space, {{"optimizer", 0.0}}));   // sgd
  EXPECT_FALSE(IsActive(space[1], space, {{"optimizer", 1.0}}));  // adam
  EXPECT_FALSE(IsActive(space[1], space, {}));                    // no parent value
}

TEST(ConditionalSearchSpaceTest, ConditionsNameAnEarlierParentAndValuesItCanTake) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"m": {"type": "float", "low": 0, "high": 1, "condition": {"opt": ["sgd"]}},
           "opt": {"type": "categorical", "choices": ["sgd"]}})",
       "listed before it"},
      {R"({"opt": {"type": "categorical", "choices": ["sgd"]},
           "m": {"type": "float", "low": 0, "high": 1, "condition": {"opt": ["rmsprop"]}}})",
       "does not fit"},
      {R"({"opt": {"type": "categorical", "choices": ["sgd"]},
           "m": {"type": "float", "low": 0, "high": 1, "condition": {"opt": []}}})",
       "one parent with its values"},
  };
  for (const auto& [text, message] : bad) {
    absl::Status s = ParseSearchSpace(text).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.message().find(message), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace parzen
