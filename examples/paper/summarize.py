#!/usr/bin/env python3
"""The study's table: one row per (regularizer, λ, prune rate, prune method), mean ± std over seeds of accuracy,
weight sparsity and node sparsity (and the dead units of fc1 and fc2: 300 and 100 in mlp, 120 and 84 in lenet5), from
the trials.jsonl of run folders.

  python3 examples/paper/summarize.py runs/paper-mlp-dense runs/paper-mlp-baselines runs/paper-mlp-l1 runs/paper-mlp-l2

Standard library only. Prints a Markdown table, then the configurations that reach >= 50 % dead hidden nodes within
1 accuracy point of the dense baseline (mean over seeds).
"""
import json, math, os, sys
from collections import defaultdict


def mean_std(values):
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, s


def main(folders):
    groups = defaultdict(list)
    for folder in folders:
        with open(os.path.join(folder, "trials.jsonl")) as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                if t.get("status") != "completed":
                    continue
                p = t["params"]
                key = (p["regularizer"], p["lambda"] if p["regularizer"] != "none" else 0.0,
                       p["pruneRate"] if p["pruneMethod"] != "none" else 0.0, p["pruneMethod"])
                dead = {l["name"]: l.get("deadNodes", 0) for l in t.get("layers", [])}
                groups[key].append((t["accuracy"], t["weightSparsity"], t["nodeSparsity"], dead.get("fc1", 0), dead.get("fc2", 0)))
    order = {"none": 0, "l1": 1, "l2": 2, "l1l2": 3}
    keys = sorted(groups, key=lambda k: (order.get(k[0], 9), k[3] != "none", k[3], k[2], k[1]))
    dense = [v for k, v in groups.items() if k[3] == "none"]
    dense_acc = mean_std([x[0] for g in dense for x in g])[0] if dense else None
    print("| regularizer | λ | rate | method | seeds | accuracy | weight sparsity | node sparsity | dead fc1 | dead fc2 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    hits = []
    for k in keys:
        g = groups[k]
        acc, ws, ns = (mean_std([x[i] for x in g]) for i in range(3))
        d1, d2 = (mean_std([x[i] for x in g]) for i in (3, 4))
        lam = "–" if k[0] == "none" else f"{k[1]:g}"
        rate = "–" if k[3] == "none" else f"{k[2]:g}"
        print(f"| {k[0]} | {lam} | {rate} | {k[3]} | {len(g)} | {acc[0]:.4f} ± {acc[1]:.4f} | {ws[0]:.3f} ± {ws[1]:.3f} "
              f"| **{ns[0]:.3f}** ± {ns[1]:.3f} | {d1[0]:.1f} | {d2[0]:.1f} |")
        if dense_acc is not None and ns[0] >= 0.5 and acc[0] >= dense_acc - 0.01:
            hits.append((k, acc[0], ns[0]))
    if dense_acc is not None:
        print(f"\nDense baseline (no regularizer, no pruning): accuracy {dense_acc:.4f}.")
        print(f"Configurations with >= 50 % dead hidden nodes within 1 point of it: {len(hits)}")
        for k, a, n in hits:
            print(f"  {k[0]} λ={k[1]:g} rate={k[2]:g} {k[3]}: accuracy {a:.4f}, node sparsity {n:.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize.py RUN_FOLDER...")
    main(sys.argv[1:])
