#include "cli/json_output.h"

#include "cli/time_text.h"

namespace parzen::cli {
namespace {

nlohmann::json ValueJson(const ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

// ISO 8601 in UTC with microseconds; null for a time not reached (0).
nlohmann::json Timestamp(int64_t us) {
  if (us == 0) return nullptr;
  return UtcMicrosText(us, 'T', "Z");
}

// User attributes are stored as JSON text; text that does not parse is
// shown as the string it is rather than dropped.
nlohmann::json AttrJson(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

}  // namespace

nlohmann::json UserAttrsJson(const std::map<std::string, std::string>& attrs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, text] : attrs) out[key] = AttrJson(text);
  return out;
}

nlohmann::json TrialJson(const FrozenTrial& t) {
  nlohmann::json params = nlohmann::json::object();
  for (const TrialParam& p : t.params) {
    params[p.name] = ValueJson(ToExternal(p.distribution, p.internal_value));
  }
  nlohmann::json fixed = nlohmann::json::object();
  for (const auto& [name, value] : t.fixed_params) fixed[name] = ValueJson(value);
  // Steps as keys, as Optuna's FrozenTrial.intermediate_values dict.
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [step, value] : t.intermediate_values) steps[std::to_string(step)] = value;
  nlohmann::json out = {
      {"number", t.number},
      {"trial_id", t.trial_id},
      {"state", TrialStateName(t.state)},
      {"values", t.values.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.values)},
      {"params", std::move(params)},
      {"user_attrs", UserAttrsJson(t.user_attrs)},
      {"intermediate_values", std::move(steps)},
      {"datetime_start", Timestamp(t.start_time_us)},
      {"datetime_complete", Timestamp(t.complete_time_us)},
      {"worker_id", t.worker_id},
  };
  if (!t.fixed_params.empty()) out["enqueued_params"] = std::move(fixed);
  if (!t.fail_reason.empty()) out["fail_reason"] = t.fail_reason;
  if (t.retry_of) out["retry_of"] = *t.retry_of;
  return out;
}

nlohmann::json CountsJson(const client::StudyCounts& c) {
  return {{"trials", c.trials},     {"running", c.running}, {"waiting", c.waiting},
          {"complete", c.complete}, {"pruned", c.pruned},   {"fail", c.fail}};
}

nlohmann::json StudyListingJson(const client::StudyListing& s) {
  nlohmann::json directions = nlohmann::json::array();
  for (Direction d : s.directions) {
    directions.push_back(d == Direction::kMaximize ? "maximize" : "minimize");
  }
  return {{"name", s.name},
          {"directions", std::move(directions)},
          {"counts", CountsJson(s.counts)},
          {"best_value", s.best_value ? nlohmann::json(*s.best_value) : nlohmann::json(nullptr)}};
}

}  // namespace parzen::cli
