// StudyHistory: the read-only view of a study that samplers and pruners get.
// They never see storage; everything they may use comes through here.
#ifndef PARZEN_COMMON_STUDY_HISTORY_H_
#define PARZEN_COMMON_STUDY_HISTORY_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/frozen_trial.h"
#include "common/types.h"

namespace parzen {

// Immutable: every method of one history answers the same for as long as
// it lives, and const methods may be called from any thread.
class StudyHistory {
 public:
  virtual ~StudyHistory() = default;
  // Grows with every change to the study: two histories of one study with
  // the same version hold the same trials (for caches between Asks).
  virtual uint64_t version() const = 0;
  // Part of Optuna's Hyperband bracket hash (crc32 of "<study>_<number>").
  virtual const std::string& study_name() const = 0;
  virtual const std::vector<Direction>& directions() const = 0;
  // Trials are numbered 0 .. num_trials() - 1.
  virtual int64_t num_trials() const = 0;
  // REQUIRES: 0 <= number < num_trials().
  virtual const FrozenTrial& trial(int64_t number) const = 0;
  virtual int64_t num_complete() const = 0;
  // Intermediate values reported at exactly `step` by COMPLETE trials, in
  // any order (NaN included).
  virtual std::vector<double> CompletedValuesAt(int64_t step) const = 0;

  // Optuna's study.get_trials(states=...): in number order, those whose
  // state is in `states` (every trial when empty).
  std::vector<const FrozenTrial*> Trials(std::initializer_list<TrialState> states = {}) const {
    std::vector<const FrozenTrial*> out;
    for (int64_t n = 0; n < num_trials(); ++n) {
      const FrozenTrial& t = trial(n);
      bool wanted = states.size() == 0;
      for (TrialState s : states) wanted = wanted || t.state == s;
      if (wanted) out.push_back(&t);
    }
    return out;
  }
};

// A StudyHistory over a vector, answering by scanning: for tests and tools.
class VectorStudyHistory final : public StudyHistory {
 public:
  VectorStudyHistory(std::vector<Direction> directions, std::vector<FrozenTrial> trials,
                     std::string study_name = "study")
      : study_name_(std::move(study_name)),
        directions_(std::move(directions)),
        trials_(std::move(trials)) {}
  uint64_t version() const override { return 0; }
  const std::string& study_name() const override { return study_name_; }
  const std::vector<Direction>& directions() const override { return directions_; }
  int64_t num_trials() const override { return static_cast<int64_t>(trials_.size()); }
  const FrozenTrial& trial(int64_t number) const override { return trials_[number]; }
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
