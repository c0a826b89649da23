#include "worker/mnist/hyperparameters.h"

#include <cmath>
#include <functional>
#include <variant>

namespace parzen::mnist {
namespace {

enum class Kind { kReal, kInteger, kOptimizer, kBool };

struct Knob {
  const char* name;
  Kind kind;
  std::function<void(TrainConfig&, const ParamValue&)> apply;
};

double AsReal(const ParamValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return static_cast<double>(std::get<int64_t>(v));
}

int64_t AsInteger(const ParamValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  return static_cast<int64_t>(std::get<double>(v));
}

const std::vector<Knob>& Knobs() {
  static const std::vector<Knob> knobs{
      {"lr", Kind::kReal, [](TrainConfig& c, const ParamValue& v) { c.optimizer.lr = AsReal(v); }},
      {"momentum", Kind::kReal,
       [](TrainConfig& c, const ParamValue& v) { c.optimizer.momentum = AsReal(v); }},
      {"nesterov", Kind::kBool,
       [](TrainConfig& c, const ParamValue& v) { c.optimizer.nesterov = std::get<bool>(v); }},
      {"weight_decay", Kind::kReal,
       [](TrainConfig& c, const ParamValue& v) { c.optimizer.weight_decay = AsReal(v); }},
      {"optimizer", Kind::kOptimizer,
       [](TrainConfig& c, const ParamValue& v) {
         c.optimizer.kind =
             std::get<std::string>(v) == "adam" ? OptimizerKind::kAdam : OptimizerKind::kSgd;
       }},
      {"lr_gamma", Kind::kReal, [](TrainConfig& c, const ParamValue& v) { c.lr_gamma = AsReal(v); }},
      {"batch_size", Kind::kInteger,
       [](TrainConfig& c, const ParamValue& v) { c.batch_size = AsInteger(v); }},
      {"dropout1", Kind::kReal,
       [](TrainConfig& c, const ParamValue& v) { c.shape.dropout1 = AsReal(v); }},
      {"dropout2", Kind::kReal,
       [](TrainConfig& c, const ParamValue& v) { c.shape.dropout2 = AsReal(v); }},
      {"fc_units", Kind::kInteger,
       [](TrainConfig& c, const ParamValue& v) { c.shape.fc_units = AsInteger(v); }},
      {"conv1_channels", Kind::kInteger,
       [](TrainConfig& c, const ParamValue& v) { c.shape.conv1_channels = AsInteger(v); }},
      {"conv2_channels", Kind::kInteger,
       [](TrainConfig& c, const ParamValue& v) { c.shape.conv2_channels = AsInteger(v); }},
  };
  return knobs;
}

const Knob* FindKnob(const std::string& name) {
  for (const Knob& k : Knobs()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::string KnownNames() {
  std::string out;
  for (const Knob& k : Knobs()) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// Empty when `value` fits `kind`, else what was expected.
std::string CheckValue(Kind kind, const ParamValue& value) {
  switch (kind) {
    case Kind::kReal:
      if (std::holds_alternative<double>(value) || std::holds_alternative<int64_t>(value)) {
        return "";
      }
      return "a number";
    case Kind::kInteger:
      if (std::holds_alternative<int64_t>(value)) return "";
      if (const auto* d = std::get_if<double>(&value); d && std::floor(*d) == *d) return "";
      return "an integer";
    case Kind::kOptimizer:
      if (const auto* s = std::get_if<std::string>(&value); s && (*s == "sgd" || *s == "adam")) {
        return "";
      }
      return "\"sgd\" or \"adam\"";
    case Kind::kBool:
      if (std::holds_alternative<bool>(value)) return "";
      return "true or false";
  }
  return "";
}

}  // namespace

SearchSpace DefaultSearchSpace() {
  using F = FloatDistribution;
  using I = IntDistribution;
  auto choices = [](std::vector<ParamValue> c) { return CategoricalDistribution{std::move(c)}; };
  return {
      {"lr", F{1e-4, 1e-1, true, std::nullopt}},
      {"optimizer", choices({std::string("sgd"), std::string("adam")})},
      // Adam has no momentum of this kind: only SGD trials get one.
      {"momentum", F{0.0, 0.99, false, std::nullopt},
       Condition{"optimizer", {std::string("sgd")}}},
      {"batch_size", choices({int64_t{32}, int64_t{64}, int64_t{128}, int64_t{256}})},
      {"dropout1", F{0.0, 0.5, false, std::nullopt}},
      {"dropout2", F{0.0, 0.7, false, std::nullopt}},
      {"fc_units", I{32, 256, true, 1}},
      {"conv1_channels", I{8, 32, false, 8}},
      {"conv2_channels", I{16, 64, false, 16}},
      {"weight_decay", F{1e-6, 1e-2, true, std::nullopt}},
  };
}

absl::Status CheckSearchSpace(const SearchSpace& space) {
  for (const SearchSpaceEntry& entry : space) {
    const Knob* knob = FindKnob(entry.name);
    if (knob == nullptr) {
      return absl::InvalidArgumentError("search space: the MNIST trainer has no parameter \"" +
                                        entry.name + "\" (known: " + KnownNames() + ")");
    }
    std::string expected;
    if (const auto* c = std::get_if<CategoricalDistribution>(&entry.distribution)) {
      for (const ParamValue& choice : c->choices) {
        expected = CheckValue(knob->kind, choice);
        if (!expected.empty()) break;
      }
    } else if (knob->kind == Kind::kInteger &&
               std::holds_alternative<FloatDistribution>(entry.distribution)) {
      expected = "an integer (use an int distribution)";
    } else if (knob->kind == Kind::kOptimizer || knob->kind == Kind::kBool) {
      expected = knob->kind == Kind::kBool ? "true or false (use categorical)"
                                           : "\"sgd\" or \"adam\" (use categorical)";
    }
    if (!expected.empty()) {
      return absl::InvalidArgumentError("search space: parameter \"" + entry.name +
                                        "\" must take " + expected + ", got " +
                                        FormatDistribution(entry.distribution));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainConfig> ApplyHyperparameters(const std::map<std::string, ParamValue>& params,
                                                 TrainConfig base) {
  for (const auto& [name, value] : params) {
    const Knob* knob = FindKnob(name);
    if (knob == nullptr) {
      return absl::InvalidArgumentError("the MNIST trainer has no parameter \"" + name +
                                        "\" (known: " + KnownNames() + ")");
    }
    if (std::string expected = CheckValue(knob->kind, value); !expected.empty()) {
      return absl::InvalidArgumentError("parameter \"" + name + "\" must be " + expected +
                                        ", got " + FormatValue(value));
    }
    knob->apply(base, value);
  }
  return base;
}

}  // namespace parzen::mnist
