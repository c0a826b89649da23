// The server's side of the wire: parzen.v1 requests to the core's values
// and the core's answers back, for what only the server converts (study
// configurations, summaries, request fields). Values both sides convert
// (distributions, trials) are in common/proto_convert.h. Conversions from
// the wire check shape and name the field; the core checks meaning.
#ifndef PARZEN_SERVER_SERVICE_STUDY_CONVERT_H_
#define PARZEN_SERVER_SERVICE_STUDY_CONVERT_H_

#include <map>
#include <string>
#include <vector>

#include "common/search_space.h"
#include "parzen/v1/study_service.pb.h"
#include "server/core/algorithms.h"
#include "server/core/study.h"
#include "server/core/study_config.h"

namespace parzen {

// The study a CreateStudyRequest describes, its sampler and pruner
// resolved by `algorithms` (defaults filled in, a seed drawn where none is
// given). InvalidArgument naming what is wrong.
absl::StatusOr<StudyConfig> ConfigFromRequest(const v1::CreateStudyRequest& request,
                                              const Algorithms& algorithms);

void StudyToProto(const StudySnapshot& snapshot, const Algorithms& algorithms, v1::Study* out);
void SnapshotToProto(const StudySnapshot& snapshot, const Algorithms& algorithms,
                     v1::GetStudyResponse* out);

// One parameter of an Ask's search space or a Suggest. The name is checked
// first, so a message never echoes a name no parameter can have; a bad
// distribution's message names the parameter.
absl::StatusOr<Distribution> ParamDistributionFromProto(const std::string& name,
                                                        const v1::Distribution& proto);
absl::StatusOr<SearchSpace> SpaceFromProto(
    const google::protobuf::RepeatedPtrField<v1::ParameterSpec>& specs);
// Each state once, however often the request names it.
absl::StatusOr<std::vector<TrialState>> StatesFromProto(
    const google::protobuf::RepeatedField<int>& states);
absl::StatusOr<std::map<std::string, ParamValue>> ParamsFromProto(
    const google::protobuf::Map<std::string, v1::Value>& params);

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_STUDY_CONVERT_H_
