#include "worker/mnist/dataset.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>

namespace parzen::mnist {

Dataset MakeDataset(const LabeledImages& source, const std::vector<int64_t>& indices) {
  constexpr float kMean = 0.1307f, kStd = 0.3081f;
  Dataset out;
  out.count = static_cast<int64_t>(indices.size());
  out.images.resize(indices.size() * kImagePixels);
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const uint8_t* px = &source.pixels[indices[i] * kImagePixels];
    float* dst = &out.images[i * kImagePixels];
    for (int64_t p = 0; p < kImagePixels; ++p) dst[p] = (px[p] / 255.0f - kMean) / kStd;
    out.labels[i] = source.labels[indices[i]];
  }
  return out;
}

Dataset MakeDataset(const LabeledImages& source) {
  std::vector<int64_t> all(source.count);
  std::iota(all.begin(), all.end(), 0);
  return MakeDataset(source, all);
}

absl::StatusOr<SplitIndices> SplitTrainValidationIndices(int64_t count, int64_t train_size,
                                                         int64_t validation_size, uint64_t seed) {
  if (train_size < 1 || validation_size < 0 || train_size + validation_size > count) {
    return absl::InvalidArgumentError(
        "train size " + std::to_string(train_size) + " + validation size " +
        std::to_string(validation_size) + " must fit in the " + std::to_string(count) +
        " training images (train size >= 1)");
  }
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const auto train_end = order.begin() + train_size;
  return SplitIndices{{order.begin(), train_end}, {train_end, train_end + validation_size}};
}

absl::Status WriteSplitIndices(const SplitIndices& indices, const std::string& path) {
  std::ofstream out(path);
  for (const auto* part : {&indices.train, &indices.validation}) {
    for (int64_t i : *part) out << i << '\n';
  }
  if (!out.flush()) return absl::UnavailableError("cannot write " + path);
  return absl::OkStatus();
}

absl::StatusOr<TrainValidation> MakeTrainValidation(const LabeledImages& source,
                                                    const SplitIndices& indices) {
  if (source.rows != 28 || source.cols != 28) {
    return absl::InvalidArgumentError("images are " + std::to_string(source.rows) + "x" +
                                      std::to_string(source.cols) + "; the network needs 28x28");
  }
  return TrainValidation{MakeDataset(source, indices.train), MakeDataset(source, indices.validation)};
}

absl::StatusOr<TrainValidation> SplitTrainValidation(const LabeledImages& source,
                                                     int64_t train_size, int64_t validation_size,
                                                     uint64_t seed) {
  PARZEN_ASSIGN_OR_RETURN(const SplitIndices indices,
                          SplitTrainValidationIndices(source.count, train_size, validation_size,
                                                      seed));
  return MakeTrainValidation(source, indices);
}

}  // namespace parzen::mnist
