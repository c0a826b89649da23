// Parzen's estimator against Optuna 3.1's, value for value: the same
// observations, weights and options must give the same log densities
// (tpe_optuna_table.inc, written by optuna_tpe_crosscheck.py from Debian's
// python3-optuna 3.1), both with the fix Optuna 3.5 made to its truncated
// normal density (optuna/optuna#5110: kernels that integrate to 1) and, with
// bandwidth weighting, as 3.1 ships them, up to one constant per estimator
// (Parzen's mixture integrates to 1): the same order of points, so the same
// candidate wins. Every widths rule, the prior, the magic clip, the
// endpoints, the weights ramp, log, step and int handling and the joint
// (multivariate) bandwidth show in these numbers: a change to any of them
// breaks the match. The cases with 400 observations of one parameter, in
// a narrow cluster and spread, check that the kernels Parzen leaves out
// far from a point (it visits only those near it) cannot show.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "server/samplers/tpe/parzen_estimator.h"

namespace parzen {
namespace {

struct OptunaCase {
  std::vector<std::string> params;
  int n;
  bool multivariate, consider_prior, consider_magic_clip, consider_endpoints;
  std::vector<std::vector<double>> columns;  // one per parameter, n values each
  std::vector<double> log_pdf;               // at kPoints, with #5110
  std::vector<double> log_pdf_3_1;           // at kPoints, as Optuna 3.1 ships
};

#include "tests/server/samplers/tpe_optuna_table.inc"

const std::map<std::string, Distribution> kSpace = {
    {"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}},
    {"x", FloatDistribution{-5, 5, false, std::nullopt}},
    {"q", FloatDistribution{0, 10, false, 0.25}},
    {"units", IntDistribution{16, 512, true, 1}},
    {"layers", IntDistribution{1, 99, false, 2}},
    {"opt", CategoricalDistribution{{std::string("sgd"), std::string("adam"), std::string("rmsprop")}}},
    // For the cases with 400 observations of one parameter.
    {"fine", FloatDistribution{0, 100, false, 0.01}},
    {"count", IntDistribution{0, 100000, false, 1}},
};

TEST(TpeCrosscheckTest, LogDensitiesMatchOptunas) {
  ASSERT_EQ(kOptunaCases.size(), 57u);  // as the script writes them
  double worst = 0, worst_3_1 = 0;
  for (const OptunaCase& c : kOptunaCases) {
    std::string label = (c.multivariate ? "joint" : "univariate");
    for (const auto& p : c.params) label += " " + p;
    label += " n=" + std::to_string(c.n) + (c.consider_prior ? " prior" : " no-prior") +
             (c.consider_magic_clip ? " clip" : "") + (c.consider_endpoints ? " endpoints" : "");
    SCOPED_TRACE(label);
    std::vector<tpe::ParamSpace> space;
    for (const auto& p : c.params) space.push_back(tpe::SpaceOf(kSpace.at(p)));
    const size_t d = c.params.size();
    std::vector<double> observations(static_cast<size_t>(c.n) * d);
    for (size_t j = 0; j < d; ++j) {
      ASSERT_EQ(c.columns[j].size(), static_cast<size_t>(c.n));
      for (int i = 0; i < c.n; ++i) observations[static_cast<size_t>(i) * d + j] = c.columns[j][i];
    }
    tpe::EstimatorOptions options{.consider_prior = c.consider_prior,
                                  .prior_weight = 1.0,
                                  .consider_magic_clip = c.consider_magic_clip,
                                  .consider_endpoints = c.consider_endpoints,
                                  .multivariate = c.multivariate};
    const std::vector<double> weights = tpe::DefaultWeights(static_cast<size_t>(c.n));
    const tpe::ParzenEstimator estimator(space, observations, weights, options);
    options.bandwidth_weighting = true;
    const tpe::ParzenEstimator weighted(space, observations, weights, options);
    const size_t m = c.log_pdf.size();
    ASSERT_EQ(c.log_pdf_3_1.size(), m);
    std::vector<double> points(m * d);
    for (size_t j = 0; j < d; ++j) {
      for (size_t p = 0; p < m; ++p) points[p * d + j] = kPoints.at(c.params[j])[p];
    }
    const std::vector<double> got = estimator.LogPdf(points);
    ASSERT_EQ(got.size(), m);
    for (size_t p = 0; p < m; ++p) {
      // The discrete cells' masses come from a series where a cell is
      // narrow against its kernel (parzen_estimator.cc): good to ~1e-9.
      EXPECT_NEAR(got[p], c.log_pdf[p], 1e-8 * std::max(1.0, std::fabs(c.log_pdf[p])))
          << "point " << p;
      worst = std::max(worst, std::fabs(got[p] - c.log_pdf[p]));
    }
    const std::vector<double> got_weighted = weighted.LogPdf(points);
    ASSERT_EQ(got_weighted.size(), m);
    // The one constant: Optuna 3.1's log of its mixture's total mass.
    const double shift = c.log_pdf_3_1[0] - got_weighted[0];
    for (size_t p = 0; p < m; ++p) {
      EXPECT_NEAR(got_weighted[p] + shift, c.log_pdf_3_1[p],
                  1e-8 * std::max(1.0, std::fabs(c.log_pdf_3_1[p])))
          << "point " << p << " with bandwidth weighting";
      worst_3_1 = std::max(worst_3_1, std::fabs(got_weighted[p] + shift - c.log_pdf_3_1[p]));
    }
  }
  std::printf("largest difference in log density: %.3g with #5110, %.3g against 3.1 as shipped\n",
              worst, worst_3_1);
}

}  // namespace
}  // namespace parzen
