#include "worker/mnist/dataset.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace parzen::mnist {
namespace {

// Images whose first pixel and label name their index.
LabeledImages Numbered(int64_t count) {
  LabeledImages images{count, 28, 28, std::vector<uint8_t>(count * kImagePixels, 0),
                       std::vector<uint8_t>(count)};
  for (int64_t i = 0; i < count; ++i) {
    images.pixels[i * kImagePixels] = static_cast<uint8_t>(i);
    images.labels[i] = static_cast<uint8_t>(i % 10);
  }
  return images;
}

TEST(DatasetTest, SplitIsSeededDisjointAndWhatTheIndicesSay) {
  const LabeledImages source = Numbered(200);
  ASSERT_OK_AND_ASSIGN(const SplitIndices indices, SplitTrainValidationIndices(200, 120, 50, 9));
  ASSERT_EQ(indices.train.size(), 120u);
  ASSERT_EQ(indices.validation.size(), 50u);
  std::set<int64_t> seen(indices.train.begin(), indices.train.end());
  seen.insert(indices.validation.begin(), indices.validation.end());
  EXPECT_EQ(seen.size(), 170u);  // no image in both, none twice
  EXPECT_GE(*seen.begin(), 0);
  EXPECT_LT(*seen.rbegin(), 200);

  ASSERT_OK_AND_ASSIGN(const SplitIndices again, SplitTrainValidationIndices(200, 120, 50, 9));
  EXPECT_EQ(again.train, indices.train);
  ASSERT_OK_AND_ASSIGN(const SplitIndices other, SplitTrainValidationIndices(200, 120, 50, 10));
  EXPECT_NE(other.train, indices.train);

  // The images the trainer gets are the ones the indices name, in order.
  ASSERT_OK_AND_ASSIGN(const TrainValidation split, SplitTrainValidation(source, 120, 50, 9));
  ASSERT_EQ(split.train.count, 120);
  ASSERT_EQ(split.validation.count, 50);
  const float first_pixel_of_zero = (0.0f - 0.1307f) / 0.3081f;
  for (int64_t k = 0; k < 120; ++k) {
    const int64_t i = indices.train[k];
    EXPECT_EQ(split.train.labels[k], i % 10);
    EXPECT_FLOAT_EQ(split.train.images[k * kImagePixels],
                    (static_cast<float>(i) / 255.0f - 0.1307f) / 0.3081f);
    EXPECT_FLOAT_EQ(split.train.images[k * kImagePixels + 1], first_pixel_of_zero);
  }
  EXPECT_EQ(split.validation.labels[49], indices.validation[49] % 10);
}

TEST(DatasetTest, WrittenSplitIsTheTrainingThenTheValidationIndices) {
  ASSERT_OK_AND_ASSIGN(const SplitIndices indices, SplitTrainValidationIndices(300, 200, 60, 4));
  const std::string path = ::testing::TempDir() + "/split.txt";
  ASSERT_OK(WriteSplitIndices(indices, path));
  std::ifstream in(path);
  std::vector<int64_t> read{std::istream_iterator<int64_t>(in), std::istream_iterator<int64_t>()};
  ASSERT_EQ(read.size(), 260u);
  EXPECT_EQ(std::vector<int64_t>(read.begin(), read.begin() + 200), indices.train);
  EXPECT_EQ(std::vector<int64_t>(read.begin() + 200, read.end()), indices.validation);
  EXPECT_EQ(WriteSplitIndices(indices, ::testing::TempDir() + "/no/such/dir/split.txt").code(),
            absl::StatusCode::kUnavailable);
}

TEST(DatasetTest, SplitsThatDoNotFitAreRefused) {
  EXPECT_FALSE(SplitTrainValidationIndices(100, 80, 21, 1).ok());
  EXPECT_FALSE(SplitTrainValidationIndices(100, 0, 10, 1).ok());
  EXPECT_FALSE(SplitTrainValidationIndices(100, 10, -1, 1).ok());
  EXPECT_TRUE(SplitTrainValidationIndices(100, 80, 20, 1).ok());
  LabeledImages wrong = Numbered(10);
  wrong.rows = 27;
  EXPECT_FALSE(SplitTrainValidation(wrong, 5, 5, 1).ok());
}

}  // namespace
}  // namespace parzen::mnist
