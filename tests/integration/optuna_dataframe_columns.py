"""Reads back what `parzen trials --format csv` wrote, with Python's csv
module, and names the columns Optuna 3.1's Study.trials_dataframe() would
give the same trials (Debian's python3-optuna; its column logic needs no
pandas), so cli_test.cc can compare the two.

  optuna_dataframe_columns.py TRIALS.csv TRIALS.json N_OBJECTIVES

TRIALS.json is `parzen trials --json` (the whole trials) of the same study.
Prints one JSON object: {"header": [...], "rows": [{column: text}],
"optuna_columns": [...]}."""
import csv
import json
import sys

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.study._dataframe import _create_records_and_aggregate_column, _flatten_columns
from optuna.trial import TrialState, create_trial

# trials_dataframe()'s default attrs, less system_attrs (which parzen adds
# only with --system-attrs).
ATTRS = ("number", "value", "datetime_start", "datetime_complete", "duration", "params",
         "user_attrs", "state")


def optuna_columns(trials, n_objectives):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize"] * n_objectives)
    for t in trials:
        # A WAITING trial's enqueued values are not params in Optuna (it
        # keeps them in system_attrs): only what was suggested.
        params = t["params"]
        # Only the names shape the columns; any distribution holding the
        # value will do.
        distributions = {
            name: FloatDistribution(min(v, 0), max(v, 0) + 1)
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else CategoricalDistribution([v])
            for name, v in params.items()
        }
        state = TrialState[t["state"]]
        study.add_trial(create_trial(
            state=state,
            values=t["values"] if state == TrialState.COMPLETE else None,
            params=params,
            distributions=distributions,
            user_attrs=t["user_attrs"],
        ))
    attrs = tuple("values" if a == "value" and n_objectives > 1 else a for a in ATTRS)
    _, columns = _create_records_and_aggregate_column(study, attrs)
    return _flatten_columns(columns)


def main():
    csv_path, json_path, n_objectives = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, row)) for row in reader]
    with open(json_path) as f:
        trials = json.load(f)
    print(json.dumps({"header": header, "rows": rows,
                      "optuna_columns": optuna_columns(trials, n_objectives)}))


if __name__ == "__main__":
    main()
