#include "server/samplers/tpe/truncnorm.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "server/samplers/tpe/fast_math.h"

namespace parzen::tpe {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kLogSqrt2Pi = 0.5 * std::log(2 * M_PI);

// Φ(x) through erfc on the side where it keeps its precision.
double Ndtr(double x) {
  const double z = x * M_SQRT1_2;
  if (z < -M_SQRT1_2) return 0.5 * std::erfc(-z);
  if (z < M_SQRT1_2) return 0.5 + 0.5 * std::erf(z);
  return 1.0 - 0.5 * std::erfc(z);
}

// log(p - q) from log p and log q, p > q.
double LogDiff(double log_p, double log_q) { return log_p + std::log1p(-std::exp(log_q - log_p)); }

double LogAddExp(double x, double y) {
  const double m = std::max(x, y);
  if (m == -kInf) return -kInf;
  return m + std::log(std::exp(x - m) + std::exp(y - m));
}

// Φ⁻¹(p) for 0 < p < 1: Wichura's algorithm AS 241 (PPND16), accurate to
// about 1e-16.
double Ndtri(double p) {
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q *
           (((((((2509.0809287301226727 * r + 33430.575583588128105) * r +
                 67265.770927008700853) * r + 45921.953931549871457) * r +
               13731.693765509461125) * r + 1971.5909503065514427) * r +
             133.14166789178437745) * r + 3.387132872796366608) /
           (((((((5226.495278852545925 * r + 28729.085735721942674) * r +
                 39307.89580009271061) * r + 21213.794301586595867) * r +
               5394.1960214247511077) * r + 687.1870074920579083) * r +
             42.313330701600911252) * r + 1.0);
  }
  double r = q < 0 ? p : 1 - p;
  r = std::sqrt(-std::log(r));
  double x;
  if (r <= 5) {
    r -= 1.6;
    x = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r +
              0.24178072517745061177) * r + 1.27045825245236838258) * r +
            3.64784832476320460504) * r + 5.7694972214606914055) * r +
          4.6303378461565452959) * r + 1.42343711074968357734) /
        (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r +
              0.0151986665636164571966) * r + 0.14810397642748007459) * r +
            0.68976733498510000455) * r + 1.6763848301838038494) * r +
          2.05319162663775882187) * r + 1.0);
  } else {
    r -= 5;
    x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
              0.0012426609473880784386) * r + 0.026532189526576123093) * r +
            0.29656057182850489123) * r + 1.7848265399172913358) * r +
          5.4637849111641143699) * r + 6.6579046435011037772) /
        (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r +
              1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
            0.0148753612908506148525) * r + 0.13692988092273580531) * r +
          0.59983220655588793769) * r + 1.0);
  }
  return q < 0 ? -x : x;
}

// Φ(x) for -9 <= x <= 0, to about 2e-13 relative, as e^(-x²/2) erfcx(u) / 2
// with u = -x/√2: erfcx(u) = e^(u²) erfc(u) varies slowly, and on [0, 6.5]
// is a polynomial of degree 16 in r = 2 (s + 1) / 1.3 - 1, s = (u - 3.5) /
// (u + 3.5): a least-squares Chebyshev fit at 400 nodes to erfcx computed
// with 40 digits by mpmath, in powers of r (their magnitudes sum to 1.0001,
// so nothing cancels).
inline double LowerTail(double x) {
  constexpr double c[17] = {
      0.2937019160138049,      -0.34576238077875143,   0.2094402954628552,
      -0.10051530862290928,    0.037763650639449864,   -0.010670663554193856,
      0.0020319522148389713,   -0.0001589495782680202, -3.5161011415941506e-05,
      1.0557766756088115e-05,  1.6695374223244653e-07, -4.3841020980328675e-07,
      1.560660448537092e-08,   1.8992304634895455e-08, -8.500626275894103e-10,
      -7.622781301874172e-10,  2.2637467461905913e-11};
  const double u = -x * M_SQRT1_2;
  const double r = ((u - 3.5) / (u + 3.5) + 1) * (2 / 1.3) - 1;
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double low = (((c[0] + c[1] * r) + (c[2] + c[3] * r) * r2) +
                      ((c[4] + c[5] * r) + (c[6] + c[7] * r) * r2) * r4);
  const double high = (((c[8] + c[9] * r) + (c[10] + c[11] * r) * r2) +
                       ((c[12] + c[13] * r) + (c[14] + c[15] * r) * r2) * r4);
  const double erfcx = low + (high + c[16] * r8) * r8;
  return 0.5 * ExpNearZero(-0.5 * x * x) * erfcx;
}

// Whether a kernel's bounds, in its widths, are ones LogMassesInside covers.
inline bool CentredInside(double a, double b) { return a <= 0 && b >= 0 && b - a >= 1; }

// log(1 - Φ(a) - Φ(-b)) for every kernel, right where CentredInside(a, b).
// The mass is then at least Φ(1) - Φ(0) > 1/3, which LogNearOne covers.
PARZEN_HOT void LogMassesInside(const double* mu, const double* inv_sigma, size_t n, double low,
                                double high, double* out) {
  for (size_t i = 0; i < n; ++i) {
    const double a = (low - mu[i]) * inv_sigma[i], b = (high - mu[i]) * inv_sigma[i];
    const double left = a < -9 ? 0.0 : LowerTail(std::clamp(a, -9.0, 0.0));
    const double right = b > 9 ? 0.0 : LowerTail(-std::clamp(b, 0.0, 9.0));
    out[i] = LogNearOne(1 - left - right);
  }
}

}  // namespace

void LogKernelMasses(const double* mu, const double* inv_sigma, size_t n, double low,
                     double high, double* out) {
  LogMassesInside(mu, inv_sigma, n, low, high, out);
  for (size_t i = 0; i < n; ++i) {
    const double a = (low - mu[i]) * inv_sigma[i], b = (high - mu[i]) * inv_sigma[i];
    if (!CentredInside(a, b)) out[i] = LogGaussMass(a, b);
  }
}

double LogNdtr(double x) {
  if (x > 6) return -Ndtr(-x);  // log(1 - e) ~ -e
  if (x > -20) return std::log(Ndtr(x));
  // Φ(x) ~ φ(x)/(-x) · (1 - 1/x² + 3/x⁴ - ...), summed while it improves.
  const double log_lhs = -0.5 * x * x - std::log(-x) - kLogSqrt2Pi;
  double total = 1.0, last = 0.0, numerator = 1.0, denominator = 1.0;
  const double inv_x2 = 1 / (x * x);
  double sign = 1;
  for (int i = 1; std::fabs(last - total) > std::numeric_limits<double>::epsilon() && i < 100;
       ++i) {
    last = total;
    sign = -sign;
    denominator *= inv_x2;
    numerator *= 2 * i - 1;
    total += sign * numerator * denominator;
  }
  return log_lhs + std::log(total);
}

double LogGaussMass(double a, double b) {
  // The right tail loses precision; by symmetry, work in the left one.
  if (a > 0) return LogGaussMass(-b, -a);
  if (b <= 0) {
    // Φ(b) - Φ(a) straight from erfc while that does not cancel (the
    // common case, at a third of the cost), in log space where it would.
    if (b > -35) {
      const double pb = Ndtr(b), pa = Ndtr(a);
      if (pb - pa > 1e-8 * pb) return std::log(pb - pa);
    }
    return LogDiff(LogNdtr(b), LogNdtr(a));
  }
  // Straddling 0: 1 - Φ(a) - Φ(-b), which does not cancel near 1; a tail
  // beyond 9 (below 1e-19) is left out, as 1 - 1e-19 rounds to 1 anyway.
  const double left = a < -9 ? 0.0 : Ndtr(a);
  const double right = b > 9 ? 0.0 : Ndtr(-b);
  return std::log1p(-left - right);
}

double NdtriExp(double log_p) {
  if (log_p >= 0) return kInf;
  // A first guess from the plain inverse where exp does not underflow,
  // else from the tail's leading term; then Newton on log Φ.
  double x;
  if (log_p > -700) {
    const double p = std::exp(log_p);
    x = p > 0.5 ? -Ndtri(-std::expm1(log_p)) : Ndtri(p);
  } else {
    x = -std::sqrt(-2 * log_p - std::log(-2 * log_p));
  }
  for (int i = 0; i < 3; ++i) {
    const double f = LogNdtr(x) - log_p;
    // d/dx log Φ(x) = φ(x)/Φ(x) = exp(log φ(x) - log Φ(x)).
    const double slope = std::exp(-0.5 * x * x - kLogSqrt2Pi - LogNdtr(x));
    if (!(slope > 0) || !std::isfinite(slope)) break;
    const double step = f / slope;
    x -= step;
    if (std::fabs(step) < 1e-14 * std::max(1.0, std::fabs(x))) break;
  }
  return x;
}

double TruncNormPpf(double q, double a, double b) {
  if (q <= 0) return a;
  if (q >= 1) return b;
  // Bounds 9 widths out cut off less than 1e-18 of the mass: the plain
  // inverse is as exact, at a tenth of the cost.
  if (a < -9 && b > 9) return std::clamp(Ndtri(q), a, b);
  if (a < 0) {
    const double log_phi_x = LogAddExp(LogNdtr(a), std::log(q) + LogGaussMass(a, b));
    return std::clamp(NdtriExp(log_phi_x), a, b);
  }
  const double log_phi_x = LogAddExp(LogNdtr(-b), std::log1p(-q) + LogGaussMass(a, b));
  return std::clamp(-NdtriExp(log_phi_x), a, b);
}

double TruncNormLogPdf(double x, double mu, double sigma, double low, double high) {
  if (x < low || x > high) return -kInf;
  const double z = (x - mu) / sigma;
  return -0.5 * z * z - kLogSqrt2Pi - std::log(sigma) -
         LogGaussMass((low - mu) / sigma, (high - mu) / sigma);
}

}  // namespace parzen::tpe
