#include "client/trial.h"

#include <utility>

#include "common/proto_convert.h"
#include "client/client.h"

namespace parzen::client {

using Stub = v1::StudyService::StubInterface;

Trial::Trial(Client* client, FrozenTrial trial, std::shared_ptr<Lease> lease)
    : client_(client), trial_(std::move(trial)), lease_(std::move(lease)) {}

Trial::~Trial() { Finish(); }

void Trial::Finish() {
  finished_ = true;
  if (lease_) lease_->Release();
}

std::map<std::string, ParamValue> Trial::params() const {
  std::map<std::string, ParamValue> out;
  for (const auto& [name, value] : trial_.fixed_params) out[name] = value;
  for (const TrialParam& p : trial_.params) {
    out[p.name] = ToExternal(p.distribution, p.internal_value);
  }
  return out;
}

absl::Status Trial::CheckNotLost() const {
  if (lost()) {
    return absl::FailedPreconditionError("trial " + std::to_string(number()) +
                                         " is no longer ours: " + lost_reason());
  }
  if (finished_) {
    return absl::FailedPreconditionError("trial " + std::to_string(number()) +
                                         " is already finished");
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Trial::SuggestFloat(const std::string& name, double low, double high,
                                           FloatOptions options) {
  PARZEN_ASSIGN_OR_RETURN(ParamValue v,
                          Suggest(name, FloatDistribution{low, high, options.log, options.step}));
  return std::get<double>(v);
}

absl::StatusOr<int64_t> Trial::SuggestInt(const std::string& name, int64_t low, int64_t high,
                                          IntOptions options) {
  PARZEN_ASSIGN_OR_RETURN(ParamValue v,
                          Suggest(name, IntDistribution{low, high, options.log, options.step}));
  return std::get<int64_t>(v);
}

absl::StatusOr<ParamValue> Trial::SuggestCategorical(const std::string& name,
                                                     std::vector<ParamValue> choices) {
  return Suggest(name, CategoricalDistribution{std::move(choices)});
}

absl::StatusOr<ParamValue> Trial::Suggest(const std::string& name,
                                          const Distribution& distribution) {
  // Validated here so a typo fails without a round trip and the cached
  // comparison below sees the normalised form the server stores.
  absl::StatusOr<Distribution> valid = ValidateDistribution(distribution);
  if (!valid.ok()) {
    return absl::Status(valid.status().code(),
                        "parameter '" + name + "': " + std::string(valid.status().message()));
  }
  const Distribution& normalised = *valid;
  if (const TrialParam* known = trial_.FindParam(name);
      known != nullptr && known->distribution == normalised) {
    return ToExternal(known->distribution, known->internal_value);
  }
  PARZEN_RETURN_IF_ERROR(CheckNotLost());
  v1::SuggestRequest request;
  request.set_trial_id(id());
  request.set_name(name);
  *request.mutable_distribution() = ToProto(normalised);
  v1::SuggestResponse response;
  PARZEN_RETURN_IF_ERROR(
      client_->Call("Suggest", Idempotency::kIdempotent, &Stub::Suggest, request, &response));
  PARZEN_ASSIGN_OR_RETURN(TrialParam param, FromProto(response.parameter()));
  ParamValue value = ToExternal(param.distribution, param.internal_value);
  trial_.fixed_params.erase(name);
  std::erase_if(trial_.params, [&name](const TrialParam& p) { return p.name == name; });
  trial_.params.push_back(std::move(param));
  return value;
}

absl::Status Trial::Report(double value, int64_t step) {
  PARZEN_RETURN_IF_ERROR(CheckNotLost());
  v1::ReportIntermediateRequest request;
  request.set_trial_id(id());
  request.set_step(step);
  request.set_value(value);
  v1::ReportIntermediateResponse response;
  PARZEN_RETURN_IF_ERROR(client_->Call("ReportIntermediate", Idempotency::kIdempotent,
                                       &Stub::ReportIntermediate, request, &response));
  trial_.intermediate_values.emplace(step, value);
  should_prune_ = response.should_prune();
  return absl::OkStatus();
}

absl::Status Trial::SetUserAttr(const std::string& key, const ParamValue& value) {
  PARZEN_RETURN_IF_ERROR(CheckNotLost());
  v1::SetTrialUserAttrRequest request;
  request.set_trial_id(id());
  request.set_key(key);
  *request.mutable_value() = ToAttrValue(value);
  v1::SetTrialUserAttrResponse response;
  return client_->Call("SetTrialUserAttr", Idempotency::kIdempotent, &Stub::SetTrialUserAttr,
                       request, &response);
}

}  // namespace parzen::client
