// The trainer's tunable hyper-parameters: their names, the built-in search
// space for MNIST, and how a trial's values become a TrainConfig.
#ifndef PARZEN_WORKER_MNIST_HYPERPARAMETERS_H_
#define PARZEN_WORKER_MNIST_HYPERPARAMETERS_H_

#include <map>
#include <string>

#include "common/distribution.h"
#include "common/search_space.h"
#include "common/status.h"
#include "worker/mnist/trainer.h"

namespace parzen::mnist {

// lr (log 1e-4..1e-1), momentum (0..0.99), optimizer {sgd, adam},
// batch_size {32, 64, 128, 256}, dropout1, dropout2, fc_units,
// conv1_channels, conv2_channels, weight_decay (log).
SearchSpace DefaultSearchSpace();

// InvalidArgument, before any trial runs, for a parameter the trainer does
// not know or a distribution that cannot produce values of its type (e.g.
// a float range for batch_size, choices other than sgd/adam for optimizer).
// The message lists the known names.
absl::Status CheckSearchSpace(const SearchSpace& space);

// `base` with every parameter in `params` applied. InvalidArgument for an
// unknown name or a value of the wrong type (enqueued trials bypass the
// search space, so this is checked again per trial); the trainer itself
// validates ranges.
absl::StatusOr<TrainConfig> ApplyHyperparameters(const std::map<std::string, ParamValue>& params,
                                                 TrainConfig base);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_HYPERPARAMETERS_H_
