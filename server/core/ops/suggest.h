// Suggest: define-by-run, one parameter of a RUNNING trial; the same name
// again answers the stored value. A value the sampler must draw is drawn
// off the study's lock, as Ask's are.
#ifndef PARZEN_SERVER_CORE_OPS_SUGGEST_H_
#define PARZEN_SERVER_CORE_OPS_SUGGEST_H_

#include <functional>
#include <memory>
#include <string>
#include <optional>

#include "server/core/study.h"
#include "server/core/study_manager.h"
#include "server/core/written.h"

namespace parzen::ops {

struct SuggestPlan {
  int64_t number = 0;
  std::string name;
  Distribution distribution;  // validated
  FrozenTrial trial;
  std::shared_ptr<const History> history;
};

// The first step's outcome: the answer when no sampler is needed (a
// stored, enqueued or single possible value), else the plan.
struct SuggestStart {
  std::optional<Written<TrialParam>> answer;
  std::shared_ptr<SuggestPlan> plan;
};

// Under the study's lock: the answer or the plan. NotFound,
// FailedPrecondition (not RUNNING), InvalidArgument (bad distribution,
// one that differs from the name's earlier use, an enqueued value that
// does not fit), ResourceExhausted (the trial's parameter limit).
absl::StatusOr<SuggestStart> PlanSuggest(
    Study& study, int64_t number, const std::string& name, const Distribution& distribution);
// Off the lock, then under it: the sampler's draw, stored unless the
// trial finished or got the parameter meanwhile.
absl::StatusOr<double> SampleSuggest(const Study& study, const SuggestPlan& plan);
absl::StatusOr<Written<TrialParam>> CommitSuggest(Study& study, const SuggestPlan& plan,
                                                  absl::StatusOr<double> value);

// All on the calling thread: for tests and tools.
absl::StatusOr<Written<TrialParam>> Suggest(Study& study, int64_t number, const std::string& name,
                                            const Distribution& distribution);

// The Suggest RPC: samples on the manager's executor; `done` runs once.
using SuggestDone = std::function<void(absl::StatusOr<Written<TrialParam>>)>;
void Suggest(StudyManager& manager, TrialId trial, std::string name, Distribution distribution,
             SuggestDone done);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_SUGGEST_H_
