#!/usr/bin/env python3
"""Replays percentile_pruner_test.cc's tables through real Optuna and numpy.

A development aid, not part of the build: the expected answers in the C++
tables are derived by hand from Optuna's rules, and this script checks that
Optuna itself agrees. The tables are read from the test binary
(DISABLED_DumpTables), so there is a single copy of them.

Usage (needs optuna, e.g. Debian's python3-optuna):
    /usr/bin/python3 tests/server/pruners/optuna_crosscheck.py [path/to/pruner_tests]
Exits non-zero if any case disagrees.
"""

import json
from pathlib import Path
import math
import subprocess
import sys
import warnings

import numpy as np
import optuna

DEFAULT_BINARY = str(Path(__file__).resolve().parents[3] / "build" / "tests" / "pruner_tests")

STATES = {
    "COMPLETE": optuna.trial.TrialState.COMPLETE,
    "PRUNED": optuna.trial.TrialState.PRUNED,
    "FAIL": optuna.trial.TrialState.FAIL,
    "RUNNING": optuna.trial.TrialState.RUNNING,
}


def dump_tables(binary):
    out = subprocess.run(
        [binary, "--gtest_also_run_disabled_tests", "--gtest_filter=*DumpTables*"],
        check=True, capture_output=True, text=True).stdout
    prune, percentile = [], []
    for line in out.splitlines():
        tag, _, payload = line.partition(" ")
        if tag == "PRUNE_CASE":
            prune.append(json.loads(payload))
        elif tag == "PERCENTILE_CASE":
            percentile.append(json.loads(payload))
    return prune, percentile


def optuna_prune(case):
    """What Optuna's PercentilePruner.prune answers for `case`."""
    study = optuna.create_study(direction=case["direction"].lower())
    for other in case["trials"]:
        state = STATES[other["state"]]
        steps = {int(s): v for s, v in other["steps"]}
        study.add_trial(optuna.trial.create_trial(
            state=state,
            value=0.0 if state == optuna.trial.TrialState.COMPLETE else None,
            intermediate_values=steps))
    trial = study.ask()
    for step, value in case["current"]:
        trial.report(value, int(step))
    pruner = optuna.pruners.PercentilePruner(
        case["percentile"],
        n_startup_trials=case["n_startup_trials"],
        n_warmup_steps=case["n_warmup_steps"],
        interval_steps=case["interval_steps"],
        n_min_trials=case["n_min_trials"])
    frozen = study._storage.get_trial(trial._trial_id)
    answer = pruner.prune(study, frozen)
    if case["percentile"] == 50:
        median = optuna.pruners.MedianPruner(
            n_startup_trials=case["n_startup_trials"],
            n_warmup_steps=case["n_warmup_steps"],
            interval_steps=case["interval_steps"],
            n_min_trials=case["n_min_trials"])
        assert median.prune(study, frozen) == answer
    return bool(answer)


def same_double(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_BINARY
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # All-NaN slice, ExperimentalWarning
    prune_cases, percentile_cases = dump_tables(binary)
    failures = 0
    for case in prune_cases:
        got = optuna_prune(case)
        ok = got == case["expected"]
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {case['name']}: optuna={got} table={case['expected']}")
    for case in percentile_cases:
        got = float(np.nanpercentile(np.array(case["values"], dtype=float), case["percentile"]))
        ok = same_double(got, case["expected"])
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} nanpercentile({case['values']}, {case['percentile']})"
              f" numpy={got!r} table={case['expected']!r}")
    print(f"optuna {optuna.__version__}, numpy {np.__version__}: "
          f"{len(prune_cases)} prune cases, {len(percentile_cases)} percentile cases, "
          f"{failures} failures")
    return 1 if failures or not prune_cases else 0


if __name__ == "__main__":
    sys.exit(main())
