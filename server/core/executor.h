// Executor: a fixed pool of threads with a bounded queue, where the core
// runs what must not run on gRPC's threads or under a study's lock
// (samplers). Thread-safe.
#ifndef PARZEN_SERVER_CORE_EXECUTOR_H_
#define PARZEN_SERVER_CORE_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/status.h"

namespace parzen {

class Executor {
 public:
  // `threads` >= 1 run tasks in the order posted; at most `max_queued`
  // wait for a thread.
  Executor(size_t threads, size_t max_queued);
  // Runs what is queued, then joins the threads.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`. Unavailable (and `task` dropped, not run) when the
  // queue is full: the server is overloaded, try again.
  absl::Status Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // last: they start once the rest exists
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_EXECUTOR_H_
