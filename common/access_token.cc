#include "common/access_token.h"

#include <fstream>

namespace parzen {

absl::StatusOr<std::string> ReadAccessTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read token file " + path);
  // Bounded, so a wrong path such as /dev/zero fails instead of hanging.
  std::string token(4096, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<size_t>(in.gcount()));
  const size_t begin = token.find_first_not_of(" \t\r\n");
  const size_t end = token.find_last_not_of(" \t\r\n");
  token = begin == std::string::npos ? "" : token.substr(begin, end - begin + 1);
  PARZEN_RETURN_IF_ERROR(CheckAccessToken(token, "token file " + path));
  return token;
}

absl::Status CheckAccessToken(std::string_view token, const std::string& where) {
  if (token.size() < 16 || token.size() > 512) {
    return absl::InvalidArgumentError(where + " must hold 16 to 512 characters, not " +
                                      std::to_string(token.size()) +
                                      " (make one with: head -c 24 /dev/urandom | base64)");
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(where + " may hold only printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

}  // namespace parzen
