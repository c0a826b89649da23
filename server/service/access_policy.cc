#include "server/service/access_policy.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

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

// Where the comment on `line` begins (npos: none): a `#` at its start or
// after a space or tab. Tokens hold no spaces, so one inside a token is
// part of it.
size_t CommentStart(const std::string& line) {
  for (size_t at = line.find('#'); at != std::string::npos; at = line.find('#', at + 1)) {
    if (at == 0 || line[at - 1] == ' ' || line[at - 1] == '\t') return at;
  }
  return std::string::npos;
}

}  // namespace

AccessPolicy::Digest AccessPolicy::DigestOf(std::string_view authorization) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(authorization.data()), authorization.size(),
         digest.data());
  return digest;
}

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
  policy.tokens_.push_back({DigestOf(kBearerPrefix + token), Role::kAdmin});
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
  std::set<Digest> seen;  // digests, so no second copy of the tokens lingers
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (const size_t comment = CommentStart(line); comment != std::string::npos) {
      line.resize(comment);
    }
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
    const Digest digest = DigestOf(kBearerPrefix + token);
    if (!seen.insert(digest).second) {
      return absl::InvalidArgumentError(where + ": this token is already on an earlier line");
    }
    policy.tokens_.push_back({digest, *role});
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
  const Digest digest = DigestOf(*presented);
  std::optional<Role> found;
  for (const Entry& entry : tokens_) {
    if (CRYPTO_memcmp(digest.data(), entry.digest.data(), digest.size()) == 0) {
      found = entry.role;
    }
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
