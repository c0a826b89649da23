// AccessPolicy: which tokens a server accepts and what each may do. Roles
// nest: `read` calls Get/List/Watch; `worker` also runs trials (Ask,
// Suggest, Report, Tell, Heartbeat, attributes) and opens existing studies;
// `admin` also creates and deletes studies, enqueues trials and takes
// backups. A policy with no tokens lets every caller do everything.
#ifndef PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_
#define PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace parzen {

enum class Role { kRead = 0, kWorker = 1, kAdmin = 2 };

// "read", "worker", "admin".
std::string_view RoleName(Role role);

class AccessPolicy {
 public:
  // Open: no token required.
  AccessPolicy() = default;
  // One token with every role (the server's --token-file).
  static absl::StatusOr<AccessPolicy> FromTokenFile(const std::string& path);
  // A tokens file (--tokens-file): one `ROLE TOKEN` pair per line; a `#`
  // at the start of a line or after a space starts a comment (inside a
  // token it is part of it). Each token as ReadAccessTokenFile wants it; no
  // token twice, at least one line.
  static absl::StatusOr<AccessPolicy> FromTokensFile(const std::string& path);

  bool open() const { return tokens_.empty(); }
  size_t size() const { return tokens_.size(); }

  // The role of the caller whose `authorization` metadata is `presented`
  // (nullopt: none sent). UNAUTHENTICATED for a missing or unknown token.
  // Compares digests: the presented value's SHA-256 with every token's, each
  // in constant time, so the time taken says nothing about which token
  // matched, how much of one, or how long any is.
  absl::StatusOr<Role> Authenticate(std::optional<std::string_view> presented) const;

  // OK when `role` includes `needed`; PERMISSION_DENIED naming both otherwise.
  static absl::Status Permit(Role role, Role needed, std::string_view method);

 private:
  using Digest = std::array<unsigned char, 32>;
  // SHA-256 of an `authorization` value ("Bearer <token>").
  static Digest DigestOf(std::string_view authorization);
  struct Entry {
    Digest digest;
    Role role;
  };
  std::vector<Entry> tokens_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_
