// Pruner: decides whether a running trial should stop early.
#ifndef PARZEN_SERVER_PRUNERS_PRUNER_H_
#define PARZEN_SERVER_PRUNERS_PRUNER_H_

#include <memory>
#include <string_view>

#include "common/study_history.h"
#include "common/trial.h"

namespace parzen {

// Contract: called after `trial` (RUNNING, single-objective study) stored an
// intermediate value; true means stop it now. A pure function of its
// arguments: const, no I/O, safe to call from several threads at once.
// `trial` may or may not also appear in study.trials().
class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual std::string_view Name() const = 0;
  virtual bool ShouldPrune(const StudyHistory& study, const FrozenTrial& trial) const = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_PRUNERS_PRUNER_H_
