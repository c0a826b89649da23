#include "worker/client/study_config.h"

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include <google/protobuf/util/json_util.h>

namespace parzen::client {
namespace {

struct Spec {
  std::string kind;
  std::map<std::string, std::string> args;
};

absl::StatusOr<Spec> SplitSpec(std::string_view text, std::string_view what) {
  Spec spec;
  const size_t colon = text.find(':');
  spec.kind = std::string(text.substr(0, colon));
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(std::string(what) + " \"" + std::string(text) +
                                        "\": expected name=value, got \"" + std::string(item) +
                                        "\"");
    }
    spec.args[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return spec;
}

// `what` says which numbers are taken: "a number", "an integer", ...
template <typename T>
absl::StatusOr<T> ParseNumber(const std::string& key, const std::string& text,
                              std::string_view what) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError("\"" + key + "\" must be " + std::string(what) +
                                      ", got \"" + text + "\"");
  }
  return value;
}

}  // namespace

absl::StatusOr<v1::PrunerConfig> ParsePrunerSpec(std::string_view text) {
  PARZEN_ASSIGN_OR_RETURN(Spec spec, SplitSpec(text, "pruner"));
  v1::PrunerConfig config;
  if (spec.kind == "nop") {
    config.mutable_nop();
    if (!spec.args.empty()) return absl::InvalidArgumentError("the nop pruner takes no arguments");
    return config;
  }
  if (spec.kind != "median" && spec.kind != "percentile") {
    return absl::InvalidArgumentError("unknown pruner \"" + spec.kind +
                                      "\" (expected median, percentile or nop)");
  }
  const bool median = spec.kind == "median";
  v1::PercentilePrunerConfig percentile;
  bool has_percentile = false;
  using Setter = void (v1::PercentilePrunerConfig::*)(int64_t);
  const std::map<std::string, Setter> integer_args = {
      {"n_startup_trials", &v1::PercentilePrunerConfig::set_n_startup_trials},
      {"n_warmup_steps", &v1::PercentilePrunerConfig::set_n_warmup_steps},
      {"interval_steps", &v1::PercentilePrunerConfig::set_interval_steps},
      {"n_min_trials", &v1::PercentilePrunerConfig::set_n_min_trials},
  };
  for (const auto& [key, value] : spec.args) {
    if (key == "percentile" && !median) {
      PARZEN_ASSIGN_OR_RETURN(double p, ParseNumber<double>(key, value, "a number"));
      percentile.set_percentile(p);
      has_percentile = true;
      continue;
    }
    // The name first: a misspelt one is the mistake to report, not its value.
    auto setter = integer_args.find(key);
    if (setter == integer_args.end()) {
      return absl::InvalidArgumentError(
          "unknown " + spec.kind + " pruner argument \"" + key +
          "\" (expected " + (median ? "" : "percentile, ") +
          "n_startup_trials, n_warmup_steps, interval_steps, n_min_trials)");
    }
    PARZEN_ASSIGN_OR_RETURN(int64_t n, ParseNumber<int64_t>(key, value, "an integer"));
    (percentile.*(setter->second))(n);
  }
  if (!median && !has_percentile) {
    return absl::InvalidArgumentError(
        "the percentile pruner needs percentile=P, e.g. \"percentile:percentile=25\"");
  }
  if (!median) {
    *config.mutable_percentile() = percentile;
    return config;
  }
  v1::MedianPrunerConfig* m = config.mutable_median();
  if (percentile.has_n_startup_trials()) m->set_n_startup_trials(percentile.n_startup_trials());
  if (percentile.has_n_warmup_steps()) m->set_n_warmup_steps(percentile.n_warmup_steps());
  if (percentile.has_interval_steps()) m->set_interval_steps(percentile.interval_steps());
  if (percentile.has_n_min_trials()) m->set_n_min_trials(percentile.n_min_trials());
  return config;
}

absl::StatusOr<v1::SamplerConfig> ParseSamplerSpec(std::string_view text) {
  PARZEN_ASSIGN_OR_RETURN(Spec spec, SplitSpec(text, "sampler"));
  if (spec.kind != "random") {
    return absl::InvalidArgumentError("unknown sampler \"" + spec.kind + "\" (expected random)");
  }
  v1::SamplerConfig config;
  v1::RandomSamplerConfig* random = config.mutable_random();
  for (const auto& [key, value] : spec.args) {
    if (key != "seed") {
      return absl::InvalidArgumentError("unknown random sampler argument \"" + key +
                                        "\" (expected seed)");
    }
    PARZEN_ASSIGN_OR_RETURN(uint64_t seed,
                            ParseNumber<uint64_t>(key, value, "an integer from 0 to 2^64-1"));
    random->set_seed(seed);
  }
  return config;
}

absl::StatusOr<v1::CreateStudyRequest> ReadStudyConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read the study config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  v1::CreateStudyRequest request;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &request);
  if (!status.ok()) {
    return absl::InvalidArgumentError("study config file " + path + ": " +
                                      std::string(status.message()));
  }
  return request;
}

}  // namespace parzen::client
