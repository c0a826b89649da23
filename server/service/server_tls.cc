#include "server/service/server_tls.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace parzen {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;
// How often gRPC looks at the copy; Reload() is the only writer.
constexpr unsigned kRefreshSeconds = 1;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(std::string("cannot read the ") + what + " file " + path);
  std::string text(kMaxPemBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(std::string("the ") + what + " file " + path +
                                      " is larger than 1 MiB");
  }
  return text;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::unique_ptr<X509, X509Free> FirstCertificate(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string Describe(X509* cert) {
  Bio out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  BIO_puts(out.get(), " (valid from ");
  ASN1_TIME_print(out.get(), X509_get0_notBefore(cert));
  BIO_puts(out.get(), " until ");
  ASN1_TIME_print(out.get(), X509_get0_notAfter(cert));
  BIO_puts(out.get(), ")");
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

struct Pems {
  std::string cert, key, client_ca;
  std::string description;
};

// The three files, checked: each parses, the key is the certificate's, the
// certificate is valid now.
absl::StatusOr<Pems> ReadAndCheck(const ServerTls::Files& files) {
  Pems pems;
  PARZEN_ASSIGN_OR_RETURN(pems.cert, ReadPem(files.cert, "TLS certificate"));
  PARZEN_ASSIGN_OR_RETURN(pems.key, ReadPem(files.key, "TLS key"));
  auto cert = FirstCertificate(pems.cert);
  if (cert == nullptr) {
    return absl::InvalidArgumentError("the TLS certificate file " + files.cert +
                                      " holds no PEM certificate");
  }
  Bio key_bio = MemoryBio(pems.key);
  // A callback that knows no passphrase: without one OpenSSL would ask for
  // it on the terminal, holding up a start or a SIGHUP.
  const auto no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError("the TLS key file " + files.key +
                                      " holds no PEM private key (or one with a passphrase)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError("the key in " + files.key +
                                      " does not belong to the certificate in " + files.cert);
  }
  pems.description = Describe(cert.get());
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return absl::InvalidArgumentError("the TLS certificate in " + files.cert +
                                      " has expired: " + pems.description);
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return absl::InvalidArgumentError("the TLS certificate in " + files.cert +
                                      " is not valid yet: " + pems.description);
  }
  if (!files.client_ca.empty()) {
    PARZEN_ASSIGN_OR_RETURN(pems.client_ca, ReadPem(files.client_ca, "TLS client CA"));
    if (FirstCertificate(pems.client_ca) == nullptr) {
      return absl::InvalidArgumentError("the TLS client CA file " + files.client_ca +
                                        " holds no PEM certificate");
    }
  }
  return pems;
}

absl::Status WriteReplacing(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError("cannot replace " + path);
  }
  return absl::OkStatus();
}

absl::Status Install(const std::string& dir, const Pems& pems) {
  PARZEN_RETURN_IF_ERROR(WriteReplacing(dir + "/key.pem", pems.key));
  PARZEN_RETURN_IF_ERROR(WriteReplacing(dir + "/cert.pem", pems.cert));
  if (!pems.client_ca.empty()) {
    PARZEN_RETURN_IF_ERROR(WriteReplacing(dir + "/client_ca.pem", pems.client_ca));
  }
  return absl::OkStatus();
}

constexpr char kCopyPrefix[] = "parzen-tls-";
constexpr char kOwnerLock[] = "owner.lock";

// Removes the copies under `parent` whose owner lock can be taken. A copy
// without a lock file (made by an older server, or by another user) is not
// provably dead and stays.
void RemoveCopiesOfDeadServers(const std::string& parent) {
  std::error_code error;
  std::filesystem::directory_iterator entry(parent, error);
  for (; !error && entry != std::filesystem::directory_iterator(); entry.increment(error)) {
    const std::filesystem::path& copy = entry->path();
    if (!copy.filename().string().starts_with(kCopyPrefix) || entry->is_symlink(error) ||
        !entry->is_directory(error)) {
      continue;
    }
    const int lock = open((copy / kOwnerLock).c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (lock < 0) continue;
    if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
      std::error_code ignored;
      std::filesystem::remove_all(copy, ignored);
    }
    close(lock);
  }
}

// Creates `dir`'s owner lock already locked: it is locked under another
// name and renamed, so no server sweeping at the same time ever finds it
// unlocked. The descriptor, or -1.
int TakeOwnerLock(const std::string& dir) {
  const std::string unnamed = dir + "/" + kOwnerLock + ".new";
  const int lock = open(unnamed.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0) return -1;
  if (flock(lock, LOCK_EX) != 0 ||
      std::rename(unnamed.c_str(), (dir + "/" + kOwnerLock).c_str()) != 0) {
    close(lock);
    return -1;
  }
  return lock;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Open(Files files) {
  PARZEN_ASSIGN_OR_RETURN(Pems pems, ReadAndCheck(files));
  const char* tmpdir = getenv("TMPDIR");
  const std::string parent = tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp";
  RemoveCopiesOfDeadServers(parent);
  std::string pattern = parent + "/" + kCopyPrefix + "XXXXXX";
  // mkdtemp makes it 0700: the key's copy is the server's alone.
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError("cannot make a directory for the TLS files (" + pattern +
                                         "); set TMPDIR to a writable directory");
  }
  auto tls = std::make_unique<ServerTls>(std::move(files), pattern);
  tls->owner_lock_ = TakeOwnerLock(tls->dir_);
  if (tls->owner_lock_ < 0) {
    return absl::FailedPreconditionError("cannot lock the TLS files' directory " + tls->dir_);
  }
  PARZEN_RETURN_IF_ERROR(Install(tls->dir_, pems));
  tls->description_ = pems.description;
  return tls;
}

ServerTls::~ServerTls() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  if (owner_lock_ >= 0) close(owner_lock_);
}

std::shared_ptr<grpc::ServerCredentials> ServerTls::Credentials() const {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      dir_ + "/key.pem", dir_ + "/cert.pem", mutual() ? dir_ + "/client_ca.pem" : "",
      kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::Status ServerTls::Reload() {
  PARZEN_ASSIGN_OR_RETURN(Pems pems, ReadAndCheck(files_));
  PARZEN_RETURN_IF_ERROR(Install(dir_, pems));
  description_ = pems.description;
  return absl::OkStatus();
}

}  // namespace parzen
