// Search-space files (parzen-worker --space, parzen ask --space). What
// parses has valid conditions and reads back from SearchSpaceToJson as
// the same space.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/search_space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<parzen::SearchSpace> space = parzen::ParseSearchSpace(text);
  if (!space.ok()) return 0;
  if (!parzen::ValidateConditions(*space).ok()) {
    std::fprintf(stderr, "a parsed space has invalid conditions\n");
    std::abort();
  }
  const std::string json = parzen::SearchSpaceToJson(*space);
  const absl::StatusOr<parzen::SearchSpace> again = parzen::ParseSearchSpace(json);
  if (!again.ok() || !(*again == *space)) {
    std::fprintf(stderr, "%s does not read back: %s\n", json.c_str(),
                 again.ok() ? "a different space" : again.status().ToString().c_str());
    std::abort();
  }
  return 0;
}
