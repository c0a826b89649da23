// ServerTls: the server's certificate, key and (for mutual TLS) the CA its
// clients' certificates must chain to. gRPC serves a private copy of the
// files, which only Reload() replaces, and only with files that check out:
// editing them takes effect on SIGHUP, never half-way, and a bad file
// leaves the server serving the certificate it had. The copy holds the
// private key: a server removes its own when it goes, and the copies that
// servers killed before that (kill -9, the OOM killer) left when it starts.
#ifndef PARZEN_SERVER_SERVICE_SERVER_TLS_H_
#define PARZEN_SERVER_SERVICE_SERVER_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "common/status.h"

namespace parzen {

class ServerTls {
 public:
  struct Files {
    std::string cert;       // PEM chain, the server's certificate first
    std::string key;        // PEM private key of that certificate
    std::string client_ca;  // PEM; when set, clients must present a certificate it signed
  };
  // Checks the files, removes the copies dead servers left under $TMPDIR,
  // and makes the copy gRPC serves.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Open(Files files);
  // (Open's: `copy_dir` is where the copy lives, removed with this.)
  ServerTls(Files files, std::string copy_dir)
      : files_(std::move(files)), dir_(std::move(copy_dir)) {}
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // Credentials that follow the copy: a connection made after Reload()
  // gets the new certificate (within a second); open ones keep theirs.
  std::shared_ptr<grpc::ServerCredentials> Credentials() const;

  // Reads the files again; when they check out, installs them. On error
  // the certificate being served stays.
  absl::Status Reload();

  bool mutual() const { return !files_.client_ca.empty(); }
  // "CN=... (valid from Dec  1 ... until Dec 31 ...)" of the certificate
  // installed last.
  const std::string& description() const { return description_; }

 private:
  const Files files_;
  const std::string dir_;
  // Locked (flock) while this server runs: a copy whose lock another server
  // can take is a dead server's. flock, unlike a PID, holds across PID
  // namespaces sharing one $TMPDIR, and the kernel drops it at any death.
  int owner_lock_ = -1;
  std::string description_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_SERVER_TLS_H_
