// AccessPolicy: which tokens a server accepts and what each may do. Roles
// nest: `read` calls Get/List/Watch; `worker` also runs trials (Ask,
// Suggest, Report, Tell, Heartbeat, attributes) and opens existing studies;
// `admin` also creates and deletes studies, enqueues trials and takes
// backups. A policy with no tokens lets every caller do everything.
#ifndef PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_
#define PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_

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
  // A tokens file (--tokens-file): one `ROLE TOKEN` pair per line, `#`
  // starts a comment. Each token as ReadAccessTokenFile wants it; no token
  // twice, at least one line.
  static absl::StatusOr<AccessPolicy> FromTokensFile(const std::string& path);

  bool open() const { return tokens_.empty(); }
  size_t size() const { return tokens_.size(); }

  // The role of the caller whose `authorization` metadata is `presented`
  // (nullopt: none sent). UNAUTHENTICATED for a missing or unknown token.
  // Compares against every token, each in constant time, so the time taken
  // says nothing about which token, or how much of one, matched.
  absl::StatusOr<Role> Authenticate(std::optional<std::string_view> presented) const;

  // OK when `role` includes `needed`; PERMISSION_DENIED naming both otherwise.
  static absl::Status Permit(Role role, Role needed, std::string_view method);

 private:
  struct Entry {
    std::string token;
    Role role;
  };
  std::vector<Entry> tokens_;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_ACCESS_POLICY_H_
