#include "worker/mnist/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace parzen::mnist {
namespace {

std::vector<uint8_t> IdxBytes(uint8_t type, std::vector<uint32_t> dims, size_t data_bytes,
                              uint8_t fill = 7) {
  std::vector<uint8_t> out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back((d >> shift) & 0xff);
  }
  out.insert(out.end(), data_bytes, fill);
  return out;
}

void Write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

void WriteGz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

TEST(IdxTest, ReadsRawAndGzipFiles) {
  testing::TempDir dir;
  Write(dir.File("a"), IdxBytes(0x08, {2, 3, 4}, 24, 9));
  ASSERT_OK_AND_ASSIGN(IdxArray a, ReadIdx(dir.File("a")));
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.data, std::vector<uint8_t>(24, 9));
  WriteGz(dir.File("b.gz"), IdxBytes(0x08, {5}, 5, 3));
  ASSERT_OK_AND_ASSIGN(IdxArray b, ReadIdx(dir.File("b")));  // finds b.gz
  EXPECT_EQ(b.data, std::vector<uint8_t>(5, 3));
}

TEST(IdxTest, RejectsDamagedFilesWithClearErrors) {
  testing::TempDir dir;
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    absl::StatusCode code;
    const char* message;
  };
  std::vector<uint8_t> truncated = IdxBytes(0x08, {10, 28, 28}, 28 * 28 * 10);
  truncated.resize(truncated.size() - 100);
  const std::vector<Case> cases = {
      {"wrong magic", {1, 2, 8, 1, 0, 0, 0, 1, 5}, absl::StatusCode::kDataLoss, "magic"},
      {"float data", IdxBytes(0x0d, {1}, 4), absl::StatusCode::kDataLoss, "0x08"},
      {"truncated data", truncated, absl::StatusCode::kDataLoss, "truncated"},
      {"extra data", IdxBytes(0x08, {4}, 6), absl::StatusCode::kDataLoss, "should hold 4"},
      {"truncated header", {0, 0, 8, 3, 0, 0}, absl::StatusCode::kDataLoss, "header"},
      {"too short", {0, 0}, absl::StatusCode::kDataLoss, "too short"},
      {"zero dimensions", {0, 0, 8, 0}, absl::StatusCode::kDataLoss, "dimensions"},
      // 2^32-1 squared overflowed int64 before the size check (UBSan).
      {"sizes whose product overflows",
       {0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       absl::StatusCode::kDataLoss, "absurd sizes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.File("f" + std::to_string(&c - cases.data()));
    Write(path, c.bytes);
    absl::StatusOr<IdxArray> r = ReadIdx(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
  }
  EXPECT_EQ(ReadIdx(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST(IdxTest, SplitsMustAgreeOnCountAndHoldDigits) {
  testing::TempDir dir;
  Write(dir.File("train-images-idx3-ubyte"), IdxBytes(0x08, {3, 28, 28}, 3 * 784));
  Write(dir.File("train-labels-idx1-ubyte"), IdxBytes(0x08, {4}, 4, 1));
  absl::StatusOr<LabeledImages> mismatched = ReadMnistSplit(dir.path(), "train");
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("3 images but"), std::string::npos);
  Write(dir.File("train-labels-idx1-ubyte"), IdxBytes(0x08, {3}, 3, 12));
  absl::StatusOr<LabeledImages> bad_label = ReadMnistSplit(dir.path(), "train");
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.status().message().find("not a digit"), std::string::npos);
  Write(dir.File("train-labels-idx1-ubyte"), IdxBytes(0x08, {3}, 3, 4));
  ASSERT_OK_AND_ASSIGN(LabeledImages ok, ReadMnistSplit(dir.path(), "train"));
  EXPECT_EQ(ok.count, 3);
  EXPECT_EQ(ok.rows, 28);
}

}  // namespace
}  // namespace parzen::mnist
