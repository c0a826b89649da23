#include "server/core/ops/enqueue.h"

#include <cmath>

#include <spdlog/fmt/fmt.h>

#include "common/distribution.h"
#include "common/client_text.h"
#include "server/core/limits.h"

namespace parzen::ops {
namespace {

absl::Status CheckValue(const std::string& name, const ParamValue& value) {
  PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
  const std::string label = "enqueued parameter '" + name + "'";
  if (const int64_t* i = std::get_if<int64_t>(&value);
      i && (*i > kMaxExactInt || *i < -kMaxExactInt)) {
    return absl::InvalidArgumentError(label + " is " + std::to_string(*i) +
                                      "; integers beyond 2^53 cannot be held exactly");
  }
  if (const double* d = std::get_if<double>(&value); d && !std::isfinite(*d)) {
    return absl::InvalidArgumentError(label + " is " + FormatValue(value) +
                                      "; values must be finite");
  }
  if (const std::string* s = std::get_if<std::string>(&value)) {
    if (s->size() > kMaxUserAttrValueBytes) {
      return absl::InvalidArgumentError(label + " is longer than 64 KiB");
    }
    if (!IsValidUtf8(*s)) return absl::InvalidArgumentError(label + " is not valid UTF-8");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Written<FrozenTrial>> Enqueue(Study& study,
                                             const std::map<std::string, ParamValue>& params,
                                             const std::map<std::string, std::string>& user_attrs) {
  if (params.size() > kMaxParamsPerTrial) {
    return absl::InvalidArgumentError(std::to_string(params.size()) +
                                      " enqueued parameters; the limit is " +
                                      std::to_string(kMaxParamsPerTrial));
  }
  absl::MutexLock lock(&study.mu());
  PARZEN_RETURN_IF_ERROR(study.CheckLive());
  for (const auto& [name, value] : params) {
    PARZEN_RETURN_IF_ERROR(CheckValue(name, value));
    if (const Distribution* known = study.Known(name)) {
      absl::StatusOr<double> internal = ToInternal(*known, value);
      if (!internal.ok()) {
        return absl::InvalidArgumentError("enqueued parameter '" + name + "' does not fit " +
                                          FormatDistribution(*known) + ": " +
                                          std::string(internal.status().message()));
      }
    }
  }
  PARZEN_RETURN_IF_ERROR(ValidateUserAttrs(user_attrs));
  FrozenTrial t;
  t.state = TrialState::kWaiting;
  t.fixed_params = params;
  t.user_attrs = user_attrs;
  const int64_t number = study.Append(std::move(t));
  const Storage::Ticket ticket = study.Publish(mutation::InsertTrial{study.trial(number)}, number);
  study.LogWhenDurable(ticket, spdlog::level::info,
                       fmt::format("study '{}': trial {} WAITING (enqueued)",
                                   EscapeForLog(study.name()), number));
  return Written<FrozenTrial>{study.trial(number), ticket};
}

}  // namespace parzen::ops
