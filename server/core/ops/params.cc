#include "server/core/ops/params.h"

#include <variant>

#include <spdlog/spdlog.h>

#include "server/core/limits.h"
#include "common/client_text.h"

namespace parzen::ops {

absl::StatusOr<Distribution> ValidateParam(const std::string& name, const Distribution& d) {
  absl::StatusOr<Distribution> valid = ValidateDistribution(d);
  absl::Status status = valid.ok() ? CheckChoicesSize(*valid) : valid.status();
  if (!status.ok()) {
    return absl::InvalidArgumentError("parameter '" + name + "': " + std::string(status.message()));
  }
  return valid;
}

absl::StatusOr<double> FixedInternal(const FrozenTrial& trial, const std::string& label,
                                     const std::string& name, const Distribution& d) {
  const ParamValue& value = trial.fixed_params.at(name);
  absl::StatusOr<double> internal = ToInternal(d, value);
  if (internal.ok()) return internal;
  return absl::InvalidArgumentError("enqueued value " + FormatValue(value) + " for '" + name +
                                    "' of " + label + " does not fit " + FormatDistribution(d) +
                                    ": " + std::string(internal.status().message()));
}

absl::StatusOr<std::optional<double>> UnsampledValue(const FrozenTrial& trial,
                                                     const std::string& label,
                                                     const std::string& name,
                                                     const Distribution& d) {
  if (auto fixed = trial.fixed_params.find(name); fixed != trial.fixed_params.end()) {
    PARZEN_ASSIGN_OR_RETURN(double internal, FixedInternal(trial, label, name, d));
    if (!Contains(d, internal)) {
      spdlog::warn("{}: enqueued value {} for '{}' lies outside {}; using it anyway",
                   EscapeForLog(label),
                   EscapeForLog(FormatValue(fixed->second)), EscapeForLog(name),
                   EscapeForLog(FormatDistribution(d), 1024));
    }
    return internal;
  }
  if (IsSingle(d)) {
    // The one value: low for numbers, the only choice (index 0) otherwise.
    if (const auto* f = std::get_if<FloatDistribution>(&d)) return f->low;
    if (const auto* i = std::get_if<IntDistribution>(&d)) return static_cast<double>(i->low);
    return 0.0;
  }
  return std::nullopt;
}

absl::StatusOr<double> SampleParam(const Sampler& sampler, const StudyHistory& history,
                                   const FrozenTrial& trial, const std::string& label,
                                   const std::string& name, const Distribution& d,
                                   const std::map<std::string, double>& relative) {
  PARZEN_ASSIGN_OR_RETURN(std::optional<double> unsampled, UnsampledValue(trial, label, name, d));
  if (unsampled) return *unsampled;
  if (auto it = relative.find(name); it != relative.end() && Contains(d, it->second)) {
    return it->second;
  }
  PARZEN_ASSIGN_OR_RETURN(double v, sampler.SampleIndependent(history, trial, name, d));
  if (!Contains(d, v)) {
    return absl::InternalError("sampler " + std::string(sampler.Name()) + " returned " +
                               std::to_string(v) + " outside " + FormatDistribution(d));
  }
  return v;
}

}  // namespace parzen::ops
