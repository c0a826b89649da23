#include "common/proto_convert.h"

#include <cmath>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

namespace parzen {
namespace {

google::protobuf::Timestamp MicrosToTimestamp(int64_t us) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us);
}

int64_t TimestampToMicros(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(t);
}

}  // namespace

absl::StatusOr<Distribution> FromProto(const v1::Distribution& d) {
  switch (d.kind_case()) {
    case v1::Distribution::kFloatDistribution: {
      const auto& f = d.float_distribution();
      FloatDistribution out{f.low(), f.high(), f.log(), std::nullopt};
      if (f.has_step()) out.step = f.step();
      return out;
    }
    case v1::Distribution::kIntDistribution: {
      const auto& i = d.int_distribution();
      return IntDistribution{i.low(), i.high(), i.log(), i.has_step() ? i.step() : 1};
    }
    case v1::Distribution::kCategoricalDistribution: {
      CategoricalDistribution out;
      for (const v1::Value& c : d.categorical_distribution().choices()) {
        PARZEN_ASSIGN_OR_RETURN(ParamValue v, FromProto(c));
        out.choices.push_back(std::move(v));
      }
      return out;
    }
    case v1::Distribution::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "distribution is empty: set one of float_distribution, int_distribution, "
      "categorical_distribution");
}

v1::Distribution ToProto(const Distribution& d) {
  v1::Distribution out;
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    auto* p = out.mutable_float_distribution();
    p->set_low(f->low);
    p->set_high(f->high);
    p->set_log(f->log);
    if (f->step) p->set_step(*f->step);
  } else if (const auto* i = std::get_if<IntDistribution>(&d)) {
    auto* p = out.mutable_int_distribution();
    p->set_low(i->low);
    p->set_high(i->high);
    p->set_log(i->log);
    p->set_step(i->step);
  } else {
    auto* p = out.mutable_categorical_distribution();
    for (const ParamValue& c : std::get<CategoricalDistribution>(d).choices) {
      *p->add_choices() = ToProto(c);
    }
  }
  return out;
}

absl::StatusOr<ParamValue> FromProto(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kDoubleValue: return ParamValue(v.double_value());
    case v1::Value::kIntValue: return ParamValue(v.int_value());
    case v1::Value::kStringValue: return ParamValue(v.string_value());
    case v1::Value::kBoolValue: return ParamValue(v.bool_value());
    case v1::Value::KIND_NOT_SET: break;
  }
  return absl::InvalidArgumentError("value is empty: set one of double_value, int_value, "
                                    "string_value, bool_value");
}

v1::Value ToProto(const ParamValue& v) {
  v1::Value out;
  if (const auto* d = std::get_if<double>(&v)) {
    out.set_double_value(*d);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    out.set_int_value(*i);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out.set_string_value(*s);
  } else {
    out.set_bool_value(std::get<bool>(v));
  }
  return out;
}

absl::StatusOr<TrialState> FromProto(v1::TrialState s) {
  switch (s) {
    case v1::RUNNING: return TrialState::kRunning;
    case v1::COMPLETE: return TrialState::kComplete;
    case v1::PRUNED: return TrialState::kPruned;
    case v1::FAIL: return TrialState::kFail;
    case v1::WAITING: return TrialState::kWaiting;
    default: break;
  }
  return absl::InvalidArgumentError("trial state must be one of RUNNING, COMPLETE, PRUNED, FAIL, "
                                    "WAITING; got " + std::to_string(static_cast<int>(s)));
}

v1::TrialState ToProto(TrialState s) {
  switch (s) {
    case TrialState::kRunning: return v1::RUNNING;
    case TrialState::kComplete: return v1::COMPLETE;
    case TrialState::kPruned: return v1::PRUNED;
    case TrialState::kFail: return v1::FAIL;
    case TrialState::kWaiting: return v1::WAITING;
  }
  return v1::TRIAL_STATE_UNSPECIFIED;
}

absl::StatusOr<Direction> FromProto(v1::Direction d) {
  if (d == v1::MINIMIZE) return Direction::kMinimize;
  if (d == v1::MAXIMIZE) return Direction::kMaximize;
  return absl::InvalidArgumentError("direction must be MINIMIZE or MAXIMIZE");
}

v1::Direction ToProto(Direction d) {
  return d == Direction::kMinimize ? v1::MINIMIZE : v1::MAXIMIZE;
}

namespace {

// What JSON can hold: every Value set to one kind, numbers finite.
absl::Status CheckJsonable(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::KIND_NOT_SET:
      return absl::InvalidArgumentError(
          "the value is empty; set one of null, number, string, bool, struct or list");
    case google::protobuf::Value::kNumberValue:
      if (!std::isfinite(v.number_value())) {
        return absl::InvalidArgumentError(
            "a number is NaN or infinite, which JSON cannot hold");
      }
      return absl::OkStatus();
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, field] : v.struct_value().fields()) {
        PARZEN_RETURN_IF_ERROR(CheckJsonable(field));
      }
      return absl::OkStatus();
    case google::protobuf::Value::kListValue:
      for (const auto& item : v.list_value().values()) PARZEN_RETURN_IF_ERROR(CheckJsonable(item));
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& v) {
  PARZEN_RETURN_IF_ERROR(CheckJsonable(v));
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(v, &out);
  if (!status.ok()) {
    return absl::InvalidArgumentError("user attribute is not representable as JSON: " +
                                      status.ToString());
  }
  return out;
}

google::protobuf::Value ToAttrValue(const ParamValue& value) {
  google::protobuf::Value out;
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out.set_string_value(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(x);
        } else {
          out.set_number_value(static_cast<double>(x));
        }
      },
      value);
  return out;
}

absl::StatusOr<google::protobuf::Value> JsonToValue(const std::string& json) {
  google::protobuf::Value v;
  auto status = google::protobuf::util::JsonStringToMessage(json, &v);
  if (!status.ok()) return absl::DataLossError("stored user attribute is not JSON: " + json);
  return v;
}

absl::StatusOr<std::map<std::string, std::string>> UserAttrsFromProto(
    const google::protobuf::Map<std::string, google::protobuf::Value>& attrs) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : attrs) {
    absl::StatusOr<std::string> json = ValueToJson(value);
    if (!json.ok()) {
      return absl::InvalidArgumentError("user attribute '" + key + "': " +
                                        std::string(json.status().message()));
    }
    out[key] = *std::move(json);
  }
  return out;
}

void ToProto(const TrialParam& p, v1::Parameter* out) {
  out->set_name(p.name);
  *out->mutable_distribution() = ToProto(p.distribution);
  out->set_internal_value(p.internal_value);
  *out->mutable_value() = ToProto(ToExternal(p.distribution, p.internal_value));
}

void ToProto(const FrozenTrial& t, const std::string& study_name, v1::Trial* out) {
  out->set_trial_id(t.trial_id);
  out->set_number(t.number);
  out->set_study(study_name);
  out->set_state(ToProto(t.state));
  for (double v : t.values) out->add_values(v);
  for (const TrialParam& p : t.params) ToProto(p, out->add_params());
  for (const auto& [step, value] : t.intermediate_values) {
    auto* iv = out->add_intermediate_values();
    iv->set_step(step);
    iv->set_value(value);
  }
  for (const auto& [key, json] : t.user_attrs) {
    auto v = JsonToValue(json);
    if (v.ok()) (*out->mutable_user_attrs())[key] = *std::move(v);
  }
  for (const auto& [key, json] : t.system_attrs) {
    auto v = JsonToValue(json);
    if (v.ok()) (*out->mutable_system_attrs())[key] = *std::move(v);
  }
  for (const auto& [name, value] : t.fixed_params) {
    (*out->mutable_fixed_params())[name] = ToProto(value);
  }
  if (t.start_time_us) *out->mutable_start_time() = MicrosToTimestamp(t.start_time_us);
  if (t.complete_time_us) *out->mutable_complete_time() = MicrosToTimestamp(t.complete_time_us);
  out->set_fail_reason(t.fail_reason);
  if (t.retry_of) out->set_retry_of(*t.retry_of);
  out->set_worker_id(t.worker_id);
}

absl::StatusOr<TrialParam> FromProto(const v1::Parameter& p) {
  TrialParam out;
  out.name = p.name();
  PARZEN_ASSIGN_OR_RETURN(out.distribution, FromProto(p.distribution()));
  out.internal_value = p.internal_value();
  return out;
}

absl::StatusOr<std::optional<Condition>> ConditionFromProto(const v1::ParameterSpec& spec) {
  if (!spec.has_condition()) return std::nullopt;
  Condition c;
  c.parent = spec.condition().parent();
  for (const v1::Value& v : spec.condition().values()) {
    absl::StatusOr<ParamValue> value = FromProto(v);
    if (!value.ok()) {
      return absl::InvalidArgumentError("parameter '" + spec.name() + "': condition: " +
                                        std::string(value.status().message()));
    }
    c.values.push_back(*std::move(value));
  }
  return c;
}

void ToProto(const SearchSpaceEntry& entry, v1::ParameterSpec* out) {
  out->set_name(entry.name);
  *out->mutable_distribution() = ToProto(entry.distribution);
  if (entry.condition) {
    out->mutable_condition()->set_parent(entry.condition->parent);
    for (const ParamValue& v : entry.condition->values) {
      *out->mutable_condition()->add_values() = ToProto(v);
    }
  }
}

absl::StatusOr<FrozenTrial> FromProto(const v1::Trial& t) {
  FrozenTrial out;
  out.trial_id = t.trial_id();
  out.number = t.number();
  PARZEN_ASSIGN_OR_RETURN(out.state, FromProto(t.state()));
  out.values.assign(t.values().begin(), t.values().end());
  for (const v1::Parameter& p : t.params()) {
    PARZEN_ASSIGN_OR_RETURN(TrialParam param, FromProto(p));
    out.params.push_back(std::move(param));
  }
  for (const v1::IntermediateValue& iv : t.intermediate_values()) {
    out.intermediate_values.emplace(iv.step(), iv.value());
  }
  PARZEN_ASSIGN_OR_RETURN(out.user_attrs, UserAttrsFromProto(t.user_attrs()));
  // Not UserAttrsFromProto: its limits are for what users send.
  for (const auto& [key, value] : t.system_attrs()) {
    PARZEN_ASSIGN_OR_RETURN(out.system_attrs[key], ValueToJson(value));
  }
  for (const auto& [name, value] : t.fixed_params()) {
    PARZEN_ASSIGN_OR_RETURN(out.fixed_params[name], FromProto(value));
  }
  if (t.has_start_time()) out.start_time_us = TimestampToMicros(t.start_time());
  if (t.has_complete_time()) out.complete_time_us = TimestampToMicros(t.complete_time());
  out.fail_reason = t.fail_reason();
  if (t.has_retry_of()) out.retry_of = t.retry_of();
  out.worker_id = t.worker_id();
  return out;
}

}  // namespace parzen
