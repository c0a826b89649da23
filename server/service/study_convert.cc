#include "server/service/study_convert.h"

#include <algorithm>
#include <random>

#include <google/protobuf/util/time_util.h>

#include "common/proto_convert.h"

namespace parzen {

absl::StatusOr<StudyConfig> ConfigFromRequest(const v1::CreateStudyRequest& r,
                                              const Algorithms& algorithms) {
  StudyConfig c;
  c.name = r.name();
  if (r.directions_size() > 0) {
    c.directions.clear();
    for (int d : r.directions()) {
      PARZEN_ASSIGN_OR_RETURN(Direction dir, FromProto(static_cast<v1::Direction>(d)));
      c.directions.push_back(dir);
    }
  }
  // A study that leaves its seed unset gets one, stored so it replays.
  const uint64_t seed = std::random_device{}();
  PARZEN_ASSIGN_OR_RETURN(c.sampler,
                          algorithms.samplers.Resolve(r.sampler(), seed, c.directions.size()));
  PARZEN_ASSIGN_OR_RETURN(c.pruner, algorithms.pruners.Resolve(r.pruner(), seed));
  c.max_trials = r.max_trials();
  c.heartbeat_grace_seconds = r.heartbeat_grace_seconds();
  c.max_retries = r.max_retries();
  PARZEN_ASSIGN_OR_RETURN(c.user_attrs, UserAttrsFromProto(r.user_attrs()));
  return c;
}

void StudyToProto(const StudySnapshot& s, const Algorithms& algorithms, v1::Study* out) {
  out->set_name(s.record.name);
  out->set_study_id(s.record.study_id);
  for (Direction d : s.config.directions) out->add_directions(ToProto(d));
  algorithms.samplers.ToSelection(s.config.sampler, *out->mutable_sampler());
  algorithms.pruners.ToSelection(s.config.pruner, *out->mutable_pruner());
  out->set_max_trials(s.config.max_trials);
  out->set_heartbeat_grace_seconds(s.config.heartbeat_grace_seconds);
  out->set_max_retries(s.config.max_retries);
  for (const auto& [key, json] : s.record.user_attrs) {
    if (auto v = JsonToValue(json); v.ok()) (*out->mutable_user_attrs())[key] = *v;
  }
  *out->mutable_create_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(s.record.create_time_us);
}

void SnapshotToProto(const StudySnapshot& s, const Algorithms& algorithms,
                     v1::GetStudyResponse* out) {
  StudyToProto(s, algorithms, out->mutable_study());
  v1::StudySummary* sum = out->mutable_summary();
  auto count = [&s](TrialState st) {
    auto it = s.summary.counts.find(st);
    return it == s.summary.counts.end() ? int64_t{0} : it->second;
  };
  sum->set_n_trials(s.summary.n_trials);
  sum->set_n_running(count(TrialState::kRunning));
  sum->set_n_waiting(count(TrialState::kWaiting));
  sum->set_n_complete(count(TrialState::kComplete));
  sum->set_n_pruned(count(TrialState::kPruned));
  sum->set_n_fail(count(TrialState::kFail));
  if (s.summary.best_trial) ToProto(*s.summary.best_trial, s.record.name, sum->mutable_best_trial());
  for (const FrozenTrial& t : s.summary.best_trials) ToProto(t, s.record.name, sum->add_best_trials());
}

absl::StatusOr<Distribution> ParamDistributionFromProto(const std::string& name,
                                                        const v1::Distribution& proto) {
  PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
  absl::StatusOr<Distribution> d = FromProto(proto);
  if (!d.ok()) {
    return absl::InvalidArgumentError("parameter '" + name + "': " +
                                      std::string(d.status().message()));
  }
  return d;
}

absl::StatusOr<SearchSpace> SpaceFromProto(
    const google::protobuf::RepeatedPtrField<v1::ParameterSpec>& specs) {
  SearchSpace space;
  for (const v1::ParameterSpec& p : specs) {
    PARZEN_ASSIGN_OR_RETURN(Distribution d, ParamDistributionFromProto(p.name(), p.distribution()));
    PARZEN_ASSIGN_OR_RETURN(std::optional<Condition> condition, ConditionFromProto(p));
    space.push_back({p.name(), std::move(d), std::move(condition)});
  }
  return space;
}

absl::StatusOr<std::vector<TrialState>> StatesFromProto(
    const google::protobuf::RepeatedField<int>& states) {
  std::vector<TrialState> out;
  for (int s : states) {
    PARZEN_ASSIGN_OR_RETURN(TrialState st, FromProto(static_cast<v1::TrialState>(s)));
    // At most the five states, however long the list: the filter is
    // applied to every trial under the study's lock.
    if (std::find(out.begin(), out.end(), st) == out.end()) out.push_back(st);
  }
  return out;
}

absl::StatusOr<std::map<std::string, ParamValue>> ParamsFromProto(
    const google::protobuf::Map<std::string, v1::Value>& params) {
  std::map<std::string, ParamValue> out;
  for (const auto& [name, value] : params) {
    absl::StatusOr<ParamValue> v = FromProto(value);
    if (!v.ok()) {
      return absl::InvalidArgumentError("parameter '" + name + "': " +
                                        std::string(v.status().message()));
    }
    out.emplace(name, *std::move(v));
  }
  return out;
}

}  // namespace parzen
