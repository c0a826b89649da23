// The standard normal distribution truncated to [a, b], in log space where
// tails would underflow: what the Parzen estimator's kernels are made of.
// The same cases and formulas as SciPy's truncnorm (which Optuna's TPE
// copies), so densities agree with Optuna's far into the tails. Pure
// functions: thread-safe.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_TRUNCNORM_H_
#define PARZEN_SERVER_SAMPLERS_TPE_TRUNCNORM_H_

#include <cstddef>

namespace parzen::tpe {

// log Φ(x), accurate for every x (an asymptotic series below -20).
double LogNdtr(double x);

// log(Φ(b) - Φ(a)), the log of the standard normal's mass in [a, b].
// REQUIRES: a <= b.
double LogGaussMass(double a, double b);

// The log of the mass that each of n normal kernels (centre mu[i], width
// 1 / inv_sigma[i]) keeps inside [low, high]: LogGaussMass of the bounds
// in the kernel's widths, to within 1e-12. Vectorised for kernels centred
// inside bounds at least one width apart (TPE's all are), where tails
// beyond 9 widths are left out, as LogGaussMass leaves them.
void LogKernelMasses(const double* mu, const double* inv_sigma, size_t n, double low,
                     double high, double* out);

// The x with log Φ(x) = log_p. REQUIRES: log_p <= 0.
double NdtriExp(double log_p);

// The q-quantile (0 <= q <= 1) of the standard normal truncated to [a, b].
double TruncNormPpf(double q, double a, double b);

// log of the density at x of the normal (mu, sigma) truncated to
// [low, high], -inf outside it.
double TruncNormLogPdf(double x, double mu, double sigma, double low, double high);

}  // namespace parzen::tpe

#endif  // PARZEN_SERVER_SAMPLERS_TPE_TRUNCNORM_H_
