// Reaper: the background thread that fails RUNNING trials whose heartbeat
// stopped (Optuna's fail_stale_trials, run by the server instead of by
// every client).
#ifndef PARZEN_SERVER_CORE_REAPER_H_
#define PARZEN_SERVER_CORE_REAPER_H_

#include <chrono>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "server/core/study_manager.h"

namespace parzen {

// Starts on construction, stops (and joins) on destruction. `manager` must
// outlive it.
class Reaper {
 public:
  Reaper(StudyManager* manager, std::chrono::milliseconds period);
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  StudyManager* const manager_;
  const std::chrono::milliseconds period_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_REAPER_H_
