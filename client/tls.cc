#include "client/tls.h"

#include <fstream>
#include <sstream>

namespace parzen::client {
namespace {

constexpr std::streamsize kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(std::string("cannot read ") + flag + " file " + path);
  std::string text(static_cast<size_t>(kMaxPemBytes), '\0');
  in.read(text.data(), kMaxPemBytes);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(std::string(flag) + " file " + path + " holds no PEM");
  }
  return text;
}

}  // namespace

std::string TlsHint(const std::string& transport_error, const std::optional<TlsOptions>& tls) {
  if (IsUntrustedServerCertificate(transport_error)) {
    return " (the server's certificate is not signed by the CA this client trusts: check "
           "--tls-ca)";
  }
  // A TLS server closes a plaintext connection, or one without the client
  // certificate it requires, during the handshake; gRPC says only this.
  if (transport_error.find("Socket closed") == std::string::npos) return "";
  if (!tls) {
    return " (a server that serves TLS closes plaintext connections so: give --tls-ca, and "
           "under mutual TLS --tls-cert and --tls-key)";
  }
  if (tls->cert_pem.empty()) {
    return " (a server that requires client certificates closes connections without one so: "
           "give --tls-cert and --tls-key)";
  }
  return " (a server under mutual TLS closes connections so whose certificate its CA did not "
         "sign)";
}

bool IsUntrustedServerCertificate(const std::string& transport_error) {
  // OpenSSL's reason, and BoringSSL's.
  return transport_error.find("certificate verify failed") != std::string::npos ||
         transport_error.find("CERTIFICATE_VERIFY_FAILED") != std::string::npos;
}

void AddTlsFlags(CLI::App* app, TlsFiles* files) {
  app->add_option("--tls-ca", files->ca,
                  "connect over TLS, trusting the server's certificate if this PEM CA signed it "
                  "(or $PARZEN_TLS_CA)")
      ->envname("PARZEN_TLS_CA");
  app->add_option("--tls-cert", files->cert,
                  "mutual TLS: this client's PEM certificate (or $PARZEN_TLS_CERT)")
      ->envname("PARZEN_TLS_CERT");
  app->add_option("--tls-key", files->key,
                  "mutual TLS: the PEM private key of --tls-cert (or $PARZEN_TLS_KEY)")
      ->envname("PARZEN_TLS_KEY");
  app->add_option("--tls-server-name", files->server_name,
                  "the name the server's certificate must carry, when it is not the host of "
                  "--server (or $PARZEN_TLS_SERVER_NAME)")
      ->envname("PARZEN_TLS_SERVER_NAME");
}

absl::StatusOr<std::optional<TlsOptions>> ReadTlsFiles(const TlsFiles& files) {
  if (files.ca.empty() && files.cert.empty() && files.key.empty() && files.server_name.empty()) {
    return std::nullopt;
  }
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  TlsOptions tls;
  tls.server_name = files.server_name;
  if (!files.ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(files.ca, "--tls-ca");
    if (!ca.ok()) return ca.status();
    tls.ca_pem = *std::move(ca);
  }
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(files.cert, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(files.key, "--tls-key");
    if (!key.ok()) return key.status();
    tls.cert_pem = *std::move(cert);
    tls.key_pem = *std::move(key);
  }
  return tls;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<TlsOptions>& tls,
                                                             grpc::ChannelArguments* args) {
  if (!tls) return grpc::InsecureChannelCredentials();
  if (!tls->server_name.empty()) args->SetSslTargetNameOverride(tls->server_name);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->ca_pem;
  ssl.pem_cert_chain = tls->cert_pem;
  ssl.pem_private_key = tls->key_pem;
  return grpc::SslCredentials(ssl);
}

}  // namespace parzen::client
