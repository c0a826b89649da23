// Network: the PyTorch MNIST example network built from oneDNN primitives,
// forward and backward. dnnl:: types stay inside network.cc.
//
// conv 1->C1 3x3, ReLU, conv C1->C2 3x3, ReLU, max-pool 2x2, dropout p1,
// fully connected -> F, ReLU, dropout p2, fully connected -> 10. The
// log-softmax and NLL loss are computed by the trainer on the 10 logits.
#ifndef PARZEN_WORKER_MNIST_NETWORK_H_
#define PARZEN_WORKER_MNIST_NETWORK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace parzen::mnist {

struct NetworkShape {
  int64_t conv1_channels = 32;
  int64_t conv2_channels = 64;
  int64_t fc_units = 128;
  double dropout1 = 0.25;
  double dropout2 = 0.5;
};

// fp32 everywhere, or bf16 activations and weights inside the convolutions
// and inner products with fp32 master weights, gradients and updates.
enum class Precision { kFp32, kBf16 };

// True when this CPU runs oneDNN's bf16 kernels natively (AVX512-BF16 or
// newer); elsewhere bf16 would be emulated, slower than fp32.
bool CpuHasNativeBf16();

// One learnable tensor in a plain layout (oihw / oi / x), with its
// gradient from the last Backward.
struct Parameter {
  std::string name;
  std::vector<int64_t> dims;
  std::vector<float> value;
  std::vector<float> grad;
};

// A parameter where the network keeps it, for element-wise updates:
// `value` and `grad` hold `size` floats in one element order (the
// primitives' layout, which need not be plain; padding stays zero).
struct ParameterSpan {
  float* value;
  const float* grad;
  size_t size;
};

// Not thread-safe; one per trial. Primitives and buffers are created once,
// for a fixed batch size.
class Network {
 public:
  virtual ~Network() = default;

  // Logits [batch, 10], row-major, valid until the next Forward. `images`
  // is [batch, 1, 28, 28], normalised. Dropout applies only when
  // `training`; its masks come from `dropout_seed`.
  virtual const float* Forward(const float* images, bool training, uint64_t dropout_seed) = 0;

  // Gradients of the loss for the last training Forward, given the
  // gradient of the loss with respect to its logits ([batch, 10]).
  virtual void Backward(const float* logits_grad) = 0;

  // Every parameter in a plain layout, with its gradient from the last
  // Backward; changes made through them are what the next Forward uses.
  // Layouts are converted on demand: for tests and inspection, not for
  // the training loop.
  virtual std::vector<Parameter>& parameters() = 0;
  // The same parameters, in the same order, where the primitives keep
  // them: what an optimizer updates after Backward. Valid until the next
  // call of parameters().
  virtual std::vector<ParameterSpan> OptimizerSpans() = 0;
  // The oneDNN kernel behind each primitive ("conv2 forward: jit:avx512_core"):
  // for logs, and to check that none fell back to oneDNN's reference code.
  virtual std::vector<std::string> Kernels() const = 0;
  virtual int64_t batch_size() const = 0;
};

// InvalidArgument for sizes that are not positive or dropout outside
// [0, 1); FailedPrecondition for bf16 on a CPU without native bf16;
// Internal when oneDNN cannot build a primitive (its message kept).
// Weights are initialised as PyTorch initialises Conv2d and Linear, from
// `seed`.
absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const NetworkShape& shape, int64_t batch,
                                                     uint64_t seed,
                                                     Precision precision = Precision::kFp32);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_NETWORK_H_
