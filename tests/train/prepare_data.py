#!/usr/bin/python3
"""CTest fixture train_data: converts Fashion-MNIST's t10k set once into the sharded
HDF5 sets every tests/train/test_*.py entry reads (4 training shards, 2 test
shards). Environment: FLOWTRAIN_BINARY, FLOWTRAIN_FASHION_MNIST (the IDX files),
FLOWTRAIN_TRAIN_DATA (the output folder, replaced).
"""
import os
import pathlib
import shutil
import subprocess
import sys


def main():
    binary = os.environ["FLOWTRAIN_BINARY"]
    fashion = pathlib.Path(os.environ["FLOWTRAIN_FASHION_MNIST"])
    out = pathlib.Path(os.environ["FLOWTRAIN_TRAIN_DATA"])
    shutil.rmtree(out, ignore_errors=True)
    for split, shards in (("train", 4), ("test", 2)):
        result = subprocess.run([binary, "data", "convert", "--from", "idx",
                                 str(fashion / "t10k-images-idx3-ubyte.gz"), str(fashion / "t10k-labels-idx1-ubyte.gz"),
                                 "--out", str(out / split), "--shards", str(shards)], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"converting {fashion} into {out / split} failed:\n{result.stdout}{result.stderr}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
