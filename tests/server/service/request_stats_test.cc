#include "server/service/request_stats.h"

#include <gtest/gtest.h>

namespace parzen {
namespace {

using std::chrono::microseconds;

TEST(RequestStatsTest, SummarisesCountsErrorsAndPercentilesThenResets) {
  RequestStats stats;
  for (int i = 0; i < 98; ++i) stats.Record("Ask", true, microseconds(300));
  stats.Record("Ask", false, microseconds(300));
  stats.Record("Ask", true, microseconds(50'000));
  stats.Record("Tell", true, microseconds(3));
  const std::string summary = stats.TakeSummary();
  // 300 µs falls in the (256, 512] bucket; the slowest call sets p99 at 100 calls.
  EXPECT_NE(summary.find("Ask n=100 err=1 p50<=0.512ms p99<=0.512ms"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("Tell n=1 err=0 p50<=0.004ms"), std::string::npos) << summary;
  EXPECT_EQ(stats.TakeSummary(), "");
}

}  // namespace
}  // namespace parzen
