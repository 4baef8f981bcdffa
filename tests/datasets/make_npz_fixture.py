"""Writes an ImageNet-downsampled-style npz for the datasets tests.

data[i, j] = (i * 3*R*R + j) * 7 % 251 as uint8 ([N, 3*R*R], CHW rows);
labels[i] = i % 10 + 1 (1-based). The C++ test recomputes both.
usage: make_npz_fixture.py OUT.npz N R stored|compressed LABEL_DTYPE
"""
import sys

import numpy as np


def main():
    out, n, r, mode, label_dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    flat = (np.arange(n * 3 * r * r, dtype=np.int64) * 7) % 251
    data = flat.astype(np.uint8).reshape(n, 3 * r * r)
    labels = (np.arange(n) % 10 + 1).astype(label_dtype)
    save = np.savez_compressed if mode == "compressed" else np.savez
    save(out, data=data, labels=labels)


if __name__ == "__main__":
    main()
