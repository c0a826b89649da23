#include "server/core/reaper.h"

#include "server/core/ops/reap.h"

namespace parzen {

Reaper::Reaper(StudyManager* manager, std::chrono::milliseconds period)
    : manager_(manager), period_(period), thread_([this] { Run(); }) {}

Reaper::~Reaper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Reaper::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(period_))) return;
    }
    ops::ReapExpired(*manager_);
  }
}

}  // namespace parzen
