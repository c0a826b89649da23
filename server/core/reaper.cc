#include "server/core/reaper.h"

namespace parzen {

Reaper::Reaper(StudyManager* manager, std::chrono::milliseconds period)
    : manager_(manager), period_(period), thread_([this] { Run(); }) {}

Reaper::~Reaper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Reaper::Run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period_, [&] { return stopping_; })) {
    lock.unlock();
    manager_->ReapExpired();
    lock.lock();
  }
}

}  // namespace parzen
