#include "cli/time_text.h"

#include <cstdio>
#include <ctime>

namespace parzen::cli {

std::string UtcMicrosText(int64_t us, char separator, const char* suffix) {
  const auto seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  const char format[] = {'%', 'Y', '-', '%', 'm', '-', '%', 'd', separator,
                         '%', 'H', ':', '%', 'M', ':', '%', 'S', '\0'};
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), format, &utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06lld%s", static_cast<long long>(us % 1'000'000),
                suffix);
  return buf;
}

}  // namespace parzen::cli
