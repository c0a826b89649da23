"""How often the issue's 10-seed rule says "not worse", from many seeds.

bench/sampler_quality's verdict (Parzen TPE's median best after the last
checkpoint no worse than Optuna TPE's upper quartile, on every function in
both modes: J = K) rests on 10 seeds. This splits many seeds into disjoint
blocks of 10 and applies the rule to every pair of blocks, Parzen's block a
against Optuna's block b; and, for calibration, Optuna's block a against
its own block b (a != b): how often an algorithm passes against itself.

Input: the "seed ..." lines of `sampler_quality --per-seed` and/or the
"optuna ..." lines of bench/optuna_sampler_quality.py, in any files:

  build/bench/sampler_quality --seeds 100 --per-seed > q.txt
  python3 bench/sampler_quality_blocks.py q.txt

Last line: sampler_quality_blocks seeds=N pairs=P parzen_pass=S
optuna_self_pass=T parzen_mean_j=X optuna_self_mean_j=Y (pass: the share
of block pairs with J = K)."""
import argparse
import collections
import itertools
import statistics

MODES = ("tpe_univariate", "tpe_multivariate")
BLOCK = 10


def quartiles(values):
    # numpy's default (linear between order statistics), as the C++ side.
    v = sorted(values)
    def q(p):
        pos = p * (len(v) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (pos - lo) * (v[hi] - v[lo])
    return q(0.25), q(0.5), q(0.75)


def load(paths):
    # (side, function, sampler) -> {seed: best at the last checkpoint}
    runs = collections.defaultdict(dict)
    for path in paths:
        with open(path) as f:
            for line in f:
                words = line.split()
                if not words or words[0] not in ("seed", "optuna"):
                    continue
                fields = words[1:]
                kv = dict(x.split("=", 1) for x in fields)
                side = kv.get("side", "optuna")
                if kv["sampler"] not in MODES:
                    continue
                last = max((k for k in kv if k.startswith("best")), key=lambda k: int(k[4:]))
                runs[(side, kv["function"], kv["sampler"])][int(kv["seed"])] = float(kv[last])
    return runs


def j_count(runs, functions, ours, a, theirs, b):
    j = 0
    for fn in functions:
        ok = True
        for mode in MODES:
            mine = [runs[(ours, fn, mode)][s] for s in range(a * BLOCK, (a + 1) * BLOCK)]
            ref = [runs[(theirs, fn, mode)][s] for s in range(b * BLOCK, (b + 1) * BLOCK)]
            ok = ok and quartiles(mine)[1] <= quartiles(ref)[2]
        j += ok
    return j


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    runs = load(args.files)
    functions = sorted({fn for (_, fn, _) in runs})
    for side in ("parzen", "optuna"):
        for fn in functions:
            for mode in MODES:
                if (side, fn, mode) not in runs:
                    raise SystemExit(f"no {side} {mode} results for {fn}")
    seeds = min(len(r) for r in runs.values())
    blocks = seeds // BLOCK
    if blocks < 2:
        raise SystemExit(f"{seeds} seeds: at least {2 * BLOCK} are needed")
    print(f"{len(functions)} functions, {seeds} seeds, {blocks} blocks of {BLOCK}")
    for fn in functions:
        for mode in MODES:
            p = quartiles([runs[("parzen", fn, mode)][s] for s in range(blocks * BLOCK)])
            o = quartiles([runs[("optuna", fn, mode)][s] for s in range(blocks * BLOCK)])
            verdict = "not worse" if p[1] <= o[2] else "WORSE"
            print(f"  {fn:12} {mode:17} Parzen {p[1]:.4g} [{p[0]:.4g}, {p[2]:.4g}]"
                  f"  Optuna {o[1]:.4g} [{o[0]:.4g}, {o[2]:.4g}]  all seeds: {verdict}")
    parzen = [j_count(runs, functions, "parzen", a, "optuna", b)
              for a, b in itertools.product(range(blocks), repeat=2)]
    optuna = [j_count(runs, functions, "optuna", a, "optuna", b)
              for a, b in itertools.permutations(range(blocks), 2)]
    k = len(functions)
    for name, js in (("Parzen against Optuna", parzen), ("Optuna against itself", optuna)):
        spread = " ".join(f"J={j}:{js.count(j)}" for j in range(k + 1))
        print(f"{name}: {len(js)} block pairs, {spread}")
    print(f"sampler_quality_blocks seeds={blocks * BLOCK} pairs={len(parzen)}"
          f" parzen_pass={parzen.count(k) / len(parzen):.2f}"
          f" optuna_self_pass={optuna.count(k) / len(optuna):.2f}"
          f" parzen_mean_j={statistics.mean(parzen):.2f}"
          f" optuna_self_mean_j={statistics.mean(optuna):.2f}")


if __name__ == "__main__":
    main()
