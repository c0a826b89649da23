#include "server/core/ops/reap.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "common/client_text.h"

namespace parzen::ops {
namespace {

// Optuna's RetryFailedTrialCallback: same parameters, same user
// attributes, and a record of which trial it repeats.
FrozenTrial RetryOf(const FrozenTrial& failed) {
  FrozenTrial retry;
  retry.state = TrialState::kWaiting;
  for (const TrialParam& p : failed.params) {
    retry.fixed_params[p.name] = ToExternal(p.distribution, p.internal_value);
  }
  for (const auto& [name, value] : failed.fixed_params) retry.fixed_params.emplace(name, value);
  retry.user_attrs = failed.user_attrs;
  // The original trial, however many retries deep (Optuna's failed_trial).
  retry.retry_of = failed.retry_of.value_or(failed.number);
  retry.retry_count = failed.retry_count + 1;
  return retry;
}

}  // namespace

Storage::Ticket ReapExpired(Study& study) {
  absl::MutexLock lock(&study.mu());
  Storage::Ticket ticket = 0;
  for (int64_t number : study.ExpiredLeases()) {
    study.Finish(number, TrialState::kFail, {}, "heartbeat lost");
    const FrozenTrial& failed = study.trial(number);
    ticket = study.Publish(mutation::UpdateTrial{failed}, number);
    study.LogWhenDurable(ticket, spdlog::level::warn,
                         fmt::format("study '{}': trial {} FAIL: heartbeat lost (no beat for "
                                     "{:.1f} s)",
                                     EscapeForLog(study.name()), number,
                                     study.config().heartbeat_grace_seconds));
    if (failed.retry_count >= study.config().max_retries) continue;
    const int64_t retry = study.Append(RetryOf(failed));
    ticket = study.Publish(mutation::InsertTrial{study.trial(retry)}, retry);
    study.LogWhenDurable(ticket, spdlog::level::info,
                         fmt::format("study '{}': trial {} WAITING (retry {} of trial {})",
                                     EscapeForLog(study.name()), retry,
                                     study.trial(retry).retry_count, number));
  }
  return ticket;
}

void ReapExpired(StudyManager& manager) {
  for (const auto& study : manager.AllStudies()) {
    if (Storage::Ticket t = ReapExpired(*study); t != 0) {
      absl::Status s = manager.WaitDurable(t);
      if (!s.ok()) spdlog::error("reaper: {}", s.ToString());
    }
  }
}

}  // namespace parzen::ops
