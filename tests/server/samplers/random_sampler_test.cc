#include "server/samplers/random_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

// Conformance: every value lies inside its distribution, and the same
// (seed, trial number, name) always gives the same value.
TEST(RandomSamplerTest, ValuesLieInsideTheirDistributionAndReplay) {
  const std::vector<Distribution> distributions = {
      FloatDistribution{-1, 1, false, std::nullopt},
      FloatDistribution{1e-5, 1e-1, true, std::nullopt},
      FloatDistribution{0, 1, false, 0.25},
      IntDistribution{-3, 3, false, 1},
      IntDistribution{1, 1024, true, 1},
      IntDistribution{16, 256, false, 16},
      CategoricalDistribution{{std::string("a"), int64_t{2}, true}},
      FloatDistribution{0.5, 0.5, false, std::nullopt},
  };
  RandomSampler sampler(123), same(123), other(124);
  VectorStudyHistory history({Direction::kMinimize}, {});
  for (const Distribution& d : distributions) {
    SCOPED_TRACE(FormatDistribution(d));
    int differs = 0;
    for (int n = 0; n < 500; ++n) {
      FrozenTrial t;
      t.number = n;
      ASSERT_OK_AND_ASSIGN(double v, sampler.SampleIndependent(history, t, "p", d));
      EXPECT_TRUE(Contains(d, v)) << v;
      ASSERT_OK_AND_ASSIGN(double again, same.SampleIndependent(history, t, "p", d));
      EXPECT_EQ(v, again);
      ASSERT_OK_AND_ASSIGN(double o, other.SampleIndependent(history, t, "p", d));
      differs += o != v;
    }
    if (!IsSingle(d)) {
      EXPECT_GT(differs, 100);
    }
  }
}

TEST(RandomSamplerTest, CoversEveryChoiceAndBothEndsOfIntRanges) {
  RandomSampler sampler(9);
  VectorStudyHistory history({Direction::kMinimize}, {});
  std::map<double, int> seen;
  const Distribution d = IntDistribution{0, 4, false, 1};
  for (int n = 0; n < 2000; ++n) {
    FrozenTrial t;
    t.number = n;
    ASSERT_OK_AND_ASSIGN(double v, sampler.SampleIndependent(history, t, "k", d));
    ++seen[v];
  }
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& [value, count] : seen) EXPECT_GT(count, 300) << value;  // about 400 each
}

TEST(RandomSamplerTest, LogScaleSpreadsOverDecades) {
  RandomSampler sampler(5);
  VectorStudyHistory history({Direction::kMinimize}, {});
  int below = 0;
  for (int n = 0; n < 2000; ++n) {
    FrozenTrial t;
    t.number = n;
    ASSERT_OK_AND_ASSIGN(double v, sampler.SampleIndependent(history, t, "lr",
                                                             FloatDistribution{1e-4, 1, true, std::nullopt}));
    below += v < 1e-2;
  }
  // Half the log range lies below 1e-2; a linear sampler would put ~1% there.
  EXPECT_GT(below, 850);
  EXPECT_LT(below, 1150);
}

}  // namespace
}  // namespace parzen
