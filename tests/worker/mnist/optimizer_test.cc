// Parzen's optimizers against torch.optim, step for step: the weights after
// every step of SGD (plain, momentum with weight decay, Nesterov) and Adam
// (default and non-default betas, eps, weight decay), with the learning
// rate decayed as StepLR decays it, must be PyTorch's
// (torch_optimizer_table.inc, written by torch_optimizer_table.py from
// Debian's python3-torch). Any change to an update rule, the first-step
// momentum buffer, Adam's bias corrections or where weight decay enters
// breaks the match.
#include "worker/mnist/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace parzen::mnist {
namespace {

struct TorchCase {
  OptimizerConfig config;
  double gamma;                          // StepLR's, every kStepSize steps
  std::vector<std::vector<float>> path;  // the weights after every step
};

#include "tests/worker/mnist/torch_optimizer_table.inc"

TEST(OptimizerTest, StepsMatchTorchOptim) {
  ASSERT_EQ(kTorchCases.size(), 5u);  // as the script writes them
  for (const TorchCase& c : kTorchCases) {
    SCOPED_TRACE(::testing::Message()
                 << (c.config.kind == OptimizerKind::kSgd ? "sgd" : "adam") << " lr "
                 << c.config.lr << " momentum " << c.config.momentum << " nesterov "
                 << c.config.nesterov << " weight decay " << c.config.weight_decay);
    ASSERT_OK(ValidateOptimizerConfig(c.config));
    ASSERT_EQ(c.path.size(), static_cast<size_t>(kSteps));
    Optimizer optimizer(c.config);
    std::vector<float> w = kStart, g(w.size());
    double lr = c.config.lr;
    for (int step = 0; step < kSteps; ++step) {
      for (size_t i = 0; i < w.size(); ++i) g[i] = kCurvature[i] * (w[i] - kTarget[i]);
      optimizer.Step({ParameterSpan{w.data(), g.data(), w.size()}}, lr);
      if ((step + 1) % kStepSize == 0) lr *= c.gamma;
      for (size_t i = 0; i < w.size(); ++i) {
        const float expected = c.path[step][i];
        EXPECT_NEAR(w[i], expected, 1e-7 + 1e-6 * std::abs(expected))
            << "step " << step + 1 << ", weight " << i;
      }
    }
  }
}

}  // namespace
}  // namespace parzen::mnist
