#include "client/heartbeat.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace parzen::client {

std::string Lease::lost_reason() const {
  std::lock_guard lock(mutex_);
  return lost_reason_;
}

void Lease::MarkLost(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    lost_reason_ = std::move(reason);
  }
  lost_.store(true, std::memory_order_release);
}

Heartbeats::~Heartbeats() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Lease> Heartbeats::Start(TrialId trial_id, std::chrono::milliseconds interval) {
  auto lease = std::make_shared<Lease>(trial_id, interval);
  {
    std::lock_guard lock(mutex_);
    entries_.push_back({lease, std::chrono::steady_clock::now() + interval});
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }
  wake_.notify_all();
  return lease;
}

void Heartbeats::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::erase_if(entries_, [](const Entry& e) {
      auto lease = e.lease.lock();
      return !lease || lease->released() || lease->lost();
    });
    if (entries_.empty()) {
      wake_.wait(lock, [this] { return stopping_ || !entries_.empty(); });
      continue;
    }
    auto next = std::min_element(entries_.begin(), entries_.end(),
                                 [](const Entry& a, const Entry& b) { return a.due < b.due; });
    if (const auto due = next->due; std::chrono::steady_clock::now() < due) {
      // A copy: wait_until reads its deadline again after waking, when a
      // Start may have moved the entries (AddressSanitizer caught this).
      wake_.wait_until(lock, due);
      continue;
    }
    std::shared_ptr<Lease> lease = next->lease.lock();
    if (!lease) continue;
    next->due = std::chrono::steady_clock::now() + lease->interval();
    // The RPC may block for its deadline: never with the lock held, so
    // Start and the destructor stay prompt.
    lock.unlock();
    const grpc::Status status = send_(lease->trial_id(), lease->interval());
    lock.lock();
    // A beat that crossed the trial's Tell gets FAILED_PRECONDITION too;
    // that trial finished normally and is not lost.
    if (lease->released() || lease->telling()) continue;
    // Finished or gone; or the server no longer takes our token (restarted
    // with another), so nothing this trial reports would be stored.
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::NOT_FOUND ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      lease->MarkLost(status.error_message());
    } else if (!status.ok()) {
      // Transient (server restarting, network): the lease survives until
      // the grace period ends; the next beat may get through.
      spdlog::debug("heartbeat for trial id {} failed: {}", lease->trial_id(),
                    status.error_message());
    }
  }
}

}  // namespace parzen::client
