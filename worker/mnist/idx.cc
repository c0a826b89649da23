#include "worker/mnist/idx.h"

#include <zlib.h>

#include <filesystem>
#include <memory>

namespace parzen::mnist {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// Reads the whole file; gzread passes uncompressed files through unchanged,
// so one path serves both forms.
absl::StatusOr<std::vector<uint8_t>> ReadAll(const std::string& path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) return absl::UnavailableError("cannot open " + path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f.get(), buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      return absl::DataLossError(path + ": " + gzerror(f.get(), &err));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

}  // namespace

absl::StatusOr<IdxArray> ReadIdx(const std::string& path) {
  std::string actual = path;
  if (!std::filesystem::exists(actual)) {
    actual = path + ".gz";
    if (!std::filesystem::exists(actual)) {
      return absl::NotFoundError(path + " (or " + path + ".gz) does not exist; run "
                                 "scripts/fetch-mnist.sh");
    }
  }
  PARZEN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadAll(actual));
  if (bytes.size() < 4) {
    return absl::DataLossError(actual + " is " + std::to_string(bytes.size()) +
                               " bytes: too short for an IDX header");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    return absl::DataLossError(actual + " is not an IDX file (bad magic number)");
  }
  if (bytes[2] != kUnsignedByte) {
    return absl::DataLossError(actual + " holds IDX type 0x" + std::to_string(bytes[2]) +
                               "; only unsigned bytes (0x08) are supported");
  }
  const int n_dims = bytes[3];
  if (n_dims < 1 || n_dims > 4) {
    return absl::DataLossError(actual + " declares " + std::to_string(n_dims) +
                               " dimensions; expected 1 to 4");
  }
  const size_t header = 4 + 4 * static_cast<size_t>(n_dims);
  if (bytes.size() < header) return absl::DataLossError(actual + " is truncated in its header");
  IdxArray out;
  int64_t expected = 1;
  for (int d = 0; d < n_dims; ++d) {
    const uint8_t* p = &bytes[4 + 4 * d];
    const int64_t size = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    out.dims.push_back(size);
    // Checked before multiplying: two 32-bit sizes can already overflow
    // 64 bits (the IDX fuzz target found it).
    constexpr int64_t kMaxElements = int64_t{1} << 34;
    if (size != 0 && expected > kMaxElements / size) {
      return absl::DataLossError(actual + " declares absurd sizes");
    }
    expected *= size;
  }
  const auto have = static_cast<int64_t>(bytes.size() - header);
  if (have != expected) {
    return absl::DataLossError(actual + " should hold " + std::to_string(expected) +
                               " bytes of data after its header but holds " +
                               std::to_string(have) + (have < expected ? " (truncated)" : ""));
  }
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

absl::StatusOr<LabeledImages> ReadMnistSplit(const std::string& dir, const std::string& split) {
  const std::string images_path = dir + "/" + split + "-images-idx3-ubyte";
  const std::string labels_path = dir + "/" + split + "-labels-idx1-ubyte";
  PARZEN_ASSIGN_OR_RETURN(IdxArray images, ReadIdx(images_path));
  PARZEN_ASSIGN_OR_RETURN(IdxArray labels, ReadIdx(labels_path));
  if (images.dims.size() != 3) {
    return absl::DataLossError(images_path + " has " + std::to_string(images.dims.size()) +
                               " dimensions; images need 3 (count, rows, cols)");
  }
  if (labels.dims.size() != 1) {
    return absl::DataLossError(labels_path + " has " + std::to_string(labels.dims.size()) +
                               " dimensions; labels need 1");
  }
  if (images.dims[0] != labels.dims[0]) {
    return absl::DataLossError(images_path + " has " + std::to_string(images.dims[0]) +
                               " images but " + labels_path + " has " +
                               std::to_string(labels.dims[0]) + " labels");
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] > 9) {
      return absl::DataLossError(labels_path + ": label " + std::to_string(labels.data[i]) +
                                 " at index " + std::to_string(i) + " is not a digit 0-9");
    }
  }
  LabeledImages out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.pixels = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

}  // namespace parzen::mnist
