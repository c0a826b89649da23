// StudyHistory: the read-only view of a study that samplers and pruners get.
// They never see storage; everything they may use comes through here.
#ifndef PARZEN_COMMON_STUDY_HISTORY_H_
#define PARZEN_COMMON_STUDY_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/trial.h"
#include "common/types.h"

namespace parzen {

// A view valid only for the duration of the call it is passed to; the
// caller keeps the study from changing meanwhile. Not thread-safe.
class StudyHistory {
 public:
  virtual ~StudyHistory() = default;
  // Part of Optuna's Hyperband bracket hash (crc32 of "<study>_<number>").
  virtual const std::string& study_name() const = 0;
  virtual const std::vector<Direction>& directions() const = 0;
  // Every trial of the study, trials()[i].number == i.
  virtual const std::vector<FrozenTrial>& trials() const = 0;
  virtual int64_t num_complete() const = 0;
  // Intermediate values reported at exactly `step` by COMPLETE trials, in
  // any order (NaN included).
  virtual std::vector<double> CompletedValuesAt(int64_t step) const = 0;
};

// A StudyHistory over a vector, answering by scanning: for tests and tools.
class VectorStudyHistory final : public StudyHistory {
 public:
  VectorStudyHistory(std::vector<Direction> directions, std::vector<FrozenTrial> trials,
                     std::string study_name = "study")
      : study_name_(std::move(study_name)),
        directions_(std::move(directions)),
        trials_(std::move(trials)) {}
  const std::string& study_name() const override { return study_name_; }
  const std::vector<Direction>& directions() const override { return directions_; }
  const std::vector<FrozenTrial>& trials() const override { return trials_; }
  int64_t num_complete() const override {
    int64_t n = 0;
    for (const FrozenTrial& t : trials_) n += t.state == TrialState::kComplete;
    return n;
  }
  std::vector<double> CompletedValuesAt(int64_t step) const override {
    std::vector<double> out;
    for (const FrozenTrial& t : trials_) {
      if (t.state != TrialState::kComplete) continue;
      auto it = t.intermediate_values.find(step);
      if (it != t.intermediate_values.end()) out.push_back(it->second);
    }
    return out;
  }

 private:
  std::string study_name_;
  std::vector<Direction> directions_;
  std::vector<FrozenTrial> trials_;
};

}  // namespace parzen

#endif  // PARZEN_COMMON_STUDY_HISTORY_H_
