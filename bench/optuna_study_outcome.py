"""Optuna's arm of bench/study_outcome: Optuna's TPESampler and MedianPruner
(their defaults) tuning the MNIST network with PyTorch (bench/torch_mnist.py's
fastest variant, fully connected layers as convolutions) over Parzen's
built-in search space, as an Optuna user runs it: several worker processes
sharing one SQLite study, one thread each.

The same images as the Parzen arms: bench/study_outcome passes --split-file,
the training and validation indices (of the 60,000, disjoint) that Parzen's
workers use, so every arm's best validation accuracy is measured on the same
10,000 images. The 10,000 test images are only measured for the finished
trials. The objective (--objective) is the
validation loss (the default; minimised) or accuracy (maximised), reported
after every epoch (step = epoch - 1, as Parzen's worker does); the validation
accuracy is kept as a user attribute either way.

Only what finishes before the deadline counts, as for Parzen's workers,
which are stopped at the deadline: a trial still training then is FAIL.
Prints one line per trial:
  optuna_trial number=N state=S epochs=E val_accuracy=V test_accuracy=T
"""
import argparse
import multiprocessing
import os
import sys
import time

import numpy as np
import optuna
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_mnist import Net, evaluate, read_idx, read_split  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


class DeadlinePassed(Exception):
    pass


def load(a):
    def images(split):
        x = read_idx(f"{a.data_dir}/{split}-images-idx3-ubyte").astype(np.float32) / 255.0
        y = read_idx(f"{a.data_dir}/{split}-labels-idx1-ubyte").astype(np.int64)
        return torch.from_numpy((x - 0.1307) / 0.3081).unsqueeze(1), torch.from_numpy(y)

    x, y = images("train")
    if a.split_file:
        train, val = read_split(a.split_file, a.train_size, a.val_size)
    else:
        order = np.random.RandomState(a.seed).permutation(len(y))
        train, val = order[: a.train_size], order[a.train_size : a.train_size + a.val_size]
    return (x[train], y[train]), (x[val], y[val]), images("t10k")


def objective(trial, a, data, deadline):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    momentum = trial.suggest_float("momentum", 0.0, 0.99) if optimizer == "sgd" else 0.0
    batch = trial.suggest_categorical("batch_size", [32, 64, 128, 256])
    dropout1 = trial.suggest_float("dropout1", 0.0, 0.5)
    dropout2 = trial.suggest_float("dropout2", 0.0, 0.7)
    fc_units = trial.suggest_int("fc_units", 32, 256, log=True)
    conv1 = trial.suggest_int("conv1_channels", 8, 32, step=8)
    conv2 = trial.suggest_int("conv2_channels", 16, 64, step=16)
    weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)

    torch.manual_seed(a.seed + trial.number)
    model = Net(True, conv1, conv2, fc_units, dropout1, dropout2)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    (x, y), val, test = data
    value, val_accuracy = 0.0, 0.0
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), batch):
            if time.time() > deadline:
                raise DeadlinePassed()
            idx = perm[i : i + batch]
            opt.zero_grad()
            F.nll_loss(model(x[idx]), y[idx]).backward()
            opt.step()
        val_loss, val_accuracy = evaluate(model, val)
        value = val_loss if a.objective == "val_loss" else val_accuracy
        trial.set_user_attr("val_accuracy", val_accuracy)
        trial.report(value, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    trial.set_user_attr("test_accuracy", evaluate(model, test)[1])
    return value


def work(a, deadline, worker):
    torch.set_num_threads(a.threads)
    data = load(a)
    study = optuna.load_study(study_name="outcome", storage=f"sqlite:///{a.db}",
                              sampler=optuna.samplers.TPESampler(seed=a.seed + worker),
                              pruner=optuna.pruners.MedianPruner())
    while time.time() < deadline:
        study.optimize(lambda t: objective(t, a, data, deadline), n_trials=1,
                       catch=(DeadlinePassed,))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=15)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-size", type=int, default=20000)
    p.add_argument("--val-size", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--data-dir", default="data/mnist")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--split-file", default="",
                   help="the training, then the validation indices (parzen-train --split-out): "
                        "the images Parzen's arms use; without it, a split of this script's own")
    p.add_argument("--objective", choices=["val_loss", "val_accuracy"], default="val_loss")
    p.add_argument("--db", required=True, help="SQLite file for the study (created)")
    a = p.parse_args()
    optuna.create_study(study_name="outcome", storage=f"sqlite:///{a.db}",
                        direction="minimize" if a.objective == "val_loss" else "maximize")
    deadline = time.time() + 60 * a.minutes
    workers = [multiprocessing.Process(target=work, args=(a, deadline, w)) for w in range(a.workers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    study = optuna.load_study(study_name="outcome", storage=f"sqlite:///{a.db}")
    for t in study.get_trials(deepcopy=False):
        print(f"optuna_trial number={t.number} state={t.state.name} epochs={len(t.intermediate_values)} "
              f"val_accuracy={t.user_attrs.get('val_accuracy', float('nan'))} "
              f"test_accuracy={t.user_attrs.get('test_accuracy', float('nan'))}", flush=True)


if __name__ == "__main__":
    main()
