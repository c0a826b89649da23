"""Optuna's side of bench/tpe_latency: TPESampler's ask + 5 suggests on an
in-memory study holding n COMPLETE trials, the same points as the C++ side
fills (PointAt). Prints "optuna n=N ms=M" per size (median of a few asks),
univariate (Optuna's default)."""
import math
import statistics
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
MASK = (1 << 64) - 1
CHOICES = ["sgd", "adam", "rmsprop", "adagrad"]
DISTRIBUTIONS = {
    "lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
    "x": optuna.distributions.FloatDistribution(-5, 5),
    "y": optuna.distributions.FloatDistribution(0, 1),
    "units": optuna.distributions.IntDistribution(16, 512),
    "opt": optuna.distributions.CategoricalDistribution(CHOICES),
}


def u(i, k):
    z = (i * 0x9E3779B97F4A7C15 + k * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 31)) * 0x94D049BB133111EB) & MASK
    return ((z ^ (z >> 29)) >> 11) * 2.0**-53


def point(i):
    lr = min(max(math.exp(math.log(1e-5) + u(i, 0) * (math.log(1e-1) - math.log(1e-5))), 1e-5), 1e-1)
    x = -5 + 10 * u(i, 1)
    y = u(i, 2)
    units = 16 + int(u(i, 3) * 497)
    opt = int(u(i, 4) * 4)
    value = (math.log10(lr) + 3) ** 2 + x * x + abs(y - 0.3) + abs(units - 128) / 128
    value += 0 if opt == 1 else 0.5
    return {"lr": lr, "x": x, "y": y, "units": units, "opt": CHOICES[opt]}, value


def main():
    sizes = sorted(int(a) for a in sys.argv[1:]) or [1000]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    filled = 0
    for n in sizes:
        study.add_trials(
            optuna.trial.create_trial(params=p, distributions=DISTRIBUTIONS, value=v)
            for p, v in (point(i) for i in range(filled, n))
        )
        filled = n
        times = []
        for _ in range(10 if n <= 1000 else 3):
            start = time.perf_counter()
            trial = study.ask()
            trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            trial.suggest_float("x", -5, 5)
            trial.suggest_float("y", 0, 1)
            trial.suggest_int("units", 16, 512)
            trial.suggest_categorical("opt", CHOICES)
            times.append((time.perf_counter() - start) * 1000)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        print(f"optuna n={n} ms={statistics.median(times):.2f}", flush=True)


if __name__ == "__main__":
    main()
