#include "client/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

#include <gtest/gtest.h>

namespace parzen::client {
namespace {

using std::chrono::milliseconds;

TEST(IsRetryableTest, IdempotentCallsRetryUnavailableAndDeadlineExceededOnly) {
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::UNAVAILABLE, Idempotency::kIdempotent));
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::DEADLINE_EXCEEDED, Idempotency::kIdempotent));
  for (grpc::StatusCode code :
       {grpc::StatusCode::OK, grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::ALREADY_EXISTS, grpc::StatusCode::FAILED_PRECONDITION,
        grpc::StatusCode::OUT_OF_RANGE, grpc::StatusCode::INTERNAL,
        grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::CANCELLED}) {
    EXPECT_FALSE(IsRetryable(code, Idempotency::kIdempotent)) << code;
  }
}

TEST(IsRetryableTest, AskRetriesUnavailableButNotDeadlineExceeded) {
  // A deadline may expire after the server started the trial: repeating
  // would start a second one.
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::UNAVAILABLE, Idempotency::kUnavailableOnly));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::DEADLINE_EXCEEDED, Idempotency::kUnavailableOnly));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::INTERNAL, Idempotency::kUnavailableOnly));
}

TEST(IsRetryableTest, NeverMeansNever) {
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::UNAVAILABLE, Idempotency::kNever));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::DEADLINE_EXCEEDED, Idempotency::kNever));
}

// min(max, initial * multiplier^(retry - 1)) in milliseconds, before jitter.
double Ceiling(const RetryPolicy& policy, int retry) {
  const double base =
      static_cast<double>(policy.initial_backoff.count()) * std::pow(policy.multiplier, retry - 1);
  return std::min(base, static_cast<double>(policy.max_backoff.count()));
}

TEST(BackoffTest, GrowsExponentiallyUpToTheCapWithJitterInTheUpperHalf) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(100);
  policy.max_backoff = milliseconds(1'000);
  policy.multiplier = 2.0;
  std::mt19937_64 rng(42);
  for (int retry = 1; retry <= 8; ++retry) {
    const double ceiling = Ceiling(policy, retry);
    // Whole milliseconds: the jittered value is rounded down.
    const auto floor = static_cast<int64_t>(ceiling * 0.5);
    for (int sample = 0; sample < 200; ++sample) {
      const milliseconds pause = Backoff(policy, retry, rng);
      ASSERT_GE(pause.count(), floor) << "retry " << retry;
      ASSERT_LE(pause.count(), static_cast<int64_t>(ceiling)) << "retry " << retry;
    }
  }
}

TEST(BackoffTest, LaterRetriesWaitLongerUntilTheCap) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(100);
  policy.max_backoff = milliseconds(1'000);
  std::mt19937_64 rng(7);
  // With jitter in [50%, 100%] and doubling, the shortest pause of retry n
  // is the longest of retry n-1, so even the extremes cannot overlap.
  EXPECT_GE(Backoff(policy, 2, rng).count(), 100);
  EXPECT_GE(Backoff(policy, 3, rng).count(), 200);
  EXPECT_GE(Backoff(policy, 4, rng).count(), 400);
  // 100 * 2^9 would be 51.2 s; the cap holds it to max_backoff.
  EXPECT_LE(Backoff(policy, 10, rng).count(), 1'000);
  EXPECT_LE(Backoff(policy, 1'000, rng).count(), 1'000);
}

TEST(BackoffTest, JitterSpreadsWorkersApart) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(1'000);
  policy.max_backoff = milliseconds(10'000);
  std::mt19937_64 rng(1);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(Backoff(policy, 1, rng).count());
  // Without jitter all 50 would be 1000 ms.
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffTest, RetryZeroIsTreatedAsTheFirstRetry) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(100);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const int64_t pause = Backoff(policy, 0, rng).count();
    EXPECT_GE(pause, 50);
    EXPECT_LE(pause, 100);
  }
}

}  // namespace
}  // namespace parzen::client
