// AccessToken: the secret a caller proves itself with. Callers send it as
// `authorization: Bearer <token>` metadata; the server looks it up in its
// access policy (server/service/access_policy.h). Without TLS it travels
// in clear text.
#ifndef PARZEN_COMMON_ACCESS_TOKEN_H_
#define PARZEN_COMMON_ACCESS_TOKEN_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace parzen {

// The metadata key and the value prefix the token travels with.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// The token in `path`: its contents without surrounding whitespace. It must
// be 16 to 512 printable ASCII characters without spaces, so it can travel
// as metadata and is not trivially guessed.
absl::StatusOr<std::string> ReadAccessTokenFile(const std::string& path);

// OK when `token` is 16 to 512 printable ASCII characters without spaces;
// otherwise the error names `where` the token came from.
absl::Status CheckAccessToken(std::string_view token, const std::string& where);

}  // namespace parzen

#endif  // PARZEN_COMMON_ACCESS_TOKEN_H_
