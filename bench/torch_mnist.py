#!/usr/bin/python3
"""PyTorch's side of bench/trainer_throughput: the same MNIST network trained
the same way (SGD with momentum, batch B, random data of the right shape), in
two variants: the stock example (nn.Linear for the fully connected layers) and
the same network with the fully connected layers as convolutions (fc1 as a
12x12 convolution over the 64x12x12 map, fc2 as 1x1), which keeps every layer
in oneDNN on Debian's torch build.

Prints one line per measurement:
  torch variant=V batch=B threads=T train_img_s=X eval_img_s=Y

With --train-mnist DIR it instead trains on the real IDX files (the reference
accuracy for BENCHMARKS.md) and prints
  torch_accuracy epochs=E lr=L momentum=M batch=B train_size=N test_accuracy=A
With --split-file FILE (what parzen-train --split-out writes) it trains on
the same images as Parzen's trainer and also validates on its validation
images; --optimizer, --weight-decay and the shape flags then set the rest of
the configuration, and the line ends with val_accuracy=V val_loss=L.
"""

import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """The example network; the sizes and dropouts are the ones Parzen's
    search space tunes (bench/optuna_study_outcome.py), defaults the example's."""

    def __init__(self, fc_as_conv, conv1=32, conv2=64, fc=128, dropout1=0.25, dropout2=0.5):
        super().__init__()
        self.fc_as_conv = fc_as_conv
        self.conv1 = nn.Conv2d(1, conv1, 3, 1)
        self.conv2 = nn.Conv2d(conv1, conv2, 3, 1)
        self.dropout1 = nn.Dropout(dropout1)
        self.dropout2 = nn.Dropout(dropout2)
        if fc_as_conv:
            self.fc1 = nn.Conv2d(conv2, fc, 12)
            self.fc2 = nn.Conv2d(fc, 10, 1)
        else:
            self.fc1 = nn.Linear(conv2 * 144, fc)
            self.fc2 = nn.Linear(fc, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        if not self.fc_as_conv:
            x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        x = torch.flatten(x, 1)
        return F.log_softmax(x, dim=1)


def measure(variant, batch, threads, seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Net(variant == "fc_as_conv")
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def train_step():
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(3):
        train_step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        train_step()
        steps += 1
    train_img_s = steps * batch / (time.perf_counter() - start)

    model.eval()
    with torch.no_grad():
        for _ in range(3):
            model(x)
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 2:
            model(x)
            steps += 1
        eval_img_s = steps * batch / (time.perf_counter() - start)
    print(f"torch variant={variant} batch={batch} threads={threads} "
          f"train_img_s={train_img_s:.1f} eval_img_s={eval_img_s:.1f}", flush=True)


def read_idx(path):
    import numpy as np
    data = open(path, "rb").read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_split(path, train_size, val_size):
    """The (training, validation) indices of parzen-train --split-out's file."""
    import numpy as np
    split = np.loadtxt(path, dtype=np.int64)
    if len(split) != train_size + val_size:
        raise SystemExit(f"{path} holds {len(split)} indices, not "
                         f"--train-size + --val-size = {train_size + val_size}")
    return split[:train_size], split[train_size:]


def evaluate(model, data):
    """(mean negative log-likelihood, accuracy), as Parzen's trainer measures them."""
    x, y = data
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), 1000):
            out = model(x[i:i + 1000])
            loss += F.nll_loss(out, y[i:i + 1000], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + 1000]).sum().item()
    return loss / len(y), correct / len(y)


def train_mnist(a):
    import numpy as np
    torch.set_num_threads(int(a.threads.split(",")[-1]))
    torch.manual_seed(a.seed)
    def load(split):
        x = read_idx(f"{a.train_mnist}/{split}-images-idx3-ubyte").astype(np.float32) / 255.0
        y = read_idx(f"{a.train_mnist}/{split}-labels-idx1-ubyte").astype(np.int64)
        x = (x - 0.1307) / 0.3081
        return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)
    x_all, y_all = load("train")
    x_test, y_test = load("t10k")
    validation = None
    if a.split_file:
        order, validation = read_split(a.split_file, a.train_size, a.val_size)
    else:
        order = np.random.RandomState(a.seed).permutation(len(y_all))[:a.train_size]
    x_train, y_train = x_all[order], y_all[order]
    # The fully connected layers as convolutions: the same function as the
    # stock nn.Linear, faster here.
    model = Net(True, a.conv1, a.conv2, a.fc, a.dropout1, a.dropout2)
    if a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                              weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=a.gamma)
    batch = int(a.batches.split(",")[0])
    for _ in range(a.epochs):
        model.train()
        perm = torch.randperm(len(y_train))
        for i in range(0, len(y_train), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            F.nll_loss(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        sched.step()
    momentum = f" momentum={a.momentum}" if a.optimizer == "sgd" else ""
    line = (f"torch_accuracy epochs={a.epochs} optimizer={a.optimizer} lr={a.lr}{momentum} batch={batch} "
            f"train_size={a.train_size} seed={a.seed} "
            f"test_accuracy={evaluate(model, (x_test, y_test))[1]:.4f}")
    if validation is not None:
        val_loss, val_accuracy = evaluate(model, (x_all[validation], y_all[validation]))
        line += f" val_accuracy={val_accuracy:.4f} val_loss={val_loss:.4f}"
    print(line, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train-mnist", default="", help="IDX directory: measure accuracy instead")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--train-size", type=int, default=60000)
    p.add_argument("--val-size", type=int, default=0, help="with --split-file")
    p.add_argument("--split-file", default="", help="parzen-train --split-out's indices")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--conv1", type=int, default=32)
    p.add_argument("--conv2", type=int, default=64)
    p.add_argument("--fc", type=int, default=128)
    p.add_argument("--dropout1", type=float, default=0.25)
    p.add_argument("--dropout2", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batches", default="64,128,256")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--variants", default="linear,fc_as_conv")
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()
    if a.train_mnist:
        train_mnist(a)
        return
    for variant in a.variants.split(","):
        for threads in (int(t) for t in a.threads.split(",")):
            for batch in (int(b) for b in a.batches.split(",")):
                measure(variant, batch, threads, a.seconds)


if __name__ == "__main__":
    main()
