// absl::Status <-> grpc::Status, the one place the two meet.
#ifndef PARZEN_COMMON_GRPC_STATUS_H_
#define PARZEN_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace parzen {

// Same code; the message is cut to 1024 bytes so a reply stays bounded.
grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

}  // namespace parzen

#endif  // PARZEN_COMMON_GRPC_STATUS_H_
