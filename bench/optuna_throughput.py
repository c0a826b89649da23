#!/usr/bin/python3
"""Optuna's own ask/tell throughput on this machine: the reference for
bench/server_throughput.

N processes share one study in RDBStorage on a SQLite file, with RandomSampler,
each looping ask + 3 suggests + tell for a fixed time. The last line printed is
`optuna_throughput trials_per_s=X processes=P errors=E`, where errors counts
the "database is locked" (and other OperationalError) retries.
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import warnings

# Retries of one operation before the worker gives up.
MAX_RETRIES = 100


def objective_value(lr, units, optimizer):
    import math
    x = math.log10(lr) + 3
    y = (units - 128) / 128
    return x * x + y * y + 0.1 * ["sgd", "adam", "rmsprop"].index(optimizer)


def with_retries(fn, errors):
    """Calls fn(), retrying on sqlalchemy OperationalError (database is locked)."""
    from sqlalchemy.exc import OperationalError
    for attempt in range(MAX_RETRIES):
        try:
            return fn()
        except OperationalError:
            errors[0] += 1
            if attempt + 1 == MAX_RETRIES:
                raise
            time.sleep(0.001)


def worker(url, study_name, warmup, seconds, barrier, results):
    warnings.filterwarnings("ignore")
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    errors = [0]
    storage = optuna.storages.RDBStorage(url)
    study = with_retries(
        lambda: optuna.load_study(study_name=study_name, storage=storage,
                                  sampler=optuna.samplers.RandomSampler()),
        errors)
    barrier.wait()
    begin = time.monotonic() + warmup
    end = begin + seconds
    measured = 0
    total = 0
    while True:
        if time.monotonic() >= end:
            break
        trial = with_retries(study.ask, errors)
        lr = with_retries(lambda: trial.suggest_float("lr", 1e-5, 1e-1, log=True), errors)
        units = with_retries(lambda: trial.suggest_int("units", 16, 256), errors)
        optimizer = with_retries(
            lambda: trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]), errors)
        value = objective_value(lr, units, optimizer)

        def tell():
            try:
                study.tell(trial, value)
            except ValueError as e:
                # An earlier attempt committed before its error surfaced.
                if "Cannot tell a COMPLETE trial" not in str(e):
                    raise
        with_retries(tell, errors)
        total += 1
        now = time.monotonic()
        if begin <= now < end:
            measured += 1
    results.put((measured, total, errors[0]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup-seconds", type=float, default=1.0)
    parser.add_argument("--db-dir", default="",
                        help="directory for optuna.db (default: a new temporary one, removed)")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    own_dir = not args.db_dir
    db_dir = tempfile.mkdtemp(prefix="optuna-bench-") if own_dir else args.db_dir
    db_path = os.path.join(db_dir, "optuna.db")
    if os.path.exists(db_path):
        os.remove(db_path)
    url = "sqlite:///" + db_path
    try:
        storage = optuna.storages.RDBStorage(url)
        study = optuna.create_study(storage=storage, study_name="optuna-throughput",
                                    sampler=optuna.samplers.RandomSampler())
        # The children open their own connections; none is inherited.
        storage.engine.dispose()
        del study, storage

        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(args.processes)
        results = ctx.Queue()
        procs = [ctx.Process(target=worker,
                             args=(url, "optuna-throughput", args.warmup_seconds,
                                   args.seconds, barrier, results))
                 for _ in range(args.processes)]
        for p in procs:
            p.start()
        outcomes = []
        for _ in procs:
            # A worker that died never reports; don't wait forever for it.
            outcomes.append(results.get(timeout=args.warmup_seconds + args.seconds + 120))
        for p in procs:
            p.join()
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            print(f"optuna_throughput: worker exit codes {failed}", file=sys.stderr)
            return 1

        measured = sum(o[0] for o in outcomes)
        total = sum(o[1] for o in outcomes)
        errors = sum(o[2] for o in outcomes)
        storage = optuna.storages.RDBStorage(url)
        study = optuna.load_study(study_name="optuna-throughput", storage=storage)
        n_complete = len(study.get_trials(deepcopy=False,
                                          states=(optuna.trial.TrialState.COMPLETE,)))
        storage.engine.dispose()
        print(f"optuna {optuna.__version__}: {measured} trials in {args.seconds:.1f} s measured, "
              f"{total} told, {n_complete} COMPLETE in the database")
        if n_complete < total:
            print("optuna_throughput: fewer COMPLETE trials than told", file=sys.stderr)
            return 1
        print(f"optuna_throughput trials_per_s={measured / args.seconds:.1f} "
              f"processes={args.processes} errors={errors}")
        return 0
    finally:
        if own_dir:
            shutil.rmtree(db_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
