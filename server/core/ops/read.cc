#include "server/core/ops/read.h"

#include <algorithm>

namespace parzen::ops {

absl::StatusOr<StudySnapshot> GetStudy(Study& study, bool with_best_trials) {
  absl::MutexLock lock(&study.mu());
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  return study.Summarize(with_best_trials);
}

std::vector<StudySnapshot> ListStudies(const StudyManager& manager, const std::string& after,
                                       int64_t limit) {
  std::vector<StudySnapshot> out;
  for (const auto& study : manager.Studies(after, limit)) {
    absl::MutexLock lock(&study->mu());
    out.push_back(study->Summarize(false));
  }
  return out;
}

absl::StatusOr<FrozenTrial> GetTrial(Study& study, int64_t number) {
  absl::MutexLock lock(&study.mu());
  PARZEN_ASSIGN_OR_RETURN(const FrozenTrial* trial, study.Find(number));
  return *trial;
}

absl::StatusOr<std::vector<FrozenTrial>> ListTrials(Study& study,
                                                    const std::vector<TrialState>& states,
                                                    int64_t from, int64_t limit, int64_t* next) {
  absl::MutexLock lock(&study.mu());
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  std::vector<FrozenTrial> out;
  *next = -1;
  for (int64_t i = std::max<int64_t>(from, 0); i < study.num_trials(); ++i) {
    const FrozenTrial& t = study.trial(i);
    if (!states.empty() && std::find(states.begin(), states.end(), t.state) == states.end()) {
      continue;
    }
    if (static_cast<int64_t>(out.size()) == limit) {
      *next = i;
      break;
    }
    out.push_back(t);
  }
  return out;
}

void Watch(Study& study, const std::shared_ptr<WatchQueue>& queue) {
  absl::MutexLock lock(&study.mu());
  study.AddWatcher(queue);
}

}  // namespace parzen::ops
