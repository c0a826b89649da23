// WatchQueue: the bounded event queue between a study and one WatchStudy
// stream. Thread-safe.
#ifndef PARZEN_SERVER_CORE_WATCH_QUEUE_H_
#define PARZEN_SERVER_CORE_WATCH_QUEUE_H_

#include <chrono>
#include <deque>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/frozen_trial.h"
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
  void Push(TrialEvent event) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    if (events_.size() >= capacity_ + snapshot_left_) {
      overflowed_ = closed_ = true;
      events_.clear();
    } else {
      events_.push_back(std::move(event));
    }
  }

  // For the opening snapshot: not counted against the capacity, which
  // bounds only how far a reader may fall behind live events.
  void PushSnapshot(TrialEvent event) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    events_.push_back(std::move(event));
    ++snapshot_left_;
  }

  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // The next event, or nullopt after `timeout` or once closed and drained.
  std::optional<TrialEvent> Pop(std::chrono::milliseconds timeout) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &WatchQueue::Ready), absl::FromChrono(timeout));
    if (events_.empty()) return std::nullopt;
    TrialEvent e = std::move(events_.front());
    events_.pop_front();
    if (snapshot_left_ > 0) --snapshot_left_;
    return e;
  }

  bool closed() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return closed_ && events_.empty();
  }
  bool overflowed() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return overflowed_;
  }
  size_t capacity() const { return capacity_; }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !events_.empty() || closed_; }

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<TrialEvent> events_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  // Snapshot events not yet popped.
  size_t snapshot_left_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_WATCH_QUEUE_H_
