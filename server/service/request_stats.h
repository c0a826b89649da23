// RequestStats: per-RPC counts, errors and latency percentiles, for the
// server's periodic log line. Thread-safe.
#ifndef PARZEN_SERVER_SERVICE_REQUEST_STATS_H_
#define PARZEN_SERVER_SERVICE_REQUEST_STATS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace parzen {

class RequestStats {
 public:
  using Clock = std::chrono::steady_clock;

  // `method` must be a string literal (kept by pointer).
  void Record(const char* method, bool ok, Clock::duration latency) ABSL_LOCKS_EXCLUDED(mu_);

  // One line: "Ask n=1200 err=0 p50=0.9ms p99=3.1ms; Tell ..." for the
  // methods called since the last call, then resets the counters.
  std::string TakeSummary() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Latency histogram in power-of-two microsecond buckets: 1 µs .. ~67 s.
  static constexpr int kBuckets = 27;
  struct Method {
    int64_t calls = 0;
    int64_t errors = 0;
    std::array<int64_t, kBuckets> buckets{};
  };
  absl::Mutex mu_;
  std::map<std::string, Method> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_REQUEST_STATS_H_
