// How a client reaches a server that serves TLS: the CA its certificate
// must chain to and, under mutual TLS, the client's own certificate.
#ifndef PARZEN_CLIENT_TLS_H_
#define PARZEN_CLIENT_TLS_H_

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/status/statusor.h"

namespace parzen::client {

// PEM text.
struct TlsOptions {
  std::string ca_pem;    // empty: the system's trusted CAs
  std::string cert_pem;  // mutual TLS: this client's certificate chain...
  std::string key_pem;   // ...and its private key
  // The name the server's certificate must carry, when it is not the
  // address's host (an address by IP, a tunnel).
  std::string server_name;
};

// The files a command line names (--tls-ca, --tls-cert, --tls-key,
// --tls-server-name). All empty: plaintext.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
  std::string server_name;
};

// --tls-ca, --tls-cert, --tls-key and --tls-server-name (or $PARZEN_TLS_CA,
// ...), as every client command takes them.
void AddTlsFlags(CLI::App* app, TlsFiles* files);

// Reads the files: nullopt when none is named; INVALID_ARGUMENT for a
// certificate without its key (or the reverse) and NOT_FOUND for a file
// that cannot be read.
absl::StatusOr<std::optional<TlsOptions>> ReadTlsFiles(const TlsFiles& files);

// What a failed connection may mean, given the client's TLS settings
// `tls`: a hint naming the flags to give, or "" when `transport_error`
// (gRPC's message) is about something else.
std::string TlsHint(const std::string& transport_error, const std::optional<TlsOptions>& tls);

// Whether `transport_error` (gRPC's message) says the server's certificate
// does not chain to a CA this client trusts: a setting to fix, which no
// retry mends.
bool IsUntrustedServerCertificate(const std::string& transport_error);

// TLS credentials, or plaintext for nullopt; `args` gets the server name.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<TlsOptions>& tls,
                                                             grpc::ChannelArguments* args);

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_TLS_H_
