// gRPC and protobuf write what they notice (a failed TLS handshake, a
// request string that is not UTF-8) to stderr in formats of their own,
// unescaped: "E1206 13:55:44.1 ... Handshake failed", "[libprotobuf ERROR
// ...]". Routed here into the server's log.
#ifndef PARZEN_SERVER_SERVICE_LIBRARY_LOG_H_
#define PARZEN_SERVER_SERVICE_LIBRARY_LOG_H_

namespace parzen {

// Call once at start-up, before gRPC starts. gRPC's errors (all it logs
// unless GRPC_VERBOSITY says more) become warnings: a client's failed
// handshake is not the server's error. Protobuf's messages go to debug, each being about a request
// the service answers and logs itself with the reason, its fatal ones to
// critical. All escaped.
void RouteLibraryLogsToSpdlog();

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_LIBRARY_LOG_H_
