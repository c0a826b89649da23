// When and how often a failed call is sent again. A retry is only safe when
// repeating the call cannot change the outcome: the server makes Tell,
// Report, Suggest, Heartbeat and user attributes idempotent, reads are
// harmless, and Enqueue is never repeated (a lost reply would duplicate it).
#ifndef PARZEN_CLIENT_RETRY_H_
#define PARZEN_CLIENT_RETRY_H_

#include <chrono>
#include <random>

#include <grpcpp/support/status.h>

namespace parzen::client {

enum class Idempotency {
  // A repeat has the effect of one call: retried on UNAVAILABLE and
  // DEADLINE_EXCEEDED.
  kIdempotent,
  // A deadline may expire after the server acted, and a repeat would act
  // again (CreateStudy without load_if_exists, DeleteStudy). Only
  // UNAVAILABLE (the call most likely never arrived) is retried.
  kUnavailableOnly,
  kNever,
};

struct RetryPolicy {
  int max_attempts = 10;  // first call included
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  double multiplier = 2.0;
};

// Tighter bounds for one call than the client's defaults; 0 keeps those.
struct CallLimits {
  int max_attempts = 0;
  std::chrono::milliseconds timeout{0};
};

bool IsRetryable(grpc::StatusCode code, Idempotency idempotency);

// Pause before retry number `retry` (1 for the first retry): exponential
// growth capped at max_backoff, with jitter in [50%, 100%] so workers that
// lost the server together do not come back in lockstep.
std::chrono::milliseconds Backoff(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_RETRY_H_
