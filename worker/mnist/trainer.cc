#include "worker/mnist/trainer.h"

#include <xmmintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include <oneapi/dnnl/dnnl.hpp>

namespace parzen::mnist {
namespace {

constexpr int64_t kClasses = 10;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

// Copies the images at order[begin, end) into `batch`, zero-padding the
// rows past the end so a fixed-size network can run a partial batch.
void Gather(const Dataset& data, const std::vector<int64_t>& order, int64_t begin, int64_t end,
            int64_t batch, std::vector<float>* images, std::vector<uint8_t>* labels) {
  images->assign(batch * kImagePixels, 0.0f);
  labels->assign(batch, 0);
  for (int64_t i = begin; i < end; ++i) {
    const int64_t src = order[i];
    std::copy_n(&data.images[src * kImagePixels], kImagePixels,
                &(*images)[(i - begin) * kImagePixels]);
    (*labels)[i - begin] = data.labels[src];
  }
}

// Late in training many gradients and momentum terms fall into the
// denormal range, where every float operation takes a slow microcode path
// (training slowed to half speed by epoch 5). Flush them to zero on this
// thread and every OpenMP thread oneDNN runs on, as GPUs and most training
// frameworks effectively do; the accuracy cost is nil at these magnitudes.
void FlushDenormalsToZero() {
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
#pragma omp parallel
  { _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero); }
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
}

}  // namespace

double SoftmaxCrossEntropy(const float* logits, const uint8_t* labels, int64_t rows,
                           int64_t batch, double divisor, float* grad, int64_t* correct) {
  double loss = 0;
  for (int64_t r = 0; r < batch; ++r) {
    const float* z = logits + r * kClasses;
    float* g = grad ? grad + r * kClasses : nullptr;
    if (r >= rows) {
      if (g) std::fill(g, g + kClasses, 0.0f);
      continue;
    }
    const float zmax = *std::max_element(z, z + kClasses);
    double sum = 0;
    for (int64_t c = 0; c < kClasses; ++c) sum += std::exp(double{z[c]} - zmax);
    const double log_sum = std::log(sum) + zmax;
    loss += log_sum - z[labels[r]];
    if (correct && std::max_element(z, z + kClasses) - z == labels[r]) ++*correct;
    if (g) {
      for (int64_t c = 0; c < kClasses; ++c) {
        const double softmax = std::exp(double{z[c]} - log_sum);
        g[c] = static_cast<float>((softmax - (c == labels[r] ? 1.0 : 0.0)) / divisor);
      }
    }
  }
  return loss;
}

absl::StatusOr<Evaluation> Evaluate(Network& network, const Dataset& data) try {
  const int64_t batch = network.batch_size();
  std::vector<int64_t> order(data.count);
  std::iota(order.begin(), order.end(), 0);
  std::vector<float> images;
  std::vector<uint8_t> labels;
  double loss = 0;
  int64_t correct = 0;
  const auto start = SteadyClock::now();
  for (int64_t begin = 0; begin < data.count; begin += batch) {
    const int64_t end = std::min(data.count, begin + batch);
    Gather(data, order, begin, end, batch, &images, &labels);
    const float* logits = network.Forward(images.data(), /*training=*/false, 0);
    loss += SoftmaxCrossEntropy(logits, labels.data(), end - begin, batch, 1.0, nullptr, &correct);
  }
  Evaluation e;
  if (data.count > 0) {
    e.loss = loss / static_cast<double>(data.count);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(data.count);
    e.images_per_s = static_cast<double>(data.count) / std::max(Seconds(start), 1e-9);
  }
  return e;
} catch (const dnnl::error& e) {
  return absl::InternalError(std::string("oneDNN failed while evaluating: ") + e.what());
}

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const Dataset& train,
                                  const Dataset& validation, const EpochCallback& on_epoch,
                                  const BatchCallback& on_batch) {
  PARZEN_RETURN_IF_ERROR(ValidateOptimizerConfig(config.optimizer));
  FlushDenormalsToZero();
  if (config.batch_size < 1 || config.epochs < 1) {
    return absl::InvalidArgumentError("batch size and epochs must be >= 1");
  }
  if (!(config.lr_gamma > 0) || !std::isfinite(config.lr_gamma)) {
    return absl::InvalidArgumentError("the learning-rate gamma must be > 0");
  }
  if (train.count < 1) return absl::InvalidArgumentError("the training set is empty");
  TrainResult result;
  PARZEN_ASSIGN_OR_RETURN(result.network,
                          MakeNetwork(config.shape, config.batch_size, config.seed,
                                      config.precision));
  Network& net = *result.network;
  Optimizer optimizer(config.optimizer);
  std::mt19937_64 rng(config.seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<int64_t> order(train.count);
  std::iota(order.begin(), order.end(), 0);
  std::vector<float> images, grad(config.batch_size * kClasses);
  std::vector<uint8_t> labels;
  const int64_t batches = (train.count + config.batch_size - 1) / config.batch_size;
  double lr = config.optimizer.lr;
  try {
    for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      const auto start = SteadyClock::now();
      double loss_sum = 0;
      for (int64_t b = 0; b < batches; ++b) {
        const int64_t begin = b * config.batch_size;
        const int64_t end = std::min(train.count, begin + config.batch_size);
        Gather(train, order, begin, end, config.batch_size, &images, &labels);
        const float* logits = net.Forward(images.data(), /*training=*/true, rng());
        // Mean over the real rows, as PyTorch's loss over a short last batch.
        loss_sum += SoftmaxCrossEntropy(logits, labels.data(), end - begin, config.batch_size,
                                        static_cast<double>(end - begin), grad.data(), nullptr);
        net.Backward(grad.data());
        optimizer.Step(net.OptimizerSpans(), lr);
        if (on_batch && !on_batch({epoch, b + 1, batches, &net})) {
          result.stopped_early = true;
          return result;
        }
      }
      EpochMetrics m;
      m.epoch = epoch;
      m.seconds = Seconds(start);
      m.train_loss = loss_sum / static_cast<double>(train.count);
      m.train_images_per_s = static_cast<double>(train.count) / std::max(m.seconds, 1e-9);
      PARZEN_ASSIGN_OR_RETURN(const Evaluation v, Evaluate(net, validation));
      m.validation_loss = v.loss;
      m.validation_accuracy = v.accuracy;
      result.epochs.push_back(m);
      lr *= config.lr_gamma;
      if (on_epoch && !on_epoch(m)) {
        result.stopped_early = epoch < config.epochs;
        break;
      }
    }
  } catch (const dnnl::error& e) {
    return absl::InternalError(std::string("oneDNN failed while training: ") + e.what());
  }
  return result;
}

}  // namespace parzen::mnist
