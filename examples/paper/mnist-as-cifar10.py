#!/usr/bin/env python3
"""Writes mnist10k as a CIFAR-10 binary folder: a stand-in for CIFAR-10 where it cannot be downloaded.

Each 28x28 digit is padded with 2 black pixels on every side to 32x32 and repeated in the three colour planes; the
10,000 samples are shuffled (seed 0) and split 8,000 train (data_batch_1.bin ... data_batch_5.bin, 1,600 each) and
2,000 test (test_batch.bin), in CIFAR-10's record layout: one label byte, then 1,024 red, 1,024 green, 1,024 blue bytes.
It is MNIST in CIFAR's clothes, not CIFAR: accuracies on it say nothing about CIFAR-10.

usage: python3 examples/paper/mnist-as-cifar10.py [OUT_DIR]   (default: data/mnist-as-cifar10 in the repository)
Standard library only.
"""
import gzip
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST = os.path.join(ROOT, "data", "mnist10k")


def read_idx(name, magic):
    with gzip.open(os.path.join(MNIST, name), "rb") as f:
        data = f.read()
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        sys.exit(f"{name}: magic {found}, expected {magic}")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "data", "mnist-as-cifar10"))
    (n, rows, cols), pixels = read_idx("mnist10k-images-idx3-ubyte.gz", 2051)
    (labels_n,), labels = read_idx("mnist10k-labels-idx1-ubyte.gz", 2049)
    if (rows, cols) != (28, 28) or labels_n != n:
        sys.exit(f"unexpected mnist10k shape {n}x{rows}x{cols} with {labels_n} labels")
    order = list(range(n))
    random.Random(0).shuffle(order)
    pad = bytes(2)
    blank = bytes(32 * 2)

    def record(i):
        image = pixels[i * 784:(i + 1) * 784]
        plane = blank + b"".join(pad + image[r * 28:(r + 1) * 28] + pad for r in range(28)) + blank
        return bytes([labels[i]]) + plane * 3

    os.makedirs(out, exist_ok=True)
    train, test = order[:8000], order[8000:]
    files = [(f"data_batch_{b + 1}.bin", train[b * 1600:(b + 1) * 1600]) for b in range(5)]
    files.append(("test_batch.bin", test))
    for name, indexes in files:
        with open(os.path.join(out, name), "wb") as f:
            for i in indexes:
                f.write(record(i))
    print(f"{out}: 8000 train + 2000 test images, 3x32x32")


if __name__ == "__main__":
    main()
