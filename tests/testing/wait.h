// WaitUntil: polls a condition with a deadline, the tests' alternative to
// sleeping for a guessed time.
#ifndef PARZEN_TESTS_TESTING_WAIT_H_
#define PARZEN_TESTS_TESTING_WAIT_H_

#include <chrono>
#include <functional>
#include <thread>

namespace parzen::testing {

// True once `done` holds; false if `timeout` passes first.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_WAIT_H_
