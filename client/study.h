// Study: a handle on one server-side study: ask for trials, tell their
// outcome, enqueue fixed parameters, read the trials back.
#ifndef PARZEN_CLIENT_STUDY_H_
#define PARZEN_CLIENT_STUDY_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/distribution.h"
#include "common/search_space.h"
#include "common/status.h"
#include "common/frozen_trial.h"
#include "common/types.h"
#include "parzen/v1/study_service.pb.h"
#include "client/retry.h"
#include "client/study_options.h"
#include "client/trial.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace parzen::client {

class Client;

struct StudyCounts {
  int64_t trials = 0, running = 0, waiting = 0, complete = 0, pruned = 0, fail = 0;
};

// One line of a study listing.
struct StudyListing {
  std::string name;
  std::vector<Direction> directions;
  StudyCounts counts;
  // The best COMPLETE trial's value; none for a study of several objectives.
  std::optional<double> best_value;
};

// One change seen by Study::Watch: the trial as it is after the change,
// except that outside the snapshot its intermediate_values hold only the
// latest step (the server sends each step once; see WatchStudy).
struct TrialChange {
  FrozenTrial trial;
  bool snapshot = false;  // one of the trials that existed when the watch began
};

// What Tell stored: COMPLETE with NaN comes back as FAIL, with a message.
struct TellResult {
  TrialState state = TrialState::kComplete;
  std::string message;
};

// Lets another thread end a Study::Watch that may be waiting for a change:
// Cancel() makes it return OK at once. For one Watch; thread-safe.
class WatchCancel {
 public:
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Study;
  absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// Cheap to copy; thread-safe as the Client is.
class Study {
 public:
  // `created`: this client's CreateStudy made it (false when it loaded an
  // existing one).
  Study(Client* client, const v1::Study& study, bool created = false);

  const std::string& name() const { return name_; }
  const std::vector<Direction>& directions() const { return directions_; }
  double heartbeat_grace_seconds() const { return heartbeat_grace_seconds_; }
  int64_t max_trials() const { return max_trials_; }
  int64_t max_retries() const { return max_retries_; }
  // As stored on the server: every default filled in, the seed drawn.
  const v1::SamplerConfig& sampler() const { return sampler_; }
  const v1::PrunerConfig& pruner() const { return pruner_; }
  bool created() const { return created_; }

  // Starts a trial (an enqueued one first). With a search space, all its
  // parameters are sampled at once and available from Trial::params().
  // OUT_OF_RANGE (IsBudgetReached) when the study's budget is used up;
  // INTERNAL when the reply holds a trial this client cannot read, which
  // it then tells FAIL.
  absl::StatusOr<Trial> Ask(const SearchSpace& search_space = {});

  absl::StatusOr<TellResult> Tell(Trial& trial, double value);
  absl::StatusOr<TellResult> Tell(Trial& trial, const std::vector<double>& values);
  absl::StatusOr<TellResult> TellPruned(Trial& trial);
  // `limits`: e.g. a quick, best-effort FAIL on the way out of a process.
  absl::StatusOr<TellResult> TellFail(Trial& trial, const std::string& reason,
                                      const CallLimits& limits = {});

  // Optuna's study.set_user_attr and study.user_attrs (values as JSON text).
  absl::Status SetUserAttr(const std::string& key, const ParamValue& value);
  // Any JSON value (null, lists and objects too); INVALID_ARGUMENT for
  // text that is not JSON.
  absl::Status SetUserAttrJson(const std::string& key, const std::string& json);
  absl::StatusOr<std::map<std::string, std::string>> UserAttrs();

  // Optuna's enqueue_trial: the next Ask hands these parameters out first.
  absl::StatusOr<int64_t> Enqueue(const std::map<std::string, ParamValue>& params);

  // Best COMPLETE trial, nullopt while there is none. FAILED_PRECONDITION
  // for a study of several objectives (see BestTrials), as in Optuna.
  absl::StatusOr<std::optional<FrozenTrial>> BestTrial();
  // Optuna's study.best_trials: the Pareto front of the COMPLETE trials,
  // in number order (for one objective, every trial at the best value).
  absl::StatusOr<std::vector<FrozenTrial>> BestTrials();
  absl::StatusOr<StudyCounts> Counts();
  // Every trial (empty `states`: all states), in number order.
  absl::StatusOr<std::vector<FrozenTrial>> Trials(const std::vector<TrialState>& states = {});

  // Streams every change of the study's trials, starting with the trials
  // that exist now, calling `on_change` for each until it returns false
  // (then OK) or the server ends the stream (OK when the server stops or
  // the study is deleted). No deadline and no retry: a watch lasts as long
  // as its caller wants.
  // `cancel`, if given, can end it from another thread.
  absl::Status Watch(const std::function<bool(const TrialChange&)>& on_change,
                     WatchCancel* cancel = nullptr);

 private:
  absl::StatusOr<TellResult> TellState(Trial& trial, TrialState state,
                                       const std::vector<double>& values,
                                       const std::string& fail_reason,
                                       const CallLimits& limits = {});
  // The Pareto front only when asked for: it can be large.
  absl::StatusOr<v1::GetStudyResponse> Get(bool with_best_trials = false);
  absl::Status SetUserAttrValue(const std::string& key, google::protobuf::Value value);

  Client* client_;
  std::string name_;
  std::vector<Direction> directions_;
  double heartbeat_grace_seconds_ = 0;
  int64_t max_trials_ = 0;
  int64_t max_retries_ = 0;
  v1::SamplerConfig sampler_;
  v1::PrunerConfig pruner_;
  bool created_ = false;
};

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_STUDY_H_
