#include "server/service/listen_address.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace parzen {

ListenAddress ParseListenAddress(const std::string& text) {
  ListenAddress address;
  address.text = text;
  if (text.rfind("unix-abstract:", 0) == 0) {
    address.kind = ListenAddress::Kind::kUnixAbstract;
  } else if (text.rfind("unix://", 0) == 0) {
    address.kind = ListenAddress::Kind::kUnix;
    address.path = text.substr(std::strlen("unix://"));
  } else if (text.rfind("unix:", 0) == 0) {
    address.kind = ListenAddress::Kind::kUnix;
    address.path = text.substr(std::strlen("unix:"));
  }
  return address;
}

bool IsLoopbackOnly(const ListenAddress& address) {
  if (address.kind != ListenAddress::Kind::kTcp) return true;
  std::string host = address.text;
  if (host.rfind("dns:", 0) == 0) host = host.substr(4);
  if (const size_t colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

absl::Status CheckListenAddressFree(const ListenAddress& address) {
  if (address.kind != ListenAddress::Kind::kUnix) return absl::OkStatus();
  const std::string& path = address.path;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path) {
    return absl::InvalidArgumentError("the unix socket path in --listen " + address.text +
                                      " must be 1 to " + std::to_string(sizeof sun.sun_path - 1) +
                                      " bytes long");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError("cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(path +
                                         " exists and is not a socket; refusing to listen there. "
                                         "Choose another --listen path.");
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(std::string("socket: ") + std::strerror(errno));
  const bool answered = ::connect(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0;
  const int connect_errno = errno;
  ::close(fd);
  if (answered) {
    return absl::FailedPreconditionError(
        "another server is listening on " + address.text +
        "; refusing to take its socket over. Stop it first or choose another --listen path.");
  }
  // ECONNREFUSED: a socket file nobody listens on any more.
  if (connect_errno == ECONNREFUSED) return absl::OkStatus();
  return absl::FailedPreconditionError("cannot tell whether " + path +
                                       " is in use: " + std::strerror(connect_errno));
}

}  // namespace parzen
