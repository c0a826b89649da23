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

template <typename T>
absl::StatusOr<T> ParseNumber(const std::string& key, const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError("\"" + key + "\" must be a number, got \"" + text + "\"");
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
  for (const auto& [key, value] : spec.args) {
    if (key == "percentile" && !median) {
      PARZEN_ASSIGN_OR_RETURN(double p, ParseNumber<double>(key, value));
      percentile.set_percentile(p);
      has_percentile = true;
      continue;
    }
    PARZEN_ASSIGN_OR_RETURN(int64_t n, ParseNumber<int64_t>(key, value));
    if (key == "n_startup_trials") {
      percentile.set_n_startup_trials(n);
    } else if (key == "n_warmup_steps") {
      percentile.set_n_warmup_steps(n);
    } else if (key == "interval_steps") {
      percentile.set_interval_steps(n);
    } else if (key == "n_min_trials") {
      percentile.set_n_min_trials(n);
    } else {
      return absl::InvalidArgumentError(
          "unknown " + spec.kind + " pruner argument \"" + key +
          "\" (expected " + (median ? "" : "percentile, ") +
          "n_startup_trials, n_warmup_steps, interval_steps, n_min_trials)");
    }
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
    PARZEN_ASSIGN_OR_RETURN(uint64_t seed, ParseNumber<uint64_t>(key, value));
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
