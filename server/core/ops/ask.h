// Ask: starts a trial, the oldest enqueued one first, sampling every
// parameter of the search space. In three steps so the sampler runs off
// the study's lock: PlanAsk (under it: checks, queue, a reserved number, a
// snapshot of the history), SampleAsk (off it), CommitAsk (under it again:
// the trial takes the next number, so numbers stay gap-free).
#ifndef PARZEN_SERVER_CORE_OPS_ASK_H_
#define PARZEN_SERVER_CORE_OPS_ASK_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "common/search_space.h"
#include "server/core/study.h"
#include "server/core/study_manager.h"
#include "server/core/written.h"

namespace parzen::ops {

struct AskRequest {
  SearchSpace space;
  std::string worker_id;
  // Makes the Ask safe to retry (see AskRequest.request_id in the proto).
  std::string request_id;
};

// An Ask between its steps.
struct AskPlan {
  AskRequest request;   // its space validated
  FrozenTrial trial;    // what the sampler sees: RUNNING, the reserved number
  bool from_queue = false;
  std::shared_ptr<const History> history;
};

// What the sampler chose.
struct SampledTrial {
  std::vector<TrialParam> params;
  std::map<std::string, std::string> system_attrs;
};

// The first step's outcome: the answer to a repeated request_id whose
// trial runs (that trial), else the plan.
struct AskStart {
  std::optional<Written<FrozenTrial>> answer;
  std::shared_ptr<AskPlan> plan;
};

// Under the study's lock: the answer or the plan. Errors, with nothing
// changed but enqueued trials that cannot take the space (failed, as
// Optuna's suggest fails them): NotFound (deleted), InvalidArgument (bad
// or incompatible space), OutOfRange (budget reached),
// FailedPrecondition (request_id of another worker), Unavailable (the
// first Ask with this request_id is still being answered).
absl::StatusOr<AskStart> PlanAsk(Study& study, AskRequest request);
// Off the lock: the study's sampler on the plan's snapshot.
absl::StatusOr<SampledTrial> SampleAsk(const Study& study, const AskPlan& plan);
// Under the lock: starts the trial with `sampled`, or gives the plan up
// (an enqueued trial goes back to the queue's front) and returns the
// error. InvalidArgument if an Ask that committed meanwhile used a
// parameter name with another distribution.
absl::StatusOr<Written<FrozenTrial>> CommitAsk(Study& study, const AskPlan& plan,
                                               absl::StatusOr<SampledTrial> sampled);

// The three steps on the calling thread: for tests and tools.
absl::StatusOr<Written<FrozenTrial>> Ask(Study& study, AskRequest request);

// The Ask RPC: samples on the manager's executor. `done` runs once, on
// the executor's thread or (for an answer that needs no sampler) on this
// one.
using AskDone = std::function<void(absl::StatusOr<Written<FrozenTrial>>)>;
void Ask(StudyManager& manager, const std::string& study, AskRequest request, AskDone done);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_ASK_H_
