// Checks tests/tsan/absl_sync.cc both ways, run by ctest in the thread
// build: `probe locked` hands data between threads through every abseil
// primitive the annotations cover and must draw no report; `probe racy`
// makes the same writes with no lock at all and must draw one, so the
// annotations cannot have blinded ThreadSanitizer.
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace {

// Plain (non-atomic) data that each hand-off passes on.
struct Shared {
  absl::Mutex mu;
  absl::CondVar changed;
  long counter = 0;
  bool ready = false;
  long payload = 0;
};

void Locked() {
  Shared s;
  // Lock / Unlock, ReaderLock, TryLock.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < 1000; ++i) {
        if (t == 3 && i % 2 == 0) {
          while (!s.mu.TryLock()) {
          }
          ++s.counter;
          s.mu.Unlock();
        } else if (t == 2 && i % 3 == 0) {
          absl::ReaderMutexLock lock(&s.mu);
          if (s.counter < 0) std::puts("impossible");
        } else {
          absl::MutexLock lock(&s.mu);
          ++s.counter;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  threads.clear();

  // CondVar::Wait and WaitWithTimeout.
  std::thread producer([&s] {
    absl::MutexLock lock(&s.mu);
    s.payload = 42;
    s.ready = true;
    s.changed.SignalAll();
  });
  {
    absl::MutexLock lock(&s.mu);
    while (!s.ready) s.changed.WaitWithTimeout(&s.mu, absl::Seconds(30));
    s.payload += 1;
  }
  producer.join();

  // Await and LockWhen with a condition.
  s.ready = false;
  std::thread setter([&s] {
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&s.mu);
    s.payload = 7;
    s.ready = true;
  });
  {
    s.mu.LockWhen(absl::Condition(&s.ready));
    s.payload += 1;
    s.mu.Unlock();
  }
  setter.join();

  // Notification, waited on before and after it is given (the second
  // waiter returns on abseil's fast path, without the mutex).
  long before = 0;
  long after = 0;
  absl::Notification early;
  absl::Notification late;
  std::thread waiter([&] {
    early.WaitForNotification();
    before += 1;
  });
  before = 1;
  early.Notify();
  waiter.join();
  after = 1;
  late.Notify();
  std::thread late_waiter([&] {
    late.WaitForNotificationWithTimeout(absl::Seconds(30));
    after += 1;
  });
  late_waiter.join();
  std::printf("counter=%ld payload=%ld before=%ld after=%ld\n", s.counter, s.payload, before,
              after);
}

void Racy() {
  long counter = 0;
  std::thread a([&] {
    for (int i = 0; i < 1000; ++i) ++counter;
  });
  std::thread b([&] {
    for (int i = 0; i < 1000; ++i) ++counter;
  });
  a.join();
  b.join();
  std::printf("counter=%ld\n", counter);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "locked") == 0) {
    Locked();
  } else if (argc == 2 && std::strcmp(argv[1], "racy") == 0) {
    Racy();
  } else {
    std::fprintf(stderr, "usage: probe locked|racy\n");
    return 2;
  }
  return 0;
}
