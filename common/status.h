// Status values used everywhere inside Parzen: absl::Status / absl::StatusOr
// with canonical codes, plus the two propagation macros Debian's abseil lacks.
#ifndef PARZEN_COMMON_STATUS_H_
#define PARZEN_COMMON_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PARZEN_STATUS_CONCAT_INNER_(a, b) a##b
#define PARZEN_STATUS_CONCAT_(a, b) PARZEN_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` is not OK.
#define PARZEN_RETURN_IF_ERROR(expr)        \
  do {                                      \
    const absl::Status parzen_status_ = (expr); \
    if (!parzen_status_.ok()) return parzen_status_; \
  } while (0)

// `lhs = value of expr`, or returns its status.
#define PARZEN_ASSIGN_OR_RETURN(lhs, expr) \
  PARZEN_ASSIGN_OR_RETURN_IMPL_(PARZEN_STATUS_CONCAT_(parzen_or_, __LINE__), lhs, expr)
#define PARZEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#endif  // PARZEN_COMMON_STATUS_H_
