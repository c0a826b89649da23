"""Optuna 3.1's TPE proposals after one fixed history, for TpeProposalsTest.

Makes a seeded history of trials in the worker's MNIST search space as
`parzen-worker --print-space` prints it (`--space`; momentum only for
SGD; a median pruner's PRUNED trials at several steps; two RUNNING ones), then asks Optuna's TPESampler in `--mode` for
`--proposals` trials, each told FAIL at once so that it teaches the sampler
nothing. Prints one JSON object per line: {"history": ...} per trial,
then {"mode": ..., "params": ...} per proposal. The test replays the
history into parzen-server and compares its proposals with these.
"""
import argparse
import json
import math
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution, json_to_distribution
from optuna.trial import TrialState, create_trial


def read_space(path):
    """`parzen-worker --print-space`'s JSON, in its order: (name, Optuna
    distribution, {parent: values it exists for}) per parameter."""
    with open(path) as f:
        entries = json.load(f)
    return [(name,
             json_to_distribution(json.dumps({"name": e["name"], "attributes": e["attributes"]})),
             e.get("condition", {}))
            for name, e in entries.items()]

# Optuna's side of each mode; the test configures Parzen's to match.
MODES = {
    "univariate": dict(multivariate=False, constant_liar=False),
    "multivariate": dict(multivariate=True, group=True, constant_liar=True),
}


def applies(condition, params):
    return all(params.get(parent) in values for parent, values in condition.items())


def random_params(space, rng):
    params = {}
    for name, d, condition in space:
        if not applies(condition, params):
            continue
        if isinstance(d, CategoricalDistribution):
            params[name] = d.choices[rng.integers(len(d.choices))]
        elif isinstance(d, IntDistribution):
            params[name] = int(rng.choice(np.arange(d.low, d.high + 1, d.step)))
        elif d.log:
            params[name] = float(math.exp(rng.uniform(math.log(d.low), math.log(d.high))))
        else:
            params[name] = float(rng.uniform(d.low, d.high))
    return params


def loss_curve(params, rng, epochs=4):
    """A validation loss per epoch with MNIST's shape: Adam near lr 1e-3 and
    SGD with momentum near 3e-2 are good; wide layers and small batches help."""
    adam = params["optimizer"] == "adam"
    best_lr = -3.0 if adam else -1.5
    final = (0.03 + 0.04 * (math.log10(params["lr"]) - best_lr) ** 2
             + 0.03 * (64 - params["conv2_channels"]) / 48
             + 0.01 * (32 - params["conv1_channels"]) / 24
             + 0.01 * math.log2(params["batch_size"] / 32) / 3
             + 0.02 * (params["dropout2"] - 0.3) ** 2
             + 0.01 * abs(math.log10(params["weight_decay"]) + 4) / 2
             + (0.0 if adam else 0.03 * (1 - params["momentum"])))
    return [final * (1 + 1.5 / e) + rng.normal(0, 0.003) for e in range(1, epochs + 1)]


def make_history(space, seed, trials, running):
    """Trials as a median pruner leaves them: pruned at the first epoch whose
    loss is worse than the completed trials' median there."""
    rng = np.random.default_rng(seed)
    out = []
    completed = []
    for number in range(trials + running):
        params = random_params(space, rng)
        curve = loss_curve(params, rng)
        if number >= trials:
            out.append({"state": "RUNNING", "params": params, "intermediate": curve[:1]})
            continue
        pruned_at = None
        if len(completed) >= 5:
            for step in range(1, len(curve)):
                if curve[step - 1] > np.median([c[step - 1] for c in completed]):
                    pruned_at = step
                    break
        if pruned_at is None:
            completed.append(curve)
            out.append({"state": "COMPLETE", "params": params, "intermediate": curve})
        else:
            out.append({"state": "PRUNED", "params": params, "intermediate": curve[:pruned_at]})
    return out


def as_optuna_trial(space, h):
    distributions = {name: d for name, d, _ in space if name in h["params"]}
    intermediate = {step + 1: v for step, v in enumerate(h["intermediate"])}
    state = TrialState[h["state"]]
    value = h["intermediate"][-1] if state != TrialState.RUNNING else None
    return create_trial(state=state, value=value, params=h["params"],
                        distributions=distributions, intermediate_values=intermediate)


def suggest(space, trial):
    params = {}
    for name, d, condition in space:
        if not applies(condition, params):
            continue
        if isinstance(d, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, d.choices)
        elif isinstance(d, IntDistribution):
            params[name] = trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
        else:
            params[name] = trial.suggest_float(name, d.low, d.high, log=d.log)
    return params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=sorted(MODES), required=True)
    parser.add_argument("--space", required=True, help="parzen-worker --print-space's output")
    parser.add_argument("--history-seed", type=int, default=3)
    parser.add_argument("--trials", type=int, default=150)
    parser.add_argument("--running", type=int, default=2)
    parser.add_argument("--proposals", type=int, default=400)
    parser.add_argument("--sampler-seed", type=int, default=11)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    space = read_space(args.space)
    history = make_history(space, args.history_seed, args.trials, args.running)
    for h in history:
        print(json.dumps({"history": h}))
    sampler = optuna.samplers.TPESampler(seed=args.sampler_seed, **MODES[args.mode])
    study = optuna.create_study(sampler=sampler)
    for h in history:
        study.add_trial(as_optuna_trial(space, h))
    for _ in range(args.proposals):
        trial = study.ask()
        params = suggest(space, trial)
        study.tell(trial, state=TrialState.FAIL)
        print(json.dumps({"mode": args.mode, "params": params}))


if __name__ == "__main__":
    main()
