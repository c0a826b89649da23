"""Writes tpe_optuna_table.inc: Optuna 3.1's _ParzenEstimator (Debian's
python3-optuna) evaluated on fixed observations, for tpe_crosscheck_test.cc
to compare Parzen's estimator with, value for value.

  /usr/bin/python3 tests/server/samplers/optuna_tpe_crosscheck.py > tests/server/samplers/tpe_optuna_table.inc

Each case is one estimator: a search space (one parameter, as univariate
TPE builds them, or all six jointly, as multivariate TPE does), n
observations in Optuna's internal representation (a categorical is its
index), Optuna's default weights for n (the ramp from n = 25 on), and the
log density at fixed points, twice.

Optuna 3.1's truncated normal log density leaves out the kernel's -log(sigma)
(optuna/optuna#5109, fixed by #5110 in Optuna 3.5), so its continuous
densities do not integrate to 1. The first column is Optuna's with the fix
applied as #5110 made it: Parzen's estimator without bandwidth weighting
gives the same. The second is Optuna 3.1's as shipped: Parzen's with
bandwidth weighting gives the same up to one constant per estimator (its
mixture is renormalised), so it ranks points as Optuna 3.1 does."""
import numpy as np
from optuna import distributions as D
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

_logpdf_3_1 = _truncnorm.logpdf


def _logpdf_fixed(x, a, b, loc=0, scale=1):
    return _logpdf_3_1(x, a, b, loc, scale) - np.log(scale)


def log_pdfs(pe, points):
    """(with #5110, as shipped): the two columns of the table."""
    _truncnorm.logpdf = _logpdf_fixed
    fixed = pe.log_pdf(points)
    _truncnorm.logpdf = _logpdf_3_1
    return fixed, pe.log_pdf(points)

SPACE = {
    "lr": D.FloatDistribution(1e-4, 1e-1, log=True),
    "x": D.FloatDistribution(-5, 5),
    "q": D.FloatDistribution(0, 10, step=0.25),
    "units": D.IntDistribution(16, 512, log=True),
    "layers": D.IntDistribution(1, 99, step=2),
    "opt": D.CategoricalDistribution(["sgd", "adam", "rmsprop"]),
}


# Observations never tie where the weights differ (n >= 25): Optuna orders
# equal values by numpy's unstable sort, Parzen by trial, and the neighbour
# widths of tied kernels follow that order. Below 25 the weights are equal
# and ties (tested here) cannot matter.
def column(name, n, rng):
    d = SPACE[name]
    if isinstance(d, D.CategoricalDistribution):
        return rng.randint(0, len(d.choices), n).astype(float)
    if isinstance(d, D.IntDistribution):
        if d.log:
            return np.round(np.exp(rng.uniform(np.log(d.low), np.log(d.high), n)))
        return d.low + d.step * rng.choice((d.high - d.low) // d.step + 1, n, replace=False).astype(float)
    if d.log:
        return np.exp(rng.uniform(np.log(d.low), np.log(d.high), n))
    if d.step is not None:
        return d.low + d.step * rng.choice(int(round((d.high - d.low) / d.step)) + 1, n, replace=False)
    # Some observations on the bounds and some repeated, where the widths
    # rules have their corner cases.
    v = rng.uniform(d.low, d.high, n)
    if n >= 4:
        v[0], v[1] = d.low, d.high
    if 4 <= n < 25:
        v[3] = v[2]
    return v


# One parameter with many observations, clustered and spread, as a long
# univariate study has them: Parzen then visits only the kernels near a
# point, and these cases check that what it leaves out does not show.
LARGE = {
    "x": D.FloatDistribution(-5, 5),
    "lr": D.FloatDistribution(1e-4, 1e-1, log=True),
    "fine": D.FloatDistribution(0, 100, step=0.01),
    "count": D.IntDistribution(0, 100000),
}


def large_column(name, n, rng):
    d = LARGE[name]
    if d.step is not None:  # no ties: equal values are ordered differently (above)
        size = int(round((d.high - d.low) / d.step)) + 1
        p = np.ones(size)
        p[size * 3 // 10: size * 3 // 10 + size // 50] = 200.0  # away from the prior's centre
        return d.low + d.step * rng.choice(size, n, replace=False, p=p / p.sum()).astype(float)
    low, high = (np.log(d.low), np.log(d.high)) if d.log else (d.low, d.high)
    v = np.where(rng.uniform(size=n) < 0.5, rng.uniform(low, high, n),
                 rng.uniform(low + 0.3 * (high - low), low + 0.32 * (high - low), n))
    return np.exp(v) if d.log else v


def estimator_parameters(consider_prior, magic_clip, endpoints, multivariate):
    return _ParzenEstimatorParameters(
        consider_prior=consider_prior,
        prior_weight=1.0,
        consider_magic_clip=magic_clip,
        consider_endpoints=endpoints,
        weights=default_weights,
        multivariate=multivariate,
    )


def cpp(values):
    return "{" + ", ".join(repr(float(v)) for v in values) + "}"


def main():
    rng = np.random.RandomState(7)
    points = {name: column(name, 9, rng) for name in SPACE}
    cases = []
    for n in (0, 1, 5, 30):
        observations = {name: column(name, n, rng) for name in SPACE}
        for multivariate in (False, True):
            for consider_prior, magic_clip, endpoints in ((True, True, False), (False, False, True)):
                if n == 0 and not consider_prior:
                    continue
                params = estimator_parameters(consider_prior, magic_clip, endpoints, multivariate)
                groups = [list(SPACE)] if multivariate else [[name] for name in SPACE]
                for group in groups:
                    space = {name: SPACE[name] for name in group}
                    pe = _ParzenEstimator({k: observations[k] for k in group}, space, params)
                    log_pdf = log_pdfs(pe, {
                        k: points[k].astype(int) if k == "opt" else points[k] for k in group
                    })
                    cases.append((group, n, multivariate, consider_prior, magic_clip, endpoints,
                                  [observations[k] for k in group], log_pdf))
    large_rng = np.random.RandomState(11)
    for name in ("fine", "count"):
        points[name] = large_column(name, 9, large_rng)
    for name in LARGE:
        observations = large_column(name, 400, large_rng)
        for consider_prior, magic_clip, endpoints in ((True, True, False), (True, False, True)):
            params = estimator_parameters(consider_prior, magic_clip, endpoints, False)
            pe = _ParzenEstimator({name: observations}, {name: LARGE[name]}, params)
            log_pdf = log_pdfs(pe, {name: points[name]})
            cases.append(([name], 400, False, consider_prior, magic_clip, endpoints,
                          [observations], log_pdf))
    print("// Generated by optuna_tpe_crosscheck.py from Optuna 3.1; do not edit.")
    print("// {params, n, multivariate, consider_prior, consider_magic_clip, consider_endpoints,")
    print("//  observations (one column per parameter), log densities at kPoints with #5110,")
    print("//  and as Optuna 3.1 ships them}")
    print("const std::map<std::string, std::vector<double>> kPoints = {")
    for name in points:
        print(f'    {{"{name}", {cpp(points[name])}}},')
    print("};")
    print("const std::vector<OptunaCase> kOptunaCases = {")
    for group, n, mv, prior, clip, ends, cols, log_pdf in cases:
        names = "{" + ", ".join(f'"{g}"' for g in group) + "}"
        columns = "{" + ", ".join(cpp(c) for c in cols) + "}"
        flags = ", ".join("true" if b else "false" for b in (mv, prior, clip, ends))
        print(f"    {{{names}, {n}, {flags},\n     {columns},\n     {cpp(log_pdf[0])},\n"
              f"     {cpp(log_pdf[1])}}},")
    print("};")


if __name__ == "__main__":
    main()
