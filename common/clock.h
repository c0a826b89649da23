// Clock: the time source, injectable so tests control heartbeats and
// timestamps. Implementations are thread-safe.
#ifndef PARZEN_COMMON_CLOCK_H_
#define PARZEN_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace parzen {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch: for timestamps users see.
  virtual int64_t NowMicros() const = 0;
  // Microseconds on a clock that never jumps: for leases and timeouts, so
  // a wall-clock step neither fails live trials nor stalls reaping.
  virtual int64_t SteadyMicros() const = 0;
};

class RealClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t SteadyMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_us = 1'700'000'000'000'000) : now_(start_us) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t SteadyMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace parzen

#endif  // PARZEN_COMMON_CLOCK_H_
