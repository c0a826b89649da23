#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // Tests assert on behaviour; per-trial info lines would bury failures.
  spdlog::set_level(spdlog::level::warn);
  return RUN_ALL_TESTS();
}
