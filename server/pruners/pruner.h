// Pruner: decides whether a running trial should stop early.
#ifndef PARZEN_SERVER_PRUNERS_PRUNER_H_
#define PARZEN_SERVER_PRUNERS_PRUNER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/frozen_trial.h"
#include "common/study_history.h"

namespace parzen {

// A pruner's answer to one report, with what it wants remembered on the
// trial (Hyperband's completed rungs), stored with the report.
struct PruneDecision {
  bool prune = false;
  std::map<std::string, std::string> system_attrs;  // key -> JSON text
};

// Contract: called after `trial` (RUNNING, single-objective study) stored
// an intermediate value, off the study's lock, with an immutable snapshot
// of the history that holds that value. A pure function of its arguments
// and options: const, no I/O, safe to call from several threads at once.
// `trial` is the trial as the snapshot holds it.
class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual std::string_view Name() const = 0;
  virtual PruneDecision Prune(const StudyHistory& study, const FrozenTrial& trial) const = 0;

  // The history the sampler sees when sampling `trial`: Optuna's
  // Hyperband shows each bracket only its own trials. All of it by default.
  virtual std::shared_ptr<const StudyHistory> HistoryForSampler(
      std::shared_ptr<const StudyHistory> study, const FrozenTrial& /*trial*/) const {
    return study;
  }

  bool ShouldPrune(const StudyHistory& study, const FrozenTrial& trial) const {
    return Prune(study, trial).prune;
  }
};

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_PRUNER_H_
