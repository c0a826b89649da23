// Domain values <-> parzen.v1 messages, for the values both sides convert
// (distributions, parameter values, states, trials). Each edge converts its
// own messages in one module besides: server/service/study_convert (study
// configurations and summaries), client/study_config and
// client/study_options (specs, files and flags to requests).
// Conversions from the wire validate shape (InvalidArgument on a missing
// oneof, an unknown enum); semantic validation stays in the domain code.
#ifndef PARZEN_COMMON_PROTO_CONVERT_H_
#define PARZEN_COMMON_PROTO_CONVERT_H_

#include <map>
#include <string>

#include "common/distribution.h"
#include "common/status.h"
#include "common/frozen_trial.h"
#include "common/search_space.h"
#include "common/types.h"
#include "parzen/v1/study_service.pb.h"

namespace parzen {

absl::StatusOr<Distribution> FromProto(const v1::Distribution& d);
v1::Distribution ToProto(const Distribution& d);

absl::StatusOr<ParamValue> FromProto(const v1::Value& v);
v1::Value ToProto(const ParamValue& v);

// A search-space entry's condition; nullopt when the spec has none.
absl::StatusOr<std::optional<Condition>> ConditionFromProto(const v1::ParameterSpec& spec);
void ToProto(const SearchSpaceEntry& entry, v1::ParameterSpec* out);

absl::StatusOr<TrialState> FromProto(v1::TrialState s);
v1::TrialState ToProto(TrialState s);

absl::StatusOr<Direction> FromProto(v1::Direction d);
v1::Direction ToProto(Direction d);

// User attributes travel as google.protobuf.Value and are stored as JSON.
absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& v);
absl::StatusOr<google::protobuf::Value> JsonToValue(const std::string& json);
// A scalar as a user attribute value (integers become JSON numbers).
google::protobuf::Value ToAttrValue(const ParamValue& v);
absl::StatusOr<std::map<std::string, std::string>> UserAttrsFromProto(
    const google::protobuf::Map<std::string, google::protobuf::Value>& attrs);

void ToProto(const FrozenTrial& t, const std::string& study_name, v1::Trial* out);
// The client side's view of a trial; study_id and retry_count are not on the
// wire and stay 0.
absl::StatusOr<FrozenTrial> FromProto(const v1::Trial& t);
absl::StatusOr<TrialParam> FromProto(const v1::Parameter& p);
void ToProto(const TrialParam& p, v1::Parameter* out);

}  // namespace parzen

#endif  // PARZEN_COMMON_PROTO_CONVERT_H_
