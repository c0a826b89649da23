// What TPE learns from: the trials of one history version, ranked as
// Optuna ranks them and split into the good and the rest, with each
// parameter's values by trial and the groups of parameters sampled
// jointly. A finished trial never changes, so what TPE needs of it is
// extracted once (a TrialRecord) and kept for every later Ask; what
// depends on the version is made once per version and shared by every
// parameter of an Ask and by concurrent Asks that see the same version.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_OBSERVATIONS_H_
#define PARZEN_SERVER_SAMPLERS_TPE_OBSERVATIONS_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/search_space.h"
#include "common/study_history.h"

namespace parzen::tpe {

// Parameters TPE can sample jointly: the first 64 names a study uses
// (beyond, a parameter is always sampled on its own).
inline constexpr int kMaxJointParams = 64;

// One observed trial.
struct TrialRecord {
  // Optuna's rank, smaller better, lexicographically: COMPLETE trials first
  // (key -inf) by value, PRUNED ones by how far they got (key -step) and
  // their last value there, RUNNING ones (the constant liar) last.
  double key = 0;
  double score = 0;
  std::vector<double> objectives;  // multi-objective COMPLETE trials, minimising
  uint64_t held = 0;               // parameters it holds, by id
  uint64_t differs = 0;            // ... with another distribution than the study's first
  std::vector<double> values;      // internal values by parameter id; NaN where absent
  double Value(size_t id) const {
    return id < values.size() ? values[id] : std::numeric_limits<double>::quiet_NaN();
  }
};

// Immutable once made.
struct Observations {
  // Observed trials in number order: COMPLETE and PRUNED, and RUNNING ones
  // with the constant liar.
  std::vector<std::shared_ptr<const TrialRecord>> rows;
  size_t n_finished = 0;  // the COMPLETE and PRUNED ones
  // Indices into `rows`, each in number order: the best gamma(n_finished)
  // and the rest.
  std::vector<size_t> below, above;
  // By parameter id: the rows holding it with its value there, in
  // increasing order of value (ties in number order), for the estimators
  // of one parameter, which need their observations in that order. Empty
  // unless the cache was asked for it.
  struct Ranked {
    uint32_t row;
    double value;
  };
  std::vector<std::vector<Ranked>> by_value;
  // Parameter ids that every finished trial holds with the study's first
  // distribution (Optuna's intersection search space), and the groups of
  // ids that always appear together (its group decomposition).
  uint64_t intersection = 0;
  std::vector<uint64_t> groups;
};

// Optuna's gamma: how many of n finished trials count as good.
size_t DefaultGamma(size_t n);

// Observations of a study's history, with the records of finished trials
// kept from Ask to Ask. Thread-safe.
class ObservationCache {
 public:
  // `by_value`: keep Observations::by_value (for parameters fitted one at
  // a time); without it, that stays empty.
  ObservationCache(bool constant_liar, bool by_value)
      : constant_liar_(constant_liar), by_value_wanted_(by_value) {}

  std::shared_ptr<const Observations> Get(const StudyHistory& study) ABSL_LOCKS_EXCLUDED(mu_);

  // The id of a parameter name, or -1 when the study's trials never held it.
  int IdOf(const std::string& name) const ABSL_LOCKS_EXCLUDED(mu_);
  // The distribution the study's first trial with that parameter held it with.
  Distribution DistributionOf(int id) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::shared_ptr<const Observations> Make(const StudyHistory& study)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const TrialRecord> Record(const FrozenTrial& trial,
                                            const std::vector<Direction>& directions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Files a finished trial's values in `by_value_`.
  void AddToOrders(int64_t number, const TrialRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `obs.by_value` from `by_value_` and the rows of RUNNING trials.
  void Order(Observations& obs, const std::vector<int64_t>& numbers,
             const std::vector<size_t>& running) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // What the newest history scanned so far holds, so that the next, newer
  // one need only look at the trials that were not finished then and the
  // ones added since: a finished trial never changes.
  struct Scan {
    bool done = false;
    uint64_t version = 0;
    int64_t num_trials = 0;
    std::vector<int64_t> finished;  // COMPLETE and PRUNED (as TPE counts them), in order
    std::vector<int64_t> open;      // WAITING and RUNNING, in order
    std::vector<uint64_t> groups;
    uint64_t intersection = 0;
    uint64_t differs = 0;
  };
  // Brings `scan` up to `study` from `scan` (or from nothing when it is
  // not done), visiting the trials it names open and those beyond it.
  void Rescan(const StudyHistory& study, Scan& scan) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Entry {
    uint64_t version;
    int64_t num_trials;
    std::shared_ptr<const Observations> observations;
  };
  const bool constant_liar_;
  const bool by_value_wanted_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, int> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<Distribution> distributions_ ABSL_GUARDED_BY(mu_);  // by id
  // By trial number: the record of each finished trial seen so far.
  std::vector<std::shared_ptr<const TrialRecord>> finished_ ABSL_GUARDED_BY(mu_);
  // By parameter id: the finished trials holding it, by (value, number),
  // kept up to date as trials finish, so no Ask sorts them again.
  std::vector<std::vector<int64_t>> by_value_ ABSL_GUARDED_BY(mu_);
  std::deque<Entry> recent_ ABSL_GUARDED_BY(mu_);
  Scan newest_ ABSL_GUARDED_BY(mu_);
};

// The parts of `space` to sample jointly, each in name order: one, the
// intersection, or with `group` one per group. A parameter is left out
// (sampled on its own) when the Ask names it with another distribution
// than the study's trials hold it with, or when it has a single value.
std::vector<SearchSpace> RelativeSearchSpaces(const Observations& obs,
                                              const ObservationCache& ids,
                                              const SearchSpace& space, bool group);

}  // namespace parzen::tpe

#endif  // PARZEN_SERVER_SAMPLERS_TPE_OBSERVATIONS_H_
