"""How much two validation sets of MNIST differ in difficulty: the one
Parzen's workers use (parzen-train --split-out) and the one
bench/optuna_study_outcome.py drew for itself before it took Parzen's split
(numpy's RandomState(seed) permutation). Each model is trained on images in
neither set and measured on both, so their difference is the sets' alone.

  build/worker/parzen-train --train-size 20000 --val-size 10000 --seed 1 \
      --epochs 1 --split-out split.txt
  python3 bench/split_difficulty.py --split-file split.txt --models 6

Last line: split_difficulty models=N parzen_val_acc=A numpy_val_acc=B diff=D diff_se=S
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_mnist import Net, evaluate, read_idx  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--split-file", required=True, help="parzen-train --split-out's indices")
    p.add_argument("--data-dir", default="data/mnist")
    p.add_argument("--train-size", type=int, default=20000)
    p.add_argument("--val-size", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1, help="the split's seed")
    p.add_argument("--models", type=int, default=6)
    p.add_argument("--epochs", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(1)
    x = read_idx(f"{a.data_dir}/train-images-idx3-ubyte").astype(np.float32) / 255.0
    x = torch.from_numpy((x - 0.1307) / 0.3081).unsqueeze(1)
    y = torch.from_numpy(read_idx(f"{a.data_dir}/train-labels-idx1-ubyte").astype(np.int64))
    parzen_val = np.loadtxt(a.split_file, dtype=np.int64)[a.train_size:a.train_size + a.val_size]
    numpy_val = np.random.RandomState(a.seed).permutation(len(y))[a.train_size:a.train_size + a.val_size]
    neither = np.setdiff1d(np.arange(len(y)), np.union1d(parzen_val, numpy_val))
    print(f"validation sets of {a.val_size}: {len(np.intersect1d(parzen_val, numpy_val))} images in both, "
          f"{len(neither)} in neither")
    diffs, accs = [], []
    for m in range(a.models):
        train = torch.from_numpy(np.random.RandomState(100 + m).choice(neither, a.train_size, replace=False))
        torch.manual_seed(m)
        model = Net(True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(a.epochs):
            model.train()
            perm = torch.randperm(len(train))
            for i in range(0, len(train), 64):
                idx = train[perm[i:i + 64]]
                opt.zero_grad()
                F.nll_loss(model(x[idx]), y[idx]).backward()
                opt.step()
        pa = evaluate(model, (x[parzen_val], y[parzen_val]))[1]
        na = evaluate(model, (x[numpy_val], y[numpy_val]))[1]
        accs.append((pa, na))
        diffs.append(pa - na)
        print(f"model={m} parzen_val_acc={pa:.4f} numpy_val_acc={na:.4f} diff={pa - na:+.4f}", flush=True)
    d = np.array(diffs)
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
    mean = np.mean(accs, axis=0)
    print(f"split_difficulty models={len(d)} parzen_val_acc={mean[0]:.4f} numpy_val_acc={mean[1]:.4f} "
          f"diff={d.mean():+.4f} diff_se={se:.4f}")


if __name__ == "__main__":
    main()
