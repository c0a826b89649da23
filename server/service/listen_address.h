// What --listen names: a TCP host:port, a unix socket path or an abstract
// unix socket. gRPC takes the text as it is; the server needs the kind to
// log a port only where there is one, and to keep a second server off a
// socket path the first one serves (gRPC removes whatever socket file is
// at the path before it binds, so the second would silently take the
// path over while the first went on running, unreachable).
#ifndef PARZEN_SERVER_SERVICE_LISTEN_ADDRESS_H_
#define PARZEN_SERVER_SERVICE_LISTEN_ADDRESS_H_

#include <string>

#include "common/status.h"

namespace parzen {

struct ListenAddress {
  enum class Kind { kTcp, kUnix, kUnixAbstract };
  Kind kind = Kind::kTcp;
  std::string text;  // as given, for gRPC and the log
  std::string path;  // kUnix only: the socket file
};

// "unix:PATH" and "unix://ABSOLUTE-PATH" are unix sockets,
// "unix-abstract:NAME" an abstract one, anything else TCP.
ListenAddress ParseListenAddress(const std::string& text);

// Whether only this machine can connect: a unix socket, or TCP on
// localhost, 127.0.0.0/8 or [::1]. False for 0.0.0.0, [::] and any other
// host, where tokens and studies would cross a network.
bool IsLoopbackOnly(const ListenAddress& address);

// For a kUnix address, before the server binds it: FAILED_PRECONDITION
// when a process accepts connections on the path or the path is not a
// socket, INVALID_ARGUMENT when it is too long for a socket address. A
// socket file nobody serves (left by a server that was killed) is fine:
// gRPC replaces it. OK for the other kinds, which gRPC itself refuses to
// bind twice. A server starting between this check and the bind is not
// caught; two servers started at the same instant are the operator's race.
absl::Status CheckListenAddressFree(const ListenAddress& address);

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_LISTEN_ADDRESS_H_
