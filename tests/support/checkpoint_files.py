"""Reading flowtrain's sharded checkpoints back in the Python test drivers
(tests/train, tests/slurm): the committed step `latest` names, and every flat state
vector reassembled from its shards by global offsets."""
import json
import pathlib

import h5py
import numpy as np


def latest_checkpoint(run_dir):
    root = pathlib.Path(run_dir) / "checkpoints"
    return root / (root / "latest").read_text().strip()


def read_vectors(checkpoint):
    """Every flat state vector of a checkpoint, reassembled from its shards."""
    manifest = json.loads((checkpoint / "manifest.json").read_text())
    vectors = {}
    for shard in manifest["shards"]:
        with h5py.File(checkpoint / shard["file"], "r") as f:
            for key in f["slices"]:
                dataset = f["slices"][key]
                meta = json.loads(dataset.attrs["slice"])
                vector = vectors.setdefault(meta["name"], np.full(meta["length"], np.nan, dtype=np.float32))
                vector[meta["begin"]:meta["begin"] + meta["count"]] = dataset[...]
    for name, vector in vectors.items():
        assert not np.isnan(vector).any(), f"{checkpoint}: vector {name} not fully covered"
    return vectors, manifest
