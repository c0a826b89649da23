// History: an immutable, versioned snapshot of one study, what samplers
// and pruners read off the study's lock. Study::Snapshot makes one in O(1);
// it shares the study's storage until the study writes there.
#ifndef PARZEN_SERVER_CORE_HISTORY_H_
#define PARZEN_SERVER_CORE_HISTORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/frozen_trial.h"
#include "common/study_history.h"
#include "server/core/persistent_vector.h"
#include "server/core/study_config.h"

namespace parzen {

// Intermediate values of COMPLETE trials by step: what the percentile
// pruner compares a trial with.
using StepIndex = std::map<int64_t, PersistentVector<double>>;

// Immutable after construction: thread-safe.
class History final : public StudyHistory {
 public:
  History(uint64_t version, std::shared_ptr<const StudyConfig> config,
          PersistentVector<std::shared_ptr<FrozenTrial>> trials,
          std::shared_ptr<StepIndex> completed_by_step, int64_t num_complete)
      : version_(version),
        config_(std::move(config)),
        trials_(std::move(trials)),
        completed_by_step_(std::move(completed_by_step)),
        num_complete_(num_complete) {}

  uint64_t version() const override { return version_; }
  const std::string& study_name() const override { return config_->name; }
  const std::vector<Direction>& directions() const override { return config_->directions; }
  int64_t num_trials() const override { return static_cast<int64_t>(trials_.size()); }
  const FrozenTrial& trial(int64_t number) const override { return *trials_[number]; }
  int64_t num_complete() const override { return num_complete_; }
  std::vector<double> CompletedValuesAt(int64_t step) const override;

 private:
  const uint64_t version_;
  const std::shared_ptr<const StudyConfig> config_;
  // Only read here: the study copies whatever it shares with a history
  // before writing it.
  const PersistentVector<std::shared_ptr<FrozenTrial>> trials_;
  const std::shared_ptr<StepIndex> completed_by_step_;
  const int64_t num_complete_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_HISTORY_H_
