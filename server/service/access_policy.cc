#include "server/service/access_policy.h"

#include <fstream>
#include <set>
#include <sstream>

#include "common/access_token.h"

namespace parzen {
namespace {

// Bounded, so a wrong path such as /dev/zero fails instead of hanging.
constexpr size_t kMaxTokensFileBytes = 1 << 20;

std::optional<Role> RoleFromName(std::string_view name) {
  if (name == "read") return Role::kRead;
  if (name == "worker") return Role::kWorker;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

absl::StatusOr<AccessPolicy> AccessPolicy::FromTokenFile(const std::string& path) {
  PARZEN_ASSIGN_OR_RETURN(std::string token, ReadAccessTokenFile(path));
  AccessPolicy policy;
  policy.tokens_.push_back({std::move(token), Role::kAdmin});
  return policy;
}

absl::StatusOr<AccessPolicy> AccessPolicy::FromTokensFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read tokens file " + path);
  std::string text(kMaxTokensFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxTokensFileBytes) {
    return absl::InvalidArgumentError("tokens file " + path + " is larger than 1 MiB");
  }
  AccessPolicy policy;
  std::set<std::string> seen;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string role_name, token, extra;
    if (!(fields >> role_name)) continue;  // blank or comment
    const std::string where = path + " line " + std::to_string(number);
    const std::optional<Role> role = RoleFromName(role_name);
    if (!role) {
      return absl::InvalidArgumentError(where + ": the role must be read, worker or admin");
    }
    if (!(fields >> token) || (fields >> extra)) {
      return absl::InvalidArgumentError(where + ": expected `ROLE TOKEN`");
    }
    PARZEN_RETURN_IF_ERROR(CheckAccessToken(token, "the token on " + where));
    if (!seen.insert(token).second) {
      return absl::InvalidArgumentError(where + ": this token is already on an earlier line");
    }
    policy.tokens_.push_back({std::move(token), *role});
  }
  if (policy.tokens_.empty()) {
    return absl::InvalidArgumentError("tokens file " + path +
                                      " holds no tokens (one `ROLE TOKEN` per line)");
  }
  return policy;
}

absl::StatusOr<Role> AccessPolicy::Authenticate(
    std::optional<std::string_view> presented) const {
  if (open()) return Role::kAdmin;
  if (!presented) {
    return absl::UnauthenticatedError(
        "this server requires an access token; give the client its token file (--token-file)");
  }
  // No early exit: every token is compared whichever matches.
  std::optional<Role> found;
  for (const Entry& entry : tokens_) {
    if (TokenMatches(*presented, entry.token)) found = entry.role;
  }
  if (!found) return absl::UnauthenticatedError("the access token is not one this server accepts");
  return *found;
}

absl::Status AccessPolicy::Permit(Role role, Role needed, std::string_view method) {
  if (role >= needed) return absl::OkStatus();
  return absl::PermissionDeniedError(std::string(method) + " needs a token with the " +
                                     std::string(RoleName(needed)) + " role; this one has " +
                                     std::string(RoleName(role)));
}

}  // namespace parzen
