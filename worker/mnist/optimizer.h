// Optimizers with PyTorch's update rules: SGD (momentum, Nesterov, weight
// decay) and Adam. They update Network parameters from their gradients.
#ifndef PARZEN_WORKER_MNIST_OPTIMIZER_H_
#define PARZEN_WORKER_MNIST_OPTIMIZER_H_

#include <vector>

#include "common/status.h"
#include "worker/mnist/network.h"

namespace parzen::mnist {

enum class OptimizerKind { kSgd, kAdam };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double lr = 0.01;
  double momentum = 0.0;   // SGD
  bool nesterov = false;   // SGD; needs momentum > 0
  double weight_decay = 0.0;
  double beta1 = 0.9;      // Adam
  double beta2 = 0.999;    // Adam
  double eps = 1e-8;       // Adam
};

// InvalidArgument for a negative or non-finite lr, momentum outside [0, 1),
// Nesterov without momentum, negative weight decay, betas outside [0, 1).
absl::Status ValidateOptimizerConfig(const OptimizerConfig& config);

// Keeps its state (momentum buffers, Adam moments) per parameter. Not
// thread-safe.
class Optimizer {
 public:
  explicit Optimizer(const OptimizerConfig& config) : config_(config) {}
  // One update of every parameter with learning rate `lr` (the schedule's).
  // The spans must come in the same order, with the same sizes, every step.
  void Step(const std::vector<ParameterSpan>& params, double lr);
  void Step(std::vector<Parameter>& params, double lr);

 private:
  const OptimizerConfig config_;
  std::vector<std::vector<float>> state1_, state2_;
  int64_t steps_ = 0;
};

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_OPTIMIZER_H_
