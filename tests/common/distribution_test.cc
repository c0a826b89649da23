#include "common/distribution.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

FloatDistribution Float(double low, double high, bool log = false,
                        std::optional<double> step = std::nullopt) {
  return FloatDistribution{low, high, log, step};
}
IntDistribution Int(int64_t low, int64_t high, bool log = false, int64_t step = 1) {
  return IntDistribution{low, high, log, step};
}
CategoricalDistribution Cat(std::vector<ParamValue> choices) {
  return CategoricalDistribution{std::move(choices)};
}

// The error message of validating `d`, or "" when it is valid.
std::string ValidationError(Distribution d) {
  absl::StatusOr<Distribution> r = ValidateDistribution(std::move(d));
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  return std::string(r.status().message());
}

double SnappedHigh(FloatDistribution d) {
  absl::StatusOr<Distribution> r = ValidateDistribution(d);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::get<FloatDistribution>(*r).high : kNaN;
}

// --- Validation -----------------------------------------------------------------

TEST(ValidateFloatTest, AcceptsOrdinaryRanges) {
  EXPECT_EQ(ValidationError(Float(0, 1)), "");
  EXPECT_EQ(ValidationError(Float(1e-4, 0.1, /*log=*/true)), "");
  EXPECT_EQ(ValidationError(Float(-3, -3)), "");
  EXPECT_EQ(ValidationError(Float(0, 1, false, 0.25)), "");
}

TEST(ValidateFloatTest, RejectsNonFiniteBoundsAndStep) {
  EXPECT_EQ(ValidationError(Float(kNaN, 1)), "low (NaN) must be finite");
  EXPECT_EQ(ValidationError(Float(0, kInf)), "high (Infinity) must be finite");
  EXPECT_EQ(ValidationError(Float(-kInf, 0)), "low (-Infinity) must be finite");
  EXPECT_EQ(ValidationError(Float(0, 1, false, kInf)), "step (Infinity) must be finite");
  EXPECT_EQ(ValidationError(Float(0, 1, false, kNaN)), "step (NaN) must be finite");
}

TEST(ValidateFloatTest, RejectsLowAboveHigh) {
  EXPECT_EQ(ValidationError(Float(2, 1)), "low (2.0) must be <= high (1.0)");
}

TEST(ValidateFloatTest, LogNeedsPositiveLowAndNoStep) {
  EXPECT_EQ(ValidationError(Float(0, 1, true)), "low (0.0) must be > 0 when log is true");
  EXPECT_EQ(ValidationError(Float(-1, 1, true)), "low (-1.0) must be > 0 when log is true");
  EXPECT_THAT(ValidationError(Float(1, 10, true, 1.0)),
              HasSubstr("step (1.0) is not supported when log is true"));
}

TEST(ValidateFloatTest, StepMustBePositive) {
  EXPECT_EQ(ValidationError(Float(0, 1, false, 0.0)), "step (0.0) must be > 0");
  EXPECT_EQ(ValidationError(Float(0, 1, false, -0.5)), "step (-0.5) must be > 0");
}

// Expected values come from Optuna 3.1's _adjust_discrete_uniform_high.
TEST(ValidateFloatTest, SnapsHighLikeOptunaDecimalMath) {
  EXPECT_EQ(SnappedHigh(Float(0, 1, false, 0.1)), 1.0);  // binary math would give 0.9
  EXPECT_EQ(SnappedHigh(Float(0, 1.05, false, 0.1)), 1.0);
  EXPECT_EQ(SnappedHigh(Float(0.1, 1.0, false, 0.3)), 1.0);
  EXPECT_EQ(SnappedHigh(Float(0, 0.95, false, 0.1)), 0.9);
  EXPECT_EQ(SnappedHigh(Float(0, 10, false, 3)), 9.0);
  EXPECT_EQ(SnappedHigh(Float(1, 2.7, false, 0.25)), 2.5);
  EXPECT_EQ(SnappedHigh(Float(-1.5e-7, 2.0, false, 2.0)), 1.99999985);
  EXPECT_EQ(SnappedHigh(Float(0.5, 0.7, false, 1.0)), 0.5);
  // Magnitudes far apart: the tiny low rounds away as in Python's 28-digit context.
  EXPECT_EQ(SnappedHigh(Float(1e-300, 1.0, false, 0.3)), 0.9);
  // A step far above the range leaves only low.
  EXPECT_EQ(SnappedHigh(Float(20, 72, false, 2.399867126003761e+58)), 20.0);
  EXPECT_EQ(SnappedHigh(Float(-2.9138649815953417e-124, 87.83, false, 451.7052028930304)),
            -2.9138649815953417e-124);
}

TEST(ValidateFloatTest, RejectsGridsTooFineForOptunaDecimalMath) {
  // Optuna raises decimal.InvalidOperation once (high - low) / step needs
  // more than 28 integer digits.
  EXPECT_EQ(SnappedHigh(Float(0, 9e15, false, 1.0)), 9e15);
  // Parzen's own, tighter limit: a double indexes at most 2^53 grid points.
  EXPECT_NE(ValidationError(Float(0, 1e27, false, 1.0)).find("2^53"), std::string::npos);
  EXPECT_EQ(ValidationError(Float(0, 1e28, false, 1.0)),
            "step (1.0) is too small for the range [0.0, 1e+28]: (high - low) / step must be "
            "below 1e+28");
  EXPECT_THAT(ValidationError(Float(-77.16, -15.8, false, 3.510813445781888e-296)),
              HasSubstr("too small for the range"));
  EXPECT_FALSE(IsSingle(Float(0, 1e28, false, 1.0)));
}

TEST(ValidateIntTest, AcceptsOrdinaryRanges) {
  EXPECT_EQ(ValidationError(Int(16, 128)), "");
  EXPECT_EQ(ValidationError(Int(1, 1000, true)), "");
  EXPECT_EQ(ValidationError(Int(5, 5)), "");
}

TEST(ValidateIntTest, RejectsInvalidFields) {
  EXPECT_EQ(ValidationError(Int(2, 1)), "low (2) must be <= high (1)");
  EXPECT_EQ(ValidationError(Int(0, 10, true)), "low (0) must be >= 1 when log is true");
  EXPECT_EQ(ValidationError(Int(1, 10, true, 2)), "step (2) must be 1 when log is true");
  EXPECT_EQ(ValidationError(Int(0, 10, false, 0)), "step (0) must be >= 1");
  EXPECT_EQ(ValidationError(Int(0, 10, false, -2)), "step (-2) must be >= 1");
}

TEST(ValidateIntTest, SnapsHighDownToGrid) {
  ASSERT_OK_AND_ASSIGN(Distribution d, ValidateDistribution(Int(16, 130, false, 16)));
  EXPECT_EQ(std::get<IntDistribution>(d), Int(16, 128, false, 16));
  ASSERT_OK_AND_ASSIGN(d, ValidateDistribution(Int(-5, 5, false, 3)));
  EXPECT_EQ(std::get<IntDistribution>(d).high, 4);
  // Values travel as doubles, exact to 2^53: the widest range allowed
  // snaps without overflow, anything wider is refused.
  constexpr int64_t kMax = int64_t{1} << 53;
  ASSERT_OK_AND_ASSIGN(d, ValidateDistribution(Int(-kMax, kMax, false, 2)));
  EXPECT_EQ(std::get<IntDistribution>(d).high, kMax);
  EXPECT_FALSE(ValidateDistribution(Int(std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max(), false, 2))
                   .ok());
}

// Issue 19: 2^53 + 1 rounds to 2^53 as a double, so a check made after
// the conversion let it through and Ask returned a value outside
// [low, high]. The bounds are compared as integers.
TEST(ValidateIntTest, RefusesBoundsOneBeyondTwoToThe53) {
  constexpr int64_t kMax = int64_t{1} << 53;
  EXPECT_NE(ValidationError(Int(-(kMax + 1), 0, false, 1)).find("within +-2^53"), std::string::npos);
  EXPECT_NE(ValidationError(Int(0, kMax + 1, false, 1)).find("within +-2^53"), std::string::npos);
  EXPECT_NE(ValidationError(Int(-(kMax + 1), kMax + 1, false, 1)).find("within +-2^53"),
            std::string::npos);
  EXPECT_EQ(ValidationError(Int(-kMax, kMax, false, 1)), "");
}

TEST(ValidateCategoricalTest, AcceptsMixedChoices) {
  EXPECT_EQ(ValidationError(Cat({"adam", "sgd"})), "");
  EXPECT_EQ(ValidationError(Cat({int64_t{1}, 2.5, true, false, "1"})), "");
}

TEST(ValidateCategoricalTest, RejectsEmptyDuplicateAndNonFiniteChoices) {
  EXPECT_EQ(ValidationError(Cat({})), "choices must contain at least one element");
  EXPECT_EQ(ValidationError(Cat({"adam", "sgd", "adam"})),
            "choices must be distinct, but choices[0] (\"adam\") and choices[2] (\"adam\") are "
            "equal");
  // Python's 1 == 1.0 (and 0 == -0.0): the same choice in two types.
  EXPECT_EQ(ValidationError(Cat({int64_t{1}, 1.0})),
            "choices must be distinct, but choices[0] (1) and choices[1] (1.0) are equal");
  EXPECT_THAT(ValidationError(Cat({0.0, -0.0})), HasSubstr("are equal"));
  EXPECT_EQ(ValidationError(Cat({1.0, kNaN})), "choices[1] (NaN) must be finite");
  EXPECT_EQ(ValidationError(Cat({kInf})), "choices[0] (Infinity) must be finite");
  EXPECT_EQ(ValidationError(Cat({std::string("\xff")})), "choices[0] is not valid UTF-8");
}

TEST(ValidateCategoricalTest, LargeIntegersAreComparedExactly) {
  // 2^53 + 1 is not representable as a double, so it differs from 2^53.
  EXPECT_EQ(ValidationError(Cat({int64_t{9007199254740993}, 9007199254740992.0})), "");
  // Bools stay distinct from the numbers 1 and 0.
  EXPECT_EQ(ValidationError(Cat({int64_t{1}, true, int64_t{0}, false})), "");
}

TEST(ValidateParamNameTest, Rules) {
  EXPECT_OK(ValidateParamName("lr"));
  EXPECT_OK(ValidateParamName("layer/0.units \xc3\xa9"));
  EXPECT_OK(ValidateParamName(std::string(kMaxParamNameLength, 'x')));
  EXPECT_EQ(ValidateParamName("").code(), absl::StatusCode::kInvalidArgument);
  absl::Status too_long = ValidateParamName(std::string(kMaxParamNameLength + 1, 'x'));
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("513 bytes"));
  absl::Status control = ValidateParamName("a\nb");
  EXPECT_EQ(control.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(control.message()), HasSubstr("control character at byte 1"));
  EXPECT_EQ(ValidateParamName("a\x7f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateParamName(std::string("a\0b", 3)).code(), absl::StatusCode::kInvalidArgument);
}

// --- IsSingle / Contains ----------------------------------------------------------

TEST(IsSingleTest, AllKinds) {
  EXPECT_TRUE(IsSingle(Float(1, 1)));
  EXPECT_FALSE(IsSingle(Float(1, 2)));
  EXPECT_TRUE(IsSingle(Float(0.5, 0.7, false, 1.0)));  // not yet snapped
  EXPECT_FALSE(IsSingle(Float(0, 0.2, false, 0.1)));
  EXPECT_TRUE(IsSingle(Int(3, 3)));
  EXPECT_TRUE(IsSingle(Int(0, 5, false, 10)));
  EXPECT_FALSE(IsSingle(Int(0, 10, false, 10)));
  EXPECT_FALSE(IsSingle(Int(1, 2, true)));
  EXPECT_TRUE(IsSingle(Cat({"only"})));
  EXPECT_FALSE(IsSingle(Cat({"a", "b"})));
}

TEST(ContainsTest, Float) {
  EXPECT_TRUE(Contains(Float(0, 1), 0));
  EXPECT_TRUE(Contains(Float(0, 1), 1));
  EXPECT_FALSE(Contains(Float(0, 1), 1.0000001));
  EXPECT_FALSE(Contains(Float(0, 1), kNaN));
  const Distribution stepped = Float(0, 1, false, 0.1);
  EXPECT_TRUE(Contains(stepped, 0.3));  // 0.30000000000000004 / 0.1 is within tolerance
  EXPECT_TRUE(Contains(stepped, 0.1 * 7));
  EXPECT_FALSE(Contains(stepped, 0.35));
}

TEST(ContainsTest, Int) {
  const Distribution d = Int(16, 128, false, 16);
  EXPECT_TRUE(Contains(d, 16));
  EXPECT_TRUE(Contains(d, 128));
  EXPECT_FALSE(Contains(d, 24));
  EXPECT_FALSE(Contains(d, 32.5));
  EXPECT_FALSE(Contains(d, 144));
  EXPECT_FALSE(Contains(d, kInf));
  EXPECT_TRUE(Contains(Int(-5, 4, false, 3), -2));
  EXPECT_FALSE(Contains(Int(0, std::numeric_limits<int64_t>::max()), 9223372036854775808.0));
}

TEST(ContainsTest, Categorical) {
  const Distribution d = Cat({"a", "b", "c"});
  EXPECT_TRUE(Contains(d, 0));
  EXPECT_TRUE(Contains(d, 2));
  EXPECT_FALSE(Contains(d, 3));
  EXPECT_FALSE(Contains(d, -1));
  EXPECT_FALSE(Contains(d, 0.5));
  EXPECT_FALSE(Contains(d, kNaN));
}

// --- Internal / external representation ----------------------------------------------

TEST(ToInternalTest, Float) {
  EXPECT_EQ(*ToInternal(Float(0, 1), 0.25), 0.25);
  EXPECT_EQ(*ToInternal(Float(0, 1), int64_t{1}), 1.0);
  EXPECT_EQ(*ToInternal(Float(0, 1), 5.0), 5.0);  // out of range: Optuna only warns
  EXPECT_EQ(ToInternal(Float(0, 1), true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToInternal(Float(0, 1), "0.5").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToInternal(Float(0, 1), kNaN).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ToInternal(Float(1, 10, true), 0.0).status().message()),
              HasSubstr("log=true; it must be > 0"));
}

TEST(ToInternalTest, Int) {
  EXPECT_EQ(*ToInternal(Int(0, 10), int64_t{7}), 7.0);
  EXPECT_EQ(*ToInternal(Int(0, 10), 3.0), 3.0);
  EXPECT_THAT(std::string(ToInternal(Int(0, 10), 3.5).status().message()),
              HasSubstr("3.5 is not a valid value for an int parameter"));
  EXPECT_EQ(ToInternal(Int(0, 10), false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToInternal(Int(0, 10), "3").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToInternal(Int(1, 10, true), int64_t{0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ToInternalTest, Categorical) {
  const Distribution d = Cat({"adam", 2.0, int64_t{3}, true});
  EXPECT_EQ(*ToInternal(d, "adam"), 0.0);
  EXPECT_EQ(*ToInternal(d, int64_t{2}), 1.0);  // int 2 matches choice 2.0
  EXPECT_EQ(*ToInternal(d, 3.0), 2.0);
  EXPECT_EQ(*ToInternal(d, true), 3.0);
  absl::StatusOr<double> missing = ToInternal(d, "sgd");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            "\"sgd\" is not one of the choices {\"adam\", 2.0, 3, true}");
  EXPECT_FALSE(ToInternal(d, int64_t{1}).ok());  // 1 is not true
}

TEST(ToExternalTest, AllKinds) {
  EXPECT_EQ(ToExternal(Float(0, 1), 0.25), ParamValue(0.25));
  EXPECT_EQ(ToExternal(Int(0, 10), 7.0), ParamValue(int64_t{7}));
  EXPECT_EQ(ToExternal(Int(0, 10), 6.9999999), ParamValue(int64_t{7}));
  EXPECT_EQ(ToExternal(Int(-10, 0), -3.0), ParamValue(int64_t{-3}));
  const Distribution cat = Cat({"adam", int64_t{5}, false});
  EXPECT_EQ(ToExternal(cat, 0), ParamValue("adam"));
  EXPECT_EQ(ToExternal(cat, 1), ParamValue(int64_t{5}));
  EXPECT_EQ(ToExternal(cat, 2), ParamValue(false));
}

TEST(ToExternalTest, RoundTripsThroughInternal) {
  const std::vector<std::pair<Distribution, ParamValue>> cases = {
      {Float(0, 1), 0.1}, {Int(-5, 5), int64_t{-4}}, {Cat({"a", 1.5, int64_t{9}}), 1.5}};
  for (const auto& [d, v] : cases) {
    ASSERT_OK_AND_ASSIGN(double internal, ToInternal(d, v));
    EXPECT_TRUE(Contains(d, internal));
    EXPECT_EQ(ToExternal(d, internal), v);
  }
}

// --- Compatibility -------------------------------------------------------------------

TEST(CheckCompatibleTest, RangesAndStepsMayChange) {
  EXPECT_OK(CheckCompatible(Float(0, 1), Float(-5, 5, false, 0.5)));
  EXPECT_OK(CheckCompatible(Int(0, 10), Int(5, 100, false, 5)));
  EXPECT_OK(CheckCompatible(Float(1, 2, true), Float(0.1, 20, true)));
  EXPECT_OK(CheckCompatible(Cat({"a", int64_t{1}}), Cat({"a", 1.0})));  // 1 == 1.0
}

TEST(CheckCompatibleTest, KindLogAndChoicesMustMatch) {
  absl::Status kind = CheckCompatible(Float(0, 1), Int(0, 1));
  EXPECT_EQ(kind.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(kind.message()),
              HasSubstr("cannot change from FloatDistribution to IntDistribution"));
  EXPECT_THAT(std::string(kind.message()),
              HasSubstr("stored float[0.0, 1.0], requested int[0, 1]"));
  absl::Status log = CheckCompatible(Int(1, 10), Int(1, 10, true));
  EXPECT_EQ(log.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(log.message()), HasSubstr("log cannot change from false to true"));
  EXPECT_FALSE(CheckCompatible(Float(1, 2, true), Float(1, 2)).ok());
  absl::Status choices = CheckCompatible(Cat({"a", "b"}), Cat({"b", "a"}));
  EXPECT_EQ(choices.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(choices.message()), HasSubstr("choices cannot change"));
  EXPECT_FALSE(CheckCompatible(Cat({"a"}), Cat({"a", "b"})).ok());
  EXPECT_FALSE(CheckCompatible(Cat({"a"}), Float(0, 1)).ok());
}

// --- JSON -------------------------------------------------------------------------------

struct JsonCase {
  Distribution input;  // validated (and so snapped) before serialising
  std::string expected;
};

// Every expected string was produced by Optuna 3.1:
// optuna.distributions.distribution_to_json(<same distribution>).
std::vector<JsonCase> JsonCases() {
  return {
      {Float(1e-4, 0.1, true),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0001, "high": 0.1, "log": true}})"},
      {Float(0, 1, false, 0.1),
       R"({"name": "FloatDistribution", "attributes": {"step": 0.1, "low": 0.0, "high": 1.0, "log": false}})"},
      {Float(0, 1.05, false, 0.1),
       R"({"name": "FloatDistribution", "attributes": {"step": 0.1, "low": 0.0, "high": 1.0, "log": false}})"},
      {Float(1e-5, 1e16),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 1e+16, "log": false}})"},
      {Float(-1.5e-7, 2.0, false, 2.0),
       R"({"name": "FloatDistribution", "attributes": {"step": 2.0, "low": -1.5e-07, "high": 1.99999985, "log": false}})"},
      {Float(0.1, 1.0, false, 0.3),
       R"({"name": "FloatDistribution", "attributes": {"step": 0.3, "low": 0.1, "high": 1.0, "log": false}})"},
      {Float(0, 10, false, 3),
       R"({"name": "FloatDistribution", "attributes": {"step": 3.0, "low": 0.0, "high": 9.0, "log": false}})"},
      {Float(1e15, 123456789012345678.0),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 1000000000000000.0, "high": 1.2345678901234568e+17, "log": false}})"},
      {Float(5e-324, 1.7976931348623157e308),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 5e-324, "high": 1.7976931348623157e+308, "log": false}})"},
      {Float(0.1 + 0.2, 0.5),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 0.30000000000000004, "high": 0.5, "log": false}})"},
      {Float(-0.0, 0.0),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": -0.0, "high": 0.0, "log": false}})"},
      {Float(-2.5, -1e-300),
       R"({"name": "FloatDistribution", "attributes": {"step": null, "low": -2.5, "high": -1e-300, "log": false}})"},
      {Int(16, 128),
       R"({"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 16, "high": 128}})"},
      {Int(16, 130, false, 16),
       R"({"name": "IntDistribution", "attributes": {"log": false, "step": 16, "low": 16, "high": 128}})"},
      {Int(1, 100, true),
       R"({"name": "IntDistribution", "attributes": {"log": true, "step": 1, "low": 1, "high": 100}})"},
      {Int(-5, 5, false, 3),
       R"({"name": "IntDistribution", "attributes": {"log": false, "step": 3, "low": -5, "high": 4}})"},
      {Int(-9007199254740992, 9007199254740992),
       R"({"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": -9007199254740992, "high": 9007199254740992}})"},
      {Cat({"adam", "sgd"}),
       R"({"name": "CategoricalDistribution", "attributes": {"choices": ["adam", "sgd"]}})"},
      // é, U+1F600 (a surrogate pair), quote, backslash, \n, \t, 0x01, DEL, \b, \f, \r, '/'.
      {Cat({int64_t{1}, 2.5, true,
            "\xc3\xa9"
            "\xf0\x9f\x98\x80"
            "\"\\\n\t\x01"
            "\x7f\b\f\r/"}),
       R"({"name": "CategoricalDistribution", "attributes": {"choices": [1, 2.5, true, "\u00e9\ud83d\ude00\"\\\n\t\u0001\u007f\b\f\r/"]}})"},
      {Cat({1e-07, 1e22, -0.0, false}),
       R"({"name": "CategoricalDistribution", "attributes": {"choices": [1e-07, 1e+22, -0.0, false]}})"},
      {Cat({"x"}), R"({"name": "CategoricalDistribution", "attributes": {"choices": ["x"]}})"},
  };
}

TEST(DistributionJsonTest, MatchesOptunaByteForByte) {
  for (const JsonCase& c : JsonCases()) {
    SCOPED_TRACE(c.expected);
    ASSERT_OK_AND_ASSIGN(Distribution d, ValidateDistribution(c.input));
    EXPECT_EQ(DistributionToJson(d), c.expected);
  }
}

TEST(DistributionJsonTest, RoundTrips) {
  for (const JsonCase& c : JsonCases()) {
    SCOPED_TRACE(c.expected);
    ASSERT_OK_AND_ASSIGN(Distribution d, ValidateDistribution(c.input));
    ASSERT_OK_AND_ASSIGN(Distribution parsed, DistributionFromJson(DistributionToJson(d)));
    EXPECT_EQ(parsed, d);
    // Bit-exact, including the sign of -0.0.
    if (const auto* f = std::get_if<FloatDistribution>(&d)) {
      EXPECT_EQ(std::signbit(f->low), std::signbit(std::get<FloatDistribution>(parsed).low));
    }
  }
}

TEST(DistributionJsonTest, ParsesLegacyClassNames) {
  struct Case {
    std::string json;
    Distribution expected;
  };
  const std::vector<Case> cases = {
      {R"({"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 1.0}})", Float(0, 1)},
      {R"({"name": "LogUniformDistribution", "attributes": {"low": 1e-05, "high": 0.1}})",
       Float(1e-5, 0.1, true)},
      {R"({"name": "DiscreteUniformDistribution", "attributes": {"low": 0.0, "high": 1.05, "q": 0.1}})",
       Float(0, 1.0, false, 0.1)},
      {R"({"name": "IntUniformDistribution", "attributes": {"low": 0, "high": 10, "step": 3}})",
       Int(0, 9, false, 3)},
      {R"({"name": "IntUniformDistribution", "attributes": {"low": 0, "high": 10}})", Int(0, 10)},
      {R"({"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 64, "step": 1}})",
       Int(1, 64, true)},
      // Integer-valued JSON floats are accepted for int fields, as Python's int() would.
      {R"({"name": "IntDistribution", "attributes": {"log": false, "step": 2.0, "low": 0, "high": 8.0}})",
       Int(0, 8, false, 2)},
      // Integral JSON numbers are fine for float fields.
      {R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 0, "high": 3, "log": false}})",
       Float(0, 3)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    ASSERT_OK_AND_ASSIGN(Distribution d, DistributionFromJson(c.json));
    EXPECT_EQ(d, c.expected);
  }
}

TEST(DistributionJsonTest, ParsesAbbreviatedForm) {
  struct Case {
    std::string json;
    Distribution expected;
  };
  const std::vector<Case> cases = {
      {R"({"type": "float", "low": 0.001, "high": 1, "log": true})", Float(0.001, 1, true)},
      {R"({"type": "float", "low": 0, "high": 1, "step": 0.25})", Float(0, 1, false, 0.25)},
      {R"({"type": "float", "low": 0, "high": 1, "step": null})", Float(0, 1)},
      {R"({"type": "int", "low": 16, "high": 130, "step": 16})", Int(16, 128, false, 16)},
      {R"({"type": "int", "low": 1, "high": 8})", Int(1, 8)},  // step defaults to 1
      {R"({"type": "int", "low": 1, "high": 8, "log": true})", Int(1, 8, true)},
      {R"({"type": "categorical", "choices": ["a", 1, 1.5, false]})",
       Cat({"a", int64_t{1}, 1.5, false})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    ASSERT_OK_AND_ASSIGN(Distribution d, DistributionFromJson(c.json));
    EXPECT_EQ(d, c.expected);
  }
}

TEST(DistributionJsonTest, RejectsMalformedInputWithoutThrowing) {
  struct Case {
    std::string json;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "invalid distribution JSON"},
      {"{", "invalid distribution JSON"},
      {"[1, 2]", "expected an object, got array"},
      {R"({"low": 1})", "expected \"name\" and \"attributes\""},
      {R"({"name": "NormalDistribution", "attributes": {}})", "unknown distribution class"},
      {R"({"name": 3, "attributes": {}})", "\"name\" must be a string"},
      {R"({"name": "FloatDistribution"})", "missing \"attributes\""},
      {R"({"name": "FloatDistribution", "attributes": [1]})", "\"attributes\" must be an object"},
      {R"({"name": "FloatDistribution", "attributes": {"low": 0}})", "missing \"high\""},
      {R"({"name": "FloatDistribution", "attributes": {"low": "0", "high": 1}})",
       "\"low\" must be a number, got string"},
      {R"({"name": "FloatDistribution", "attributes": {"low": 0, "high": 1, "lgo": true}})",
       "unknown key \"lgo\""},
      {R"({"name": "FloatDistribution", "attributes": {"low": 0, "high": 1, "log": 1}})",
       "\"log\" must be true or false"},
      {R"({"name": "IntDistribution", "attributes": {"low": 0.5, "high": 1}})",
       "\"low\" must be an integer, got 0.5"},
      {R"({"name": "IntDistribution", "attributes": {"low": 0, "high": 18446744073709551615}})",
       "does not fit in a 64-bit integer"},
      {R"({"name": "IntDistribution", "attributes": {"low": 0, "high": 1, "step": null}})",
       "\"step\" must be an integer"},
      {R"({"name": "DiscreteUniformDistribution", "attributes": {"low": 0, "high": 1}})",
       "missing \"q\""},
      {R"({"name": "CategoricalDistribution", "attributes": {"choices": "ab"}})",
       "\"choices\" must be an array"},
      {R"({"name": "CategoricalDistribution", "attributes": {"choices": [null]}})",
       "\"choices[0]\" must be a string, number or boolean, got null"},
      {R"({"name": "CategoricalDistribution", "attributes": {"choices": [[1]]}})", "got array"},
      {R"({"type": "normal", "low": 0, "high": 1})", "unknown distribution type \"normal\""},
      {R"({"type": "float", "low": 0})", "missing \"high\""},
      {R"({"type": "int", "low": 0, "high": 4, "setp": 2})", "unknown key \"setp\""},
      {R"({"type": 1})", "\"type\" must be a string"},
      // Parsed fine, then rejected by validation.
      {R"({"type": "float", "low": 2, "high": 1})", "low (2.0) must be <= high (1.0)"},
      {R"({"type": "categorical", "choices": []})", "at least one element"},
      {R"({"type": "categorical", "choices": ["a", "a"]})", "choices must be distinct"},
      {R"({"type": "float", "low": 0, "high": 1e400})", "invalid distribution JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<Distribution> d = DistributionFromJson(c.json);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(d.status().message()), HasSubstr(c.message_part));
  }
}

// --- Formatting -------------------------------------------------------------------------

TEST(FormatTest, Values) {
  EXPECT_EQ(FormatValue(0.01), "0.01");
  EXPECT_EQ(FormatValue(1e-5), "1e-05");
  EXPECT_EQ(FormatValue(2.0), "2.0");
  EXPECT_EQ(FormatValue(int64_t{16}), "16");
  EXPECT_EQ(FormatValue("adam"), "\"adam\"");
  EXPECT_EQ(FormatValue(true), "true");
}

TEST(FormatTest, Distributions) {
  EXPECT_EQ(FormatDistribution(Float(1e-4, 0.1, true)), "float[0.0001, 0.1] log");
  EXPECT_EQ(FormatDistribution(Float(0, 1, false, 0.1)), "float[0.0, 1.0] step 0.1");
  EXPECT_EQ(FormatDistribution(Int(16, 128, false, 16)), "int[16, 128] step 16");
  EXPECT_EQ(FormatDistribution(Int(1, 100, true)), "int[1, 100] log");
  EXPECT_EQ(FormatDistribution(Cat({"adam", "sgd"})), "categorical{\"adam\", \"sgd\"}");
  std::vector<ParamValue> many;
  for (int64_t i = 0; i < 25; ++i) many.emplace_back(std::in_place_type<int64_t>, i);
  EXPECT_THAT(FormatDistribution(Cat(many)), HasSubstr(", 19, ... (5 more)}"));
}

}  // namespace
}  // namespace parzen
