#include "client/retry.h"

#include <algorithm>
#include <cmath>

namespace parzen::client {

bool IsRetryable(grpc::StatusCode code, Idempotency idempotency) {
  switch (idempotency) {
    case Idempotency::kIdempotent:
      return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
    case Idempotency::kUnavailableOnly:
      return code == grpc::StatusCode::UNAVAILABLE;
    case Idempotency::kNever:
      return false;
  }
  return false;
}

std::chrono::milliseconds Backoff(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  const double base = static_cast<double>(policy.initial_backoff.count()) *
                      std::pow(policy.multiplier, std::max(0, retry - 1));
  const double capped = std::min(base, static_cast<double>(policy.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(capped * jitter(rng)));
}

}  // namespace parzen::client
