// Trial: one running trial handed out by Study::Ask. Suggest parameters
// define-by-run, report intermediate values and learn whether to stop.
// Not thread-safe (one trial, one training loop); the heartbeat thread only
// touches its Lease.
#ifndef PARZEN_CLIENT_TRIAL_H_
#define PARZEN_CLIENT_TRIAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/distribution.h"
#include "common/status.h"
#include "common/frozen_trial.h"
#include "client/heartbeat.h"

namespace parzen::client {

class Client;

struct FloatOptions {
  bool log = false;
  std::optional<double> step = std::nullopt;
};

struct IntOptions {
  bool log = false;
  int64_t step = 1;
};

class Trial {
 public:
  Trial(Client* client, FrozenTrial trial, std::shared_ptr<Lease> lease);
  Trial(Trial&&) = default;
  Trial& operator=(Trial&&) = default;
  // Stops the heartbeats: an untold trial is then reaped by the server.
  ~Trial();

  TrialId id() const { return trial_.trial_id; }
  int64_t number() const { return trial_.number; }
  // For a re-run of a reaped trial: the number of the trial it repeats.
  std::optional<int64_t> retry_of() const { return trial_.retry_of; }
  // Parameters known so far (from Ask's search space, enqueued values and
  // suggestions), by name.
  std::map<std::string, ParamValue> params() const;
  const FrozenTrial& snapshot() const { return trial_; }

  // Optuna's suggest_*: the stored value for a known name (the same
  // distribution is required), else one the study's sampler draws.
  absl::StatusOr<double> SuggestFloat(const std::string& name, double low, double high,
                                      FloatOptions options = {});
  absl::StatusOr<int64_t> SuggestInt(const std::string& name, int64_t low, int64_t high,
                                     IntOptions options = {});
  absl::StatusOr<ParamValue> SuggestCategorical(const std::string& name,
                                                std::vector<ParamValue> choices);
  absl::StatusOr<ParamValue> Suggest(const std::string& name, const Distribution& distribution);

  // Records `value` at `step` and asks the pruner; the answer is then
  // ShouldPrune(). A repeated step keeps the first value (as Optuna).
  // FailedPrecondition once the trial is lost.
  absl::Status Report(double value, int64_t step);
  // The pruner's answer to the last Report; true too once the trial is lost.
  bool ShouldPrune() const { return should_prune_ || lost(); }

  // JSON-able attribute shown with the trial (test accuracy, timings).
  absl::Status SetUserAttr(const std::string& key, const ParamValue& value);

  // The server no longer counts this trial as ours (reaped after a lost
  // heartbeat, or finished elsewhere): stop working on it; Tell would fail.
  bool lost() const { return lease_ && lease_->lost(); }
  std::string lost_reason() const { return lease_ ? lease_->lost_reason() : std::string(); }

 private:
  friend class Study;
  absl::Status CheckNotLost() const;
  void Finish();

  Client* client_;
  FrozenTrial trial_;
  std::shared_ptr<Lease> lease_;
  bool should_prune_ = false;
  bool finished_ = false;
};

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_TRIAL_H_
