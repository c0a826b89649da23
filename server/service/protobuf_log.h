// protobuf writes what it notices (a request string that is not UTF-8,
// say) to stderr as "[libprotobuf ERROR ...]" lines, outside the server's
// log format and unescaped.
#ifndef PARZEN_SERVER_SERVICE_PROTOBUF_LOG_H_
#define PARZEN_SERVER_SERVICE_PROTOBUF_LOG_H_

namespace parzen {

// Sends protobuf's messages to spdlog, escaped: at debug level, since each
// one is about a request the service answers (and logs) itself with the
// reason; protobuf's fatal errors as critical. Call once at start-up.
void RouteProtobufLogToSpdlog();

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_PROTOBUF_LOG_H_
