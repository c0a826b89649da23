// IDX files, raw or gzip-compressed, as parzen-worker reads MNIST. What
// reads has 1 to 4 dimensions whose product is the data's size.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "worker/mnist/idx.h"

namespace {

// ReadIdx takes a path: one file per process, rewritten for each input
// and removed at exit.
struct InputFile {
  const std::string path = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                           std::string("/parzen-idx-fuzz-") + std::to_string(getpid());
  ~InputFile() { std::remove(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const InputFile file;
  const std::string& path = file.path;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  const absl::StatusOr<parzen::mnist::IdxArray> idx = parzen::mnist::ReadIdx(path);
  if (!idx.ok()) return 0;
  int64_t elements = 1;
  for (int64_t d : idx->dims) elements *= d;
  if (idx->dims.empty() || idx->dims.size() > 4 ||
      elements != static_cast<int64_t>(idx->data.size())) {
    std::fprintf(stderr, "%zu dimensions, %lld elements, %zu bytes of data\n", idx->dims.size(),
                 static_cast<long long>(elements), idx->data.size());
    std::abort();
  }
  return 0;
}
