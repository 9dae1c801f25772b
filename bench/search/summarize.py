#!/usr/bin/env python3
"""bench/search: the table. For each variant (grid, grid-es, random, random-es, nsga2, nsga2-es) and each search seed:
trial-epochs trained (a result's per-epoch records), the hypervolume of the front (accuracy vs weight sparsity) and of
the node front (accuracy vs node sparsity) over the completed trials, reference point (0, 0), and the wall time; then
the mean over seeds as a fraction of the full grid's. Standard library only. Usage: summarize.py OUT"""
import json, os, sys


def hypervolume(points):
    """Exact 2-D hypervolume of maximized points against (0, 0)."""
    pts = sorted({(a, b) for a, b in points if a > 0 and b > 0}, key=lambda p: (-p[1], -p[0]))
    area, best_a = 0.0, 0.0
    # Descending in b: each point adds the strip of a beyond the best a seen at higher b, down to b = 0.
    for i, (a, b) in enumerate(pts):
        if a > best_a:
            area += (a - best_a) * b
            best_a = a
    return area


def read(folders):
    rows = []
    for f in folders:
        with open(os.path.join(f, "trials.jsonl")) as fh:
            rows += [json.loads(l) for l in fh if l.strip()]
    done = [r for r in rows if r["status"] == "completed"]
    return {
        "trials": len(rows),
        "stopped": sum(r["status"] == "stopped" for r in rows),
        "epochs": sum(len(r["epochs"]) for r in rows),
        "hv": hypervolume([(r["accuracy"], r["weightSparsity"]) for r in done]),
        "node_hv": hypervolume([(r["accuracy"], r["nodeSparsity"]) for r in done]),
        "wall": sum(float(open(os.path.join(f, "wall.txt")).read()) for f in folders),
    }


def main(out):
    variants = {}
    for v in ("grid", "grid-es"):
        d = os.path.join(out, v)
        if os.path.isdir(d):
            variants[v] = {"-": read([os.path.join(d, g) for g in sorted(os.listdir(d))])}
    for v in ("random", "random-es", "nsga2", "nsga2-es"):
        d = os.path.join(out, v)
        if os.path.isdir(d):
            variants[v] = {s: read([os.path.join(d, s)]) for s in sorted(os.listdir(d))
                           if os.path.exists(os.path.join(d, s, "wall.txt"))}
    grid = variants.get("grid", {}).get("-")
    print("| strategy | search seed | trials (stopped) | trial-epochs | hypervolume | node hypervolume | wall |")
    print("|---|---|---|---|---|---|---|")
    for v, runs in variants.items():
        for seed, r in runs.items():
            rel = lambda k: f" ({100 * r[k] / grid[k]:.1f} %)" if grid else ""
            print(f"| {v} | {seed} | {r['trials']} ({r['stopped']}) | {r['epochs']}{rel('epochs')} | {r['hv']:.4f}{rel('hv')} "
                  f"| {r['node_hv']:.4f}{rel('node_hv')} | {r['wall']:.0f} s |")
    if grid:
        print()
        print("| strategy | mean trial-epochs (of the grid's) | mean hypervolume (of the grid's) | mean node hypervolume "
              "| mean wall | ≥ 99 % for ≤ 30 % epochs: front / node front |")
        print("|---|---|---|---|---|---|")
        for v, runs in variants.items():
            n = len(runs)
            mean = {k: sum(r[k] for r in runs.values()) / n for k in ("epochs", "hv", "node_hv", "wall")}
            cheap = mean["epochs"] <= 0.30 * grid["epochs"]
            met = ["yes" if cheap and mean[k] >= 0.99 * grid[k] else "no" for k in ("hv", "node_hv")]
            print(f"| {v} | {100 * mean['epochs'] / grid['epochs']:.1f} % | {100 * mean['hv'] / grid['hv']:.2f} % "
                  f"| {100 * mean['node_hv'] / grid['node_hv']:.2f} % | {mean['wall']:.0f} s | {met[0]} / {met[1]} |")


if __name__ == "__main__":
    main(sys.argv[1])
