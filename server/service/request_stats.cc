#include "server/service/request_stats.h"

#include <bit>
#include <cstdio>

namespace parzen {
namespace {

// The upper edge of the bucket holding the q-quantile, in milliseconds.
double QuantileMs(const std::array<int64_t, 27>& buckets, int64_t total, double q) {
  const auto rank = static_cast<int64_t>(q * static_cast<double>(total - 1));
  int64_t seen = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    seen += buckets[b];
    if (seen > rank) return static_cast<double>(uint64_t{1} << b) / 1000.0;
  }
  return static_cast<double>(uint64_t{1} << (buckets.size() - 1)) / 1000.0;
}

}  // namespace

void RequestStats::Record(const char* method, bool ok, Clock::duration latency) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  const int bucket =
      std::min(kBuckets - 1, us <= 1 ? 0 : static_cast<int>(std::bit_width(uint64_t(us - 1))));
  absl::MutexLock lock(&mu_);
  Method& m = methods_[method];
  ++m.calls;
  m.errors += !ok;
  ++m.buckets[bucket];
}

std::string RequestStats::TakeSummary() {
  std::map<std::string, Method> taken;
  {
    absl::MutexLock lock(&mu_);
    taken.swap(methods_);
  }
  std::string out;
  for (const auto& [name, m] : taken) {
    char line[160];
    std::snprintf(line, sizeof line, "%s%s n=%lld err=%lld p50<=%.3gms p99<=%.3gms",
                  out.empty() ? "" : "; ", name.c_str(), static_cast<long long>(m.calls),
                  static_cast<long long>(m.errors), QuantileMs(m.buckets, m.calls, 0.5),
                  QuantileMs(m.buckets, m.calls, 0.99));
    out += line;
  }
  return out;
}

}  // namespace parzen
