// The training loop: mini-batch SGD/Adam over a Dataset with a step
// learning-rate schedule, validation after every epoch.
#ifndef PARZEN_WORKER_MNIST_TRAINER_H_
#define PARZEN_WORKER_MNIST_TRAINER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"
#include "worker/mnist/dataset.h"
#include "worker/mnist/network.h"
#include "worker/mnist/optimizer.h"

namespace parzen::mnist {

struct TrainConfig {
  NetworkShape shape;
  Precision precision = Precision::kFp32;
  OptimizerConfig optimizer;
  int64_t batch_size = 64;
  int64_t epochs = 1;
  double lr_gamma = 1.0;  // StepLR: lr *= gamma after every epoch
  uint64_t seed = 1;
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0;
  double validation_loss = 0;
  double validation_accuracy = 0;
  double train_images_per_s = 0;
  double seconds = 0;
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  double images_per_s = 0;
};

// Called after every epoch; returning false stops training (pruning).
using EpochCallback = std::function<bool(const EpochMetrics&)>;
struct BatchProgress {
  int64_t epoch = 0;  // 1-based
  int64_t batch = 0;  // 1-based, within the epoch
  int64_t batches_per_epoch = 0;
  // The network after this batch's update, e.g. for a mid-epoch Evaluate;
  // valid during the call only.
  Network* network = nullptr;
};

// Called after every batch; returning false stops training at once (a
// signal, a lost trial, a prune decision taken between epochs).
using BatchCallback = std::function<bool(const BatchProgress&)>;

struct TrainResult {
  std::unique_ptr<Network> network;
  std::vector<EpochMetrics> epochs;
  bool stopped_early = false;  // a callback stopped it before the last epoch ended
};

// InvalidArgument for a bad configuration; Internal when oneDNN fails
// (dnnl::error never escapes). Deterministic for a given seed and thread
// count.
absl::StatusOr<TrainResult> Train(const TrainConfig& config, const Dataset& train,
                                  const Dataset& validation, const EpochCallback& on_epoch,
                                  const BatchCallback& on_batch = {});

// Mean NLL loss and accuracy of `network` on `data` (no dropout). Internal
// when oneDNN fails (dnnl::error never escapes).
absl::StatusOr<Evaluation> Evaluate(Network& network, const Dataset& data);

// Log-softmax + NLL over `rows` logits rows of a batch: returns the summed
// loss and writes d(mean loss)/d(logits) scaled by 1/`divisor` into `grad`
// (may be null). Rows past `rows` get zero gradient.
double SoftmaxCrossEntropy(const float* logits, const uint8_t* labels, int64_t rows,
                           int64_t batch, double divisor, float* grad, int64_t* correct);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_TRAINER_H_
