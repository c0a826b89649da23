// Distribution JSON (Optuna's form, its legacy class names, the short
// {"type": ...} form) as a study's stored distributions and a search-space
// file's entries give it. What parses must be valid, survive
// DistributionToJson and back unchanged, and map every categorical choice
// to its own index.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/distribution.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<parzen::Distribution> parsed = parzen::DistributionFromJson(text);
  if (!parsed.ok()) return 0;
  const std::string json = parzen::DistributionToJson(*parsed);
  const absl::StatusOr<parzen::Distribution> again = parzen::DistributionFromJson(json);
  if (!again.ok() || !(*again == *parsed)) {
    std::fprintf(stderr, "%s does not read back: %s\n", json.c_str(),
                 again.ok() ? "a different distribution" : again.status().ToString().c_str());
    std::abort();
  }
  if (const auto* c = std::get_if<parzen::CategoricalDistribution>(&*parsed)) {
    for (size_t i = 0; i < c->choices.size(); ++i) {
      const auto internal = parzen::ToInternal(*parsed, c->choices[i]);
      if (!internal.ok() || *internal != static_cast<double>(i)) {
        std::fprintf(stderr, "choice %zu of %s maps to %s\n", i, json.c_str(),
                     internal.ok() ? std::to_string(*internal).c_str()
                                   : internal.status().ToString().c_str());
        std::abort();
      }
    }
  }
  return 0;
}
