#include "server/core/executor.h"

#include <algorithm>

namespace parzen {

Executor::Executor(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

absl::Status Executor::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= max_queued_) {
    return absl::UnavailableError("the server is overloaded (" + std::to_string(max_queued_) +
                                  " requests waiting for a sampler); try again");
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void Executor::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Executor::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and nothing is left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace parzen
