// Heartbeats: one background thread that keeps the lease of every running
// trial of a Client alive. A trial whose heartbeat the server refuses
// (finished, e.g. reaped after a lost heartbeat, or its study deleted; or
// our token no longer accepted) is marked lost, so the code training it can stop.
#ifndef PARZEN_CLIENT_HEARTBEAT_H_
#define PARZEN_CLIENT_HEARTBEAT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/support/status.h>

#include "common/types.h"

namespace parzen::client {

// Shared between a Trial and the heartbeat thread.
class Lease {
 public:
  Lease(TrialId trial_id, std::chrono::milliseconds interval)
      : trial_id_(trial_id), interval_(interval) {}
  TrialId trial_id() const { return trial_id_; }
  std::chrono::milliseconds interval() const { return interval_; }

  // The server said the trial is no longer ours; `reason` is its message.
  bool lost() const { return lost_.load(std::memory_order_acquire); }
  std::string lost_reason() const;
  void MarkLost(std::string reason);

  // No more heartbeats (the trial was told).
  void Release() { released_.store(true, std::memory_order_release); }
  bool released() const { return released_.load(std::memory_order_acquire); }

  // While a Tell is on its way, a refused beat means the Tell got there
  // first, not that the trial was lost: beats go on, refusals are ignored.
  void SetTelling(bool telling) { telling_.store(telling, std::memory_order_release); }
  bool telling() const { return telling_.load(std::memory_order_acquire); }

 private:
  const TrialId trial_id_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> lost_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> telling_{false};
  mutable std::mutex mutex_;
  std::string lost_reason_;  // guarded by mutex_
};

class Heartbeats {
 public:
  // Sends one heartbeat (trial, its lease's interval); called on the
  // heartbeat thread.
  using SendFn = std::function<grpc::Status(TrialId, std::chrono::milliseconds)>;

  explicit Heartbeats(SendFn send) : send_(std::move(send)) {}
  ~Heartbeats();
  Heartbeats(const Heartbeats&) = delete;
  Heartbeats& operator=(const Heartbeats&) = delete;

  // Starts beating for `trial_id` every `interval` until the lease is
  // released or dropped. The first beat goes out after one interval: Ask
  // itself counts as the first.
  std::shared_ptr<Lease> Start(TrialId trial_id, std::chrono::milliseconds interval);

 private:
  struct Entry {
    std::weak_ptr<Lease> lease;
    std::chrono::steady_clock::time_point due;
  };
  void Run();

  const SendFn send_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> entries_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  std::thread thread_;          // started with the first lease
};

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_HEARTBEAT_H_
