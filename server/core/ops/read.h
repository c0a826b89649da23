// Reads: a study's summary, its trials, and a watch of its changes. They
// show what is in memory; the service awaits StudyManager::ReadTicket
// before answering, so nothing shown can be lost in a crash.
#ifndef PARZEN_SERVER_CORE_OPS_READ_H_
#define PARZEN_SERVER_CORE_OPS_READ_H_

#include <memory>
#include <string>
#include <vector>

#include "server/core/study.h"
#include "server/core/study_manager.h"
#include "server/core/watch_queue.h"

namespace parzen::ops {

// `with_best_trials`: also copy the Pareto front (a listing of many
// studies leaves it out). NotFound once deleted.
absl::StatusOr<StudySnapshot> GetStudy(Study& study, bool with_best_trials);
// Studies in name order after `after`, at most `limit`, without fronts.
std::vector<StudySnapshot> ListStudies(const StudyManager& manager, const std::string& after,
                                       int64_t limit);

absl::StatusOr<FrozenTrial> GetTrial(Study& study, int64_t number);
// Trials in number order whose state is in `states` (all when empty),
// starting at number >= `from`; at most `limit`. `next` is the number to
// continue from, or -1 at the end. NotFound once deleted.
absl::StatusOr<std::vector<FrozenTrial>> ListTrials(Study& study,
                                                    const std::vector<TrialState>& states,
                                                    int64_t from, int64_t limit, int64_t* next);
// Registers `queue`: it receives every existing trial, then every change.
void Watch(Study& study, const std::shared_ptr<WatchQueue>& queue);

}  // namespace parzen::ops

#endif  // PARZEN_SERVER_CORE_OPS_READ_H_
