// Sampler and pruner spec strings ("tpe:n_startup_trials=5,seed=7"), as
// --sampler and --pruner take them; the first byte picks which. What
// parses formats back (FormatAlgorithmSpec) to a spec that parses to the
// same selection.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "client/study_config.h"
#include "common/algorithm_args.h"

namespace {

template <typename Parse>
void RoundTrip(std::string_view spec, Parse parse) {
  const auto parsed = parse(spec);
  if (!parsed.ok()) return;
  const std::string formatted = parzen::FormatAlgorithmSpec(*parsed);
  const auto again = parse(formatted);
  if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(*again, *parsed)) {
    std::fprintf(stderr, "\"%s\" formats as \"%s\", which %s\n", std::string(spec).c_str(),
                 formatted.c_str(),
                 again.ok() ? "parses differently" : again.status().ToString().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view spec(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    RoundTrip(spec, [](std::string_view s) { return parzen::client::ParsePrunerSpec(s); });
  } else {
    RoundTrip(spec, [](std::string_view s) { return parzen::client::ParseSamplerSpec(s); });
  }
  return 0;
}
