// AccessToken: the shared secret a server can require of every caller.
// Callers send it as `authorization: Bearer <token>` metadata; a server
// started with a token answers any call without that exact value with
// UNAUTHENTICATED. No TLS here: on an untrusted network the token keeps
// strangers from changing studies, not eavesdroppers from reading it.
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

// Whether the `authorization` metadata value `presented` carries `token`.
// Takes the same time wherever the two first differ.
bool TokenMatches(std::string_view presented, std::string_view token);

}  // namespace parzen

#endif  // PARZEN_COMMON_ACCESS_TOKEN_H_
