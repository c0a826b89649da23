// Requests are parsed here rather than by gRPC: its callback API answers a
// request it cannot parse with UNIMPLEMENTED and no message, and protobuf
// writes the reason to stderr. Here the caller learns why.
#ifndef PARZEN_SERVER_SERVICE_REQUEST_PARSE_H_
#define PARZEN_SERVER_SERVICE_REQUEST_PARSE_H_

#include <string_view>

#include <google/protobuf/message.h>

#include "common/status.h"

namespace parzen {

// Parses `bytes` into `request`. INVALID_ARGUMENT when they are not one,
// naming the message type and, where it can be told, the reason: a string
// field that is not UTF-8 (with its path) or nesting deeper than protobuf
// allows.
absl::Status ParseRequest(std::string_view bytes, google::protobuf::Message* request);

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_REQUEST_PARSE_H_
