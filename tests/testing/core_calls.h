// CoreCalls: the core's use cases called by study name and trial id, as the
// service calls them, for tests that drive a StudyManager in process.
#ifndef PARZEN_TESTS_TESTING_CORE_CALLS_H_
#define PARZEN_TESTS_TESTING_CORE_CALLS_H_

#include <map>
#include <string>
#include <vector>

#include "parzen/v1/algorithms.pb.h"
#include "server/core/ops/ask.h"
#include "server/core/ops/attrs.h"
#include "server/core/ops/enqueue.h"
#include "server/core/ops/heartbeat.h"
#include "server/core/ops/read.h"
#include "server/core/ops/reap.h"
#include "server/core/ops/report.h"
#include "server/core/ops/suggest.h"
#include "server/core/ops/tell.h"
#include "server/core/study_manager.h"

namespace parzen::testing {

// A study config as a client's defaults make it: the default sampler
// (seeded) and pruner, resolved by `algorithms`.
inline StudyConfig DefaultConfig(const std::string& name, const Algorithms& algorithms,
                                 uint64_t seed = 1) {
  StudyConfig c;
  c.name = name;
  c.sampler = *algorithms.samplers.Resolve(v1::SamplerConfig(), seed);
  c.pruner = *algorithms.pruners.Resolve(v1::PrunerConfig(), seed);
  return c;
}

class CoreCalls {
 public:
  explicit CoreCalls(StudyManager* manager) : m_(manager) {}

  absl::StatusOr<Written<FrozenTrial>> Ask(const std::string& study, const SearchSpace& space,
                                           const std::string& worker_id,
                                           const std::string& request_id = "") {
    return m_->WithStudy(study, [&](Study& s) {
      return ops::Ask(s, ops::AskRequest{space, worker_id, request_id});
    });
  }
  absl::StatusOr<Written<TrialParam>> Suggest(TrialId trial, const std::string& name,
                                              const Distribution& d) {
    return m_->WithTrial(trial, [&](Study& s, int64_t n) { return ops::Suggest(s, n, name, d); });
  }
  absl::StatusOr<Written<ops::ReportOutcome>> Report(TrialId trial, int64_t step, double value) {
    return m_->WithTrial(trial,
                         [&](Study& s, int64_t n) { return ops::Report(s, n, step, value); });
  }
  absl::StatusOr<Written<ops::TellOutcome>> Tell(TrialId trial, TrialState state,
                                                 const std::vector<double>& values,
                                                 const std::string& reason) {
    return m_->WithTrial(
        trial, [&](Study& s, int64_t n) { return ops::Tell(s, n, state, values, reason); });
  }
  absl::Status Heartbeat(TrialId trial, const std::string& worker_id) {
    return m_->WithTrial(trial,
                         [&](Study& s, int64_t n) { return ops::Heartbeat(s, n, worker_id); });
  }
  absl::StatusOr<Written<FrozenTrial>> Enqueue(const std::string& study,
                                               const std::map<std::string, ParamValue>& params,
                                               const std::map<std::string, std::string>& attrs) {
    return m_->WithStudy(study, [&](Study& s) { return ops::Enqueue(s, params, attrs); });
  }
  absl::StatusOr<FrozenTrial> GetTrial(TrialId trial) {
    return m_->WithTrial(trial, [&](Study& s, int64_t n) { return ops::GetTrial(s, n); });
  }
  absl::StatusOr<StudySnapshot> GetStudy(const std::string& study, bool with_best_trials) {
    return m_->WithStudy(study,
                         [&](Study& s) { return ops::GetStudy(s, with_best_trials); });
  }
  absl::StatusOr<Written<bool>> DeleteStudy(const std::string& study) {
    return m_->DeleteStudy(study);
  }
  void ReapExpired() { ops::ReapExpired(*m_); }

 private:
  StudyManager* const m_;
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_CORE_CALLS_H_
