// WatchQueue: the bounded event queue between a study and one WatchStudy
// stream. Thread-safe.
#ifndef PARZEN_SERVER_CORE_WATCH_QUEUE_H_
#define PARZEN_SERVER_CORE_WATCH_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "common/trial.h"
#include "server/storage/storage.h"

namespace parzen {

struct TrialEvent {
  Storage::Ticket ticket = 0;  // wait for it before showing the event
  FrozenTrial trial;
  bool snapshot = false;  // the trial as it was when the watch began
};

class WatchQueue {
 public:
  explicit WatchQueue(size_t capacity) : capacity_(capacity) {}

  // Drops the watcher (closes with overflowed() true) rather than letting a
  // slow reader hold unbounded memory.
  void Push(TrialEvent event) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      if (events_.size() >= capacity_ + snapshot_left_) {
        overflowed_ = closed_ = true;
        events_.clear();
      } else {
        events_.push_back(std::move(event));
      }
    }
    cv_.notify_one();
  }

  // For the opening snapshot: not counted against the capacity, which
  // bounds only how far a reader may fall behind live events.
  void PushSnapshot(TrialEvent event) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      events_.push_back(std::move(event));
      ++snapshot_left_;
    }
    cv_.notify_one();
  }

  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_one();
  }

  // The next event, or nullopt after `timeout` or once closed and drained.
  std::optional<TrialEvent> Pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty() || closed_; });
    if (events_.empty()) return std::nullopt;
    TrialEvent e = std::move(events_.front());
    events_.pop_front();
    if (snapshot_left_ > 0) --snapshot_left_;
    return e;
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_ && events_.empty();
  }
  bool overflowed() const {
    std::lock_guard lock(mu_);
    return overflowed_;
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TrialEvent> events_;  // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  bool overflowed_ = false;        // guarded by mu_
  size_t snapshot_left_ = 0;       // guarded by mu_: snapshot events not yet popped
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_WATCH_QUEUE_H_
