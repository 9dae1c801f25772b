#!/usr/bin/python3
"""The benchmark's peer: the reference sweep (examples/mnist-grid.json) with Optuna 3.1 (GridSampler) and PyTorch 1.13,
computing exactly what docs/algorithm.md defines (same split, model, regularizers, stochastic pruning, metrics).

  /usr/bin/python3 bench/peer/peer.py [--spec examples/mnist-grid.json] [--processes N] [--threads T] [--out DIR]

Several processes share one Optuna journal file (JournalStorage), as Optuna's documentation recommends for one machine.
Prints one JSON summary line: wall seconds, trials, trials/min, hypervolume of the (accuracy, weightSparsity) front.
"""
import argparse, gzip, itertools, json, math, multiprocessing as mp, os, struct, sys, time

M64 = (1 << 64) - 1


def splitmix64_permutation(count, seed):
    """Fisher-Yates from the last index down with SplitMix64 (the split every Sweep implementation draws)."""
    state = seed
    p = list(range(count))
    for i in range(count - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        j = z % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def splitmix64_first(seed):
    """SplitMix64's first output for a seed: the seed of a trial's pruning-noise generator (docs/algorithm.md)."""
    z = (seed + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, = struct.unpack(">i", data[:4])
    dims = 3 if magic == 2051 else 1
    shape = struct.unpack(">" + "i" * dims, data[4:4 + 4 * dims])
    return data[4 + 4 * dims:], shape


def load_split(repo):
    import numpy as np, torch
    folder = os.path.join(repo, "data", "mnist10k")
    pixels, (n, rows, cols) = read_idx(os.path.join(folder, "mnist10k-images-idx3-ubyte.gz"))
    labels, _ = read_idx(os.path.join(folder, "mnist10k-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(np.frombuffer(pixels, dtype=np.uint8).reshape(n, rows * cols).astype(np.float32) / 255.0)
    y = torch.from_numpy(np.frombuffer(labels, dtype=np.uint8).astype(np.int64))
    perm = torch.tensor(splitmix64_permutation(n, 0))
    train = int(math.floor(n * 0.8))
    return x[perm[:train]], y[perm[:train]], x[perm[train:]], y[perm[train:]]


def train_trial(params, data):
    """One trial exactly as docs/algorithm.md defines it; returns (accuracy, weightSparsity, nodeSparsity)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    train_x, train_y, test_x, test_y = data
    torch.manual_seed(params["seed"])   # seeds the default init and the batch order
    noise = torch.Generator().manual_seed(splitmix64_first(params["seed"]))   # the pruning noise's own stream
    model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    weights = [model[0].weight, model[2].weight, model[4].weight]
    masks = [torch.ones_like(w) for w in weights]
    opt = torch.optim.SGD(model.parameters(), lr=params["learningRate"], momentum=params["momentum"])
    reg, lam = params["regularizer"], params["lambda"]
    n, batch = train_x.shape[0], params["batchSize"]
    steps_per_epoch = (n + batch - 1) // batch
    total = steps_per_epoch * params["epochs"]
    ramp = int(math.floor(params["rampFraction"] * total))
    interval, rate, tau = params["interval"], params["pruneRate"], params["temperature"]
    step = 0
    for _ in range(params["epochs"]):
        perm = torch.randperm(n)
        xs, ys = train_x[perm], train_y[perm]
        for b in range(steps_per_epoch):
            x, y = xs[b * batch:(b + 1) * batch], ys[b * batch:(b + 1) * batch]
            loss = F.cross_entropy(model(x), y)
            if reg in ("l1", "l1l2"):
                loss = loss + lam * sum(w.abs().sum() for w in weights)
            if reg in ("l2", "l1l2"):
                loss = loss + (lam / 2) * sum((w * w).sum() for w in weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for w, m in zip(weights, masks):
                    w.mul_(m)
                step += 1
                if ramp > 0 and step <= ramp and (step % interval == 0 or step == ramp) and params["pruneMethod"] != "none":
                    s = rate * (1 - (1 - step / ramp) ** 3)
                    for i, (w, m) in enumerate(zip(weights, masks)):
                        # Entries are enumerated in Sweep's storage order (the first layer input-major), so that
                        # the same noise lands on the same weights.
                        order_w = w.t() if i == 0 else w
                        order_m = m.t() if i == 0 else m
                        flat_m = order_m.reshape(-1)
                        alive_index = flat_m.nonzero().view(-1)
                        k = int(alive_index.numel()) - round((1 - s) * flat_m.numel())
                        if k <= 0:
                            continue
                        mag = order_w.reshape(-1)[alive_index].abs()
                        if params["pruneMethod"] == "magnitude":
                            keys = -mag
                        else:
                            sigma = float(mag.std()) if mag.numel() > 1 else 0.0
                            logits = -mag / (tau * sigma) if sigma > 0 else torch.zeros_like(mag)
                            u = torch.rand(mag.shape, generator=noise).clamp_(1e-20, 1 - 1e-7)
                            keys = logits - torch.log(-torch.log(u))
                        chosen = alive_index[torch.topk(keys, k, sorted=False).indices]
                        cols = order_m.shape[1]
                        rows_i, cols_i = chosen // cols, chosen % cols
                        order_m[rows_i, cols_i] = 0
                        order_w[rows_i, cols_i] = 0
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        zeros = sum(int((w == 0).sum()) for w in weights)
        weight_sparsity = zeros / sum(w.numel() for w in weights)
        dead = 0
        for i in range(2):
            incoming = (weights[i] != 0).any(1)
            outgoing = (weights[i + 1] != 0).any(0)
            dead += int((~(incoming & outgoing)).sum())
    return accuracy, weight_sparsity, dead / 400


def hypervolume(points, ref=(0.0, 0.0)):
    """Exact 2-D hypervolume of maximized points against ref."""
    pts = sorted((p for p in points if p[0] > ref[0] and p[1] > ref[1]), key=lambda p: (-p[0], -p[1]))
    area, best_y = 0.0, ref[1]
    for x, y in pts:
        if y > best_y:
            area += (x - ref[0]) * (y - best_y)
            best_y = y
    return area


def worker(args, grid, storage_path, n_trials):
    import torch, optuna
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_split(args.repo)
    storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(storage_path))
    study = optuna.load_study(study_name="peer", storage=storage, sampler=optuna.samplers.GridSampler(grid, seed=0))

    def objective(trial):
        params = dict(args.base)
        for name, values in grid.items():
            params[name] = trial.suggest_categorical(name, values)
        acc, ws, ns = train_trial(params, data)
        trial.set_user_attr("nodeSparsity", ns)
        return acc, ws

    study.optimize(objective, n_trials=n_trials)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="examples/mnist-grid.json")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="/tmp/sweep-peer")
    args = ap.parse_args()
    # OpenBLAS sizes its thread pool at import and torch.set_num_threads does not bound it: set it before any import.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    args.repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(args.repo, args.spec) if not os.path.isabs(args.spec) else args.spec) as f:
        spec = json.load(f)
    t, p = spec.get("training", {}), spec.get("pruning", {})
    args.base = {"seed": spec.get("seeds", [0])[0], "epochs": t.get("epochs", 5), "batchSize": t.get("batchSize", 64),
                 "learningRate": t.get("learningRate", 0.05), "momentum": t.get("momentum", 0.9),
                 "pruneMethod": p.get("method", "stochastic"), "temperature": p.get("temperature", 0.5),
                 "interval": p.get("interval", 50), "rampFraction": p.get("rampFraction", 0.7)}
    grid = spec["search"]["space"]
    total = math.prod(len(v) for v in grid.values())
    os.makedirs(args.out, exist_ok=True)
    storage_path = os.path.join(args.out, f"journal-{os.getpid()}.log")
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(storage_path))
    optuna.create_study(study_name="peer", storage=storage, directions=["maximize", "maximize"])

    start = time.time()
    per = math.ceil(total / args.processes)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=worker, args=(args, grid, storage_path, per)) for _ in range(args.processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    wall = time.time() - start

    study = optuna.load_study(study_name="peer", storage=storage)
    done = [tr for tr in study.trials if tr.state == optuna.trial.TrialState.COMPLETE]
    distinct = {tuple(sorted(tr.params.items())) for tr in done}
    points = [(tr.values[0], tr.values[1]) for tr in done]
    with open(os.path.join(args.out, "trials.jsonl"), "w") as f:
        for tr in done:
            f.write(json.dumps({"params": tr.params, "accuracy": tr.values[0], "weightSparsity": tr.values[1],
                                "nodeSparsity": tr.user_attrs.get("nodeSparsity")}) + "\n")
    print(json.dumps({"peer": "optuna-3.1+pytorch-1.13", "processes": args.processes, "threads": args.threads,
                      "wall_seconds": round(wall, 2), "trials": len(done), "distinct": len(distinct), "expected": total,
                      "trials_per_min": round(len(done) / wall * 60, 1), "hypervolume": round(hypervolume(points), 4)}))


if __name__ == "__main__":
    main()
