"""Optuna's side of bench/sampler_quality: the same test functions, seeds
and trial count, with Optuna's TPESampler (univariate, its default, and
multivariate; each also with the fix Optuna 3.5 made to its estimator, the
"_5110" rows) and RandomSampler, define-by-run as an Optuna user writes it.

Prints, per function, a "check" line (the function at a fixed point, so the
C++ side can confirm it minimises the same function) and one line per
sampler and seed with the best value after 25, 50 and 100 trials (or the
--trials given). Statistics are computed on the C++ side."""
import argparse
import math
import warnings

import numpy as np
import optuna
from optuna.samplers._tpe import _truncnorm

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HARTMANN_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]
MIXED_OFFSET = {"relu": 0.0, "tanh": 0.3, "sigmoid": 1.0}


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(p):
    x = [p[f"x{j}"] for j in range(6)]
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock4(p):
    x = [p[f"x{j}"] for j in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def mixed(p):
    return (math.log10(p["lr"]) + 2.5) ** 2 + ((p["units"] - 40) / 32) ** 2 + MIXED_OFFSET[p["activation"]]


def suggest_branin(t):
    return {"x1": t.suggest_float("x1", -5, 10), "x2": t.suggest_float("x2", 0, 15)}


def suggest_hartmann6(t):
    return {f"x{j}": t.suggest_float(f"x{j}", 0, 1) for j in range(6)}


def suggest_rosenbrock4(t):
    return {f"x{j}": t.suggest_float(f"x{j}", -5, 10) for j in range(4)}


def suggest_mixed(t):
    return {
        "activation": t.suggest_categorical("activation", list(MIXED_OFFSET)),
        "units": t.suggest_int("units", 1, 128),
        "lr": t.suggest_float("lr", 1e-5, 1, log=True),
    }


# name -> (objective, suggest, the fixed point of the check line)
FUNCTIONS = {
    "branin": (branin, suggest_branin, {"x1": 1.25, "x2": 3.5}),
    "hartmann6": (hartmann6, suggest_hartmann6, {f"x{j}": 0.1 + 0.13 * j for j in range(6)}),
    "rosenbrock4": (rosenbrock4, suggest_rosenbrock4, {f"x{j}": 0.5 * j - 1 for j in range(4)}),
    "mixed": (mixed, suggest_mixed, {"activation": "tanh", "units": 17, "lr": 3e-4}),
}

SAMPLERS = {
    "tpe_univariate": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "tpe_multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}
# Optuna 3.1's TPE with the one fix to its estimator that Parzen follows:
# its truncated normal log density left out each kernel's -log(sigma)
# (optuna/optuna#5109, fixed in Optuna 3.5 by #5110).
SAMPLERS["tpe_univariate_5110"] = SAMPLERS["tpe_univariate"]
SAMPLERS["tpe_multivariate_5110"] = SAMPLERS["tpe_multivariate"]
LOGPDF_3_1 = _truncnorm.logpdf


def logpdf_5110(x, a, b, loc=0, scale=1):
    return LOGPDF_3_1(x, a, b, loc, scale) - np.log(scale)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    checkpoints = sorted({max(1, args.trials // 4), max(1, args.trials // 2), args.trials})
    for name in args.functions.split(","):
        objective, suggest, check_point = FUNCTIONS[name]
        print(f"check function={name} value={objective(check_point):.17g}", flush=True)
        for sampler in args.samplers.split(","):
            _truncnorm.logpdf = logpdf_5110 if sampler.endswith("_5110") else LOGPDF_3_1
            for seed in range(args.seeds):
                study = optuna.create_study(sampler=SAMPLERS[sampler](seed))
                study.optimize(lambda t: objective(suggest(t)), n_trials=args.trials)
                values = [t.value for t in study.trials]
                bests = " ".join(f"best{k}={min(values[:k]):.17g}" for k in checkpoints)
                print(f"optuna function={name} sampler={sampler} seed={seed} {bests}", flush=True)


if __name__ == "__main__":
    main()
