// Assertions on absl::Status / StatusOr for GoogleTest.
#ifndef PARZEN_TESTS_TESTING_STATUS_MATCHERS_H_
#define PARZEN_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#include "common/status.h"

#define EXPECT_OK(expr) EXPECT_TRUE((expr).ok()) << ::parzen::testing_internal::ToStatus(expr)
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const auto& parzen_s_ = (expr);                         \
    ASSERT_TRUE(parzen_s_.ok()) << ::parzen::testing_internal::ToStatus(parzen_s_); \
  } while (0)

#define PARZEN_TEST_CONCAT_INNER_(a, b) a##b
#define PARZEN_TEST_CONCAT_(a, b) PARZEN_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(PARZEN_TEST_CONCAT_(parzen_sor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)          \
  auto tmp = (expr);                                        \
  ASSERT_TRUE(tmp.ok()) << tmp.status();                    \
  lhs = std::move(tmp).value()

namespace parzen::testing_internal {
inline const absl::Status& ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) { return s.status(); }
}  // namespace parzen::testing_internal

#endif  // PARZEN_TESTS_TESTING_STATUS_MATCHERS_H_
