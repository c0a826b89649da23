// Datasets as the trainer consumes them: normalised float images and labels,
// and the seeded train/validation split of the 60,000 training images.
#ifndef PARZEN_WORKER_MNIST_DATASET_H_
#define PARZEN_WORKER_MNIST_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/mnist/idx.h"

namespace parzen::mnist {

inline constexpr int64_t kImagePixels = 28 * 28;

struct Dataset {
  int64_t count = 0;
  std::vector<float> images;    // count x 1 x 28 x 28, normalised as PyTorch's example
  std::vector<uint8_t> labels;  // count
};

// The images at `indices`, normalised with MNIST's mean 0.1307 and std 0.3081.
// REQUIRES: 28x28 images, indices in range.
Dataset MakeDataset(const LabeledImages& source, const std::vector<int64_t>& indices);

// All of `source`, in order.
Dataset MakeDataset(const LabeledImages& source);

struct TrainValidation {
  Dataset train;
  Dataset validation;
};

struct SplitIndices {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

// A seeded random split of `count` images: the first `train_size` of a
// permutation train, the next `validation_size` validate. InvalidArgument
// when the sizes do not fit.
absl::StatusOr<SplitIndices> SplitTrainValidationIndices(int64_t count, int64_t train_size,
                                                         int64_t validation_size, uint64_t seed);

// Writes the training, then the validation indices, one per line, for a
// reference trainer to use the same images (bench/torch_mnist.py
// --split-file). Unavailable when the file cannot be written.
absl::Status WriteSplitIndices(const SplitIndices& indices, const std::string& path);

// The images `indices` name, for a caller that keeps the indices too (to
// write them out). InvalidArgument when the images are not 28x28.
// REQUIRES: indices below source.count.
absl::StatusOr<TrainValidation> MakeTrainValidation(const LabeledImages& source,
                                                    const SplitIndices& indices);

// MakeTrainValidation of SplitTrainValidationIndices(source.count, ...).
absl::StatusOr<TrainValidation> SplitTrainValidation(const LabeledImages& source,
                                                     int64_t train_size, int64_t validation_size,
                                                     uint64_t seed);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_DATASET_H_
