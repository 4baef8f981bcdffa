"""The h5py peer of bench_reader: the same shards, the same work per batch.

Per global batch of a seeded permutation: read each image with read_direct into
its batch slot (about twice as fast as h5py's sorted fancy-index reads per shard,
measured on these shards), then convert NHWC uint8 to NCHW float32 with uniform
dequantization noise and random horizontal flips.
Prints one JSON line with images/s.
usage: h5py_reader_peer.py DATASET_DIR BATCH [MAX_BATCHES]
"""
import json
import os
import sys
import time

import h5py
import numpy as np


def main():
    root, batch = sys.argv[1], int(sys.argv[2])
    max_batches = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
    with open(os.path.join(root, "manifest.json")) as f:
        manifest = json.load(f)
    files = [h5py.File(os.path.join(root, s["file"]), "r", locking=False) for s in manifest["shards"]]
    images = [f["images"] for f in files]
    first = np.cumsum([0] + [s["count"] for s in manifest["shards"]])
    rng = np.random.default_rng(0)
    order = rng.permutation(manifest["count"])
    batches = min(len(order) // batch, max_batches)
    start = time.perf_counter()
    total = 0
    for b in range(batches):
        ids = order[b * batch:(b + 1) * batch]
        shard = np.searchsorted(first, ids, side="right") - 1
        out = np.empty((batch, manifest["height"], manifest["width"], manifest["channels"]), np.uint8)
        local = ids - first[shard]
        for k in range(batch):
            images[shard[k]].read_direct(out, np.s_[local[k]], np.s_[k])
        x = out.transpose(0, 3, 1, 2).astype(np.float32)
        x = (x + rng.random(x.shape, dtype=np.float32)) / 256.0 - 0.5
        flip = rng.random(batch) < 0.5
        x[flip] = x[flip][..., ::-1]
        total += batch
    seconds = time.perf_counter() - start
    print(json.dumps({"images": total, "seconds": seconds, "images_per_s": total / seconds}))


if __name__ == "__main__":
    main()
