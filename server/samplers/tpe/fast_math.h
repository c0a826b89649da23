// Elementary functions for the loops an Ask's densities spend their time
// in, written so that the compiler vectorises them: a few multiplies and
// bit operations where a call to libm would keep each loop scalar.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_FAST_MATH_H_
#define PARZEN_SERVER_SAMPLERS_TPE_FAST_MATH_H_

#include <bit>
#include <cmath>
#include <cstdint>

// Each hot loop is built twice, for CPUs with AVX2 and FMA and for any
// x86-64, and the one to run is picked when the server starts.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PARZEN_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PARZEN_HOT
#endif

namespace parzen::tpe {

// Polynomials below are evaluated by Estrin's scheme, in pairs of terms
// then pairs of pairs: a chain of a few multiply-adds where Horner's rule
// would make one of a dozen, which in a long loop body is what each
// vector of points would wait on.

// e^x for -700 <= x <= 0, to about 1e-15 relative: x = k ln 2 + r with
// |r| <= ln2/2, e^r by its Taylor series to r^12, 2^k put in the exponent
// bits.
inline double ExpNearZero(double x) {
  // Adding 1.5 * 2^52 rounds x log2(e) to an integer k and leaves k in the
  // low bits of the sum's representation.
  constexpr double kRound = 6755399441055744.0;
  const double shifted = x * M_LOG2E + kRound;
  const double k = shifted - kRound;
  const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double low = ((1 + r) + (0.5 + r * (1.0 / 6)) * r2) +
                     ((1.0 / 24 + r * (1.0 / 120)) + (1.0 / 720 + r * (1.0 / 5040)) * r2) * r4;
  const double high = ((1.0 / 40320 + r * (1.0 / 362880)) +
                       (1.0 / 3628800 + r * (1.0 / 39916800)) * r2) +
                      (1.0 / 479001600) * r4;
  const double p = low + high * r8;
  const int64_t ki = std::bit_cast<int64_t>(shifted) - std::bit_cast<int64_t>(kRound);
  return p * std::bit_cast<double>(static_cast<uint64_t>(ki + 1023) << 52);
}

// log y for 1/3 <= y <= 1, to about 2e-16 absolute: y (doubled below √½,
// less ln 2) = (1 + w) / (1 - w) with |w| <= 0.2, and log y = 2 atanh w by
// its series to w^21.
inline double LogNearOne(double y) {
  const bool doubled = y < M_SQRT1_2;
  const double m = doubled ? 2 * y : y;
  const double w = (m - 1) / (m + 1);
  const double w2 = w * w, w4 = w2 * w2, w8 = w4 * w4;
  const double first = ((1 + w2 * (1.0 / 3)) + (1.0 / 5 + w2 * (1.0 / 7)) * w4) +
                       ((1.0 / 9 + w2 * (1.0 / 11)) + (1.0 / 13 + w2 * (1.0 / 15)) * w4) * w8;
  const double last = (1.0 / 17 + w2 * (1.0 / 19)) + (1.0 / 21) * w4;
  const double series = first + last * (w8 * w8);
  return 2 * w * series - (doubled ? M_LN2 : 0.0);
}

}  // namespace parzen::tpe

#endif  // PARZEN_SERVER_SAMPLERS_TPE_FAST_MATH_H_
