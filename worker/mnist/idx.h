// Reading MNIST-style IDX files (raw or gzip-compressed), with the checks
// that turn a truncated or foreign file into a clear error.
#ifndef PARZEN_WORKER_MNIST_IDX_H_
#define PARZEN_WORKER_MNIST_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace parzen::mnist {

// An IDX file of unsigned bytes: its dimensions and data, row-major.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads `path`, or `path` + ".gz" when only that exists. Accepts only the
// unsigned-byte type (0x08) and 1 to 4 dimensions. NotFound when neither
// file exists; DataLoss, naming the file and what is wrong, for a bad magic
// number, a wrong data type, or a size that disagrees with the header.
absl::StatusOr<IdxArray> ReadIdx(const std::string& path);

// Images (N x rows x cols) and labels (N) of one split, checked against each
// other: same N, labels 0-9. `prefix` is e.g. "data/train" for
// train-images-idx3-ubyte / train-labels-idx1-ubyte in "data".
struct LabeledImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols
  std::vector<uint8_t> labels;  // count
};
absl::StatusOr<LabeledImages> ReadMnistSplit(const std::string& dir, const std::string& split);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_IDX_H_
