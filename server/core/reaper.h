// Reaper: the background thread that fails RUNNING trials whose heartbeat
// stopped (Optuna's fail_stale_trials, run by the server instead of by
// every client).
#ifndef PARZEN_SERVER_CORE_REAPER_H_
#define PARZEN_SERVER_CORE_REAPER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

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
  void Run();

  StudyManager* const manager_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_REAPER_H_
