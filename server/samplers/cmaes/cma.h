// Cma: the CMA-ES optimizer state of one run, following Hansen's tutorial
// ("The CMA Evolution Strategy: A Tutorial", 2016) with the settings of the
// `cmaes` library Optuna's CmaEsSampler uses: negative weights, bound
// handling by resampling then clipping, and its stopping criteria. The
// separable variant (sep-CMA-ES, Ros & Hansen 2008) keeps only the
// diagonal. A plain value: copyable, not thread-safe.
#ifndef PARZEN_SERVER_SAMPLERS_CMAES_CMA_H_
#define PARZEN_SERVER_SAMPLERS_CMAES_CMA_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "server/samplers/rng.h"

namespace parzen::cmaes {

struct Bounds {
  double low;
  double high;
};

class Cma {
 public:
  // REQUIRES: mean.size() == bounds.size() >= 1, sigma > 0, popsize >= 2.
  Cma(std::vector<double> mean, double sigma, std::vector<Bounds> bounds, int popsize,
      bool separable);

  int dim() const { return n_; }
  int popsize() const { return popsize_; }
  int generation() const { return generation_; }
  const std::vector<double>& mean() const { return mean_; }
  double sigma() const { return sigma_; }

  // A candidate inside the bounds: drawn from N(mean, sigma^2 C), redrawn
  // up to 10 * dim times while outside, then clipped.
  std::vector<double> Ask(Rng& rng) const;
  // One generation: popsize (point, value) pairs, lower values better.
  // REQUIRES: solutions.size() == popsize(), each point of dim() values.
  void Tell(std::vector<std::pair<std::vector<double>, double>> solutions);
  // The cmaes library's stopping criteria: flat values, a vanished or
  // exploded step, no effect along a coordinate or axis, an
  // ill-conditioned covariance. What IPOP restarts on.
  bool ShouldStop() const;

 private:
  // B and D (C = B diag(D^2) B^T) from C, which is symmetrised and its
  // negative eigenvalues lifted to a small positive number.
  void Decompose();
  bool Feasible(const std::vector<double>& x) const;

  int n_;
  int popsize_;
  int mu_;
  bool separable_;
  std::vector<double> weights_;
  double mu_eff_, c1_, cmu_, c_sigma_, d_sigma_, cc_, chi_n_;

  std::vector<double> mean_;
  double sigma_;
  std::vector<Bounds> bounds_;
  std::vector<double> c_;  // n x n, row-major (diagonal only used when separable)
  std::vector<double> b_;  // eigenvectors, columns
  std::vector<double> d_;  // sqrt of the eigenvalues
  std::vector<double> p_sigma_;
  std::vector<double> pc_;
  int generation_ = 0;

  // Best and worst value of recent generations, for the flat-values test.
  int funhist_term_;
  std::vector<double> funhist_;
  double tolx_;
};

// Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic
// Jacobi rotations: eigenvalues into `values`, eigenvectors as the columns
// of `vectors`. Exposed for tests.
void SymmetricEigen(int n, std::vector<double> a, std::vector<double>& values,
                    std::vector<double>& vectors);

}  // namespace parzen::cmaes

#endif  // PARZEN_SERVER_SAMPLERS_CMAES_CMA_H_
