#include "server/samplers/grid_sampler.h"

#include <charconv>
#include <cmath>
#include <unordered_set>

#include "server/samplers/rng.h"

namespace parzen {
namespace {

// The point a trial holds, if any.
std::optional<int64_t> GridIdOf(const std::map<std::string, std::string>& system_attrs) {
  auto it = system_attrs.find(kGridIdAttr);
  if (it == system_attrs.end()) return std::nullopt;
  int64_t id;
  const std::string& text = it->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

absl::StatusOr<ParamValue> FromJsonValue(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      if (!std::isfinite(v.number_value())) break;
      return ParamValue(v.number_value());
    case google::protobuf::Value::kStringValue: return ParamValue(v.string_value());
    case google::protobuf::Value::kBoolValue: return ParamValue(v.bool_value());
    default: break;
  }
  return absl::InvalidArgumentError("grid values must be numbers, strings or booleans");
}

std::string Names(const std::map<std::string, std::vector<ParamValue>>& axes) {
  std::string out;
  for (const auto& [name, values] : axes) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

GridSampler::GridSampler(const v1::GridSamplerConfig& options) : seed_(options.seed()) {
  for (const auto& [name, list] : options.search_space()) {
    std::vector<ParamValue>& axis = axes_[name];
    for (const google::protobuf::Value& v : list.values()) axis.push_back(*FromJsonValue(v));
    num_points_ *= static_cast<int64_t>(axis.size());
  }
}

absl::StatusOr<double> GridSampler::ValueAt(int64_t id, const std::string& name,
                                            const Distribution& distribution) const {
  auto axis = axes_.find(name);
  if (axis == axes_.end()) {
    return absl::InvalidArgumentError("parameter '" + name +
                                      "' is not in the grid sampler's search space (it has " +
                                      Names(axes_) + ")");
  }
  // Mixed radix, the last name varying fastest.
  int64_t stride = 1;
  for (auto it = std::next(axis); it != axes_.end(); ++it) {
    stride *= static_cast<int64_t>(it->second.size());
  }
  const auto& values = axis->second;
  const ParamValue& value = values[(id / stride) % static_cast<int64_t>(values.size())];
  absl::StatusOr<double> internal = ToInternal(distribution, value);
  if (!internal.ok() || !Contains(distribution, *internal)) {
    return absl::InvalidArgumentError("grid value " + FormatValue(value) + " of parameter '" +
                                      name + "' is not in its distribution " +
                                      FormatDistribution(distribution));
  }
  return *internal;
}

absl::StatusOr<RelativeSample> GridSampler::SampleRelative(const StudyHistory& study,
                                                           const FrozenTrial& trial,
                                                           const SearchSpace& space) const {
  std::unordered_set<int64_t> taken;
  for (int64_t n = 0; n < study.num_trials(); ++n) {
    if (std::optional<int64_t> id = GridIdOf(study.trial(n).system_attrs)) taken.insert(*id);
  }
  if (static_cast<int64_t>(taken.size()) >= num_points_) {
    return absl::OutOfRangeError("study budget reached: every one of the grid's " +
                                 std::to_string(num_points_) + " points has been handed out");
  }
  // At random among the free points: a few blind draws while most are
  // free, else the k-th free one.
  Rng rng(DrawSeed(seed_, trial.number, "grid"));
  int64_t id = -1;
  for (int attempt = 0; attempt < 16 && id < 0; ++attempt) {
    const auto draw = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(num_points_)));
    if (!taken.contains(draw)) id = draw;
  }
  if (id < 0) {
    auto k = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(num_points_) - taken.size()));
    for (id = 0;; ++id) {
      if (!taken.contains(id) && k-- == 0) break;
    }
  }
  RelativeSample out;
  for (const SearchSpaceEntry& entry : space) {
    PARZEN_ASSIGN_OR_RETURN(out.params[entry.name], ValueAt(id, entry.name, entry.distribution));
  }
  out.system_attrs[kGridIdAttr] = std::to_string(id);
  return out;
}

absl::StatusOr<double> GridSampler::SampleIndependent(const StudyHistory&, const FrozenTrial& trial,
                                                      const std::string& name,
                                                      const Distribution& distribution) const {
  std::optional<int64_t> id = GridIdOf(trial.system_attrs);
  if (!id) {
    return absl::InvalidArgumentError(
        "trial " + std::to_string(trial.number) + " has no grid point (it was enqueued): with the "
        "grid sampler an enqueued trial must fix every parameter, so '" + name + "' is missing");
  }
  return ValueAt(*id, name, distribution);
}

absl::Status GridSampler::ConfirmClaims(const StudyHistory& now,
                                        const std::map<std::string, std::string>& system_attrs) const {
  std::optional<int64_t> claimed = GridIdOf(system_attrs);
  if (!claimed) return absl::OkStatus();
  for (int64_t n = 0; n < now.num_trials(); ++n) {
    if (GridIdOf(now.trial(n).system_attrs) == claimed) {
      return absl::AbortedError("grid point " + std::to_string(*claimed) + " was taken by trial " +
                                std::to_string(n) + " meanwhile");
    }
  }
  return absl::OkStatus();
}

Plugin<Sampler> GridSamplerPlugin() {
  return MakePlugin<Sampler, v1::GridSamplerConfig>(
      "grid",
      [](v1::GridSamplerConfig& options, uint64_t seed) -> absl::Status {
        if (!options.has_seed()) options.set_seed(seed);
        if (options.search_space().empty()) {
          return absl::InvalidArgumentError("search_space is required: each parameter's values");
        }
        double points = 1;
        for (const auto& [name, list] : options.search_space()) {
          PARZEN_RETURN_IF_ERROR(ValidateParamName(name));
          if (list.values().empty()) {
            return absl::InvalidArgumentError("search_space: parameter '" + name +
                                              "' has no values");
          }
          for (const google::protobuf::Value& v : list.values()) {
            absl::StatusOr<ParamValue> value = FromJsonValue(v);
            if (!value.ok()) {
              return absl::InvalidArgumentError("search_space: parameter '" + name + "': " +
                                                std::string(value.status().message()));
            }
          }
          points *= static_cast<double>(list.values().size());
        }
        if (points > static_cast<double>(kMaxGridPoints)) {
          return absl::InvalidArgumentError("search_space: the grid has " +
                                            std::to_string(points) + " points; the limit is " +
                                            std::to_string(kMaxGridPoints));
        }
        return absl::OkStatus();
      },
      [](const v1::GridSamplerConfig& options) { return std::make_unique<GridSampler>(options); });
}

}  // namespace parzen
