#!/usr/bin/python3
"""CTest fixture slurm_data: a small Fashion-MNIST conversion (the 10k test images, 4
shards) for the SLURM tests; `--remove` (the fixture's cleanup) deletes it again,
with the 2x2 run the other tests start from."""
import shutil
import subprocess
import sys

from slurm_testing import BINARY, DATA, SCRATCH

FASHION = "/usr/share/datasets/fashion-mnist"

if "--remove" in sys.argv:
    for folder in (DATA, SCRATCH / "submit-2x2"):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        SCRATCH.rmdir()  # empty unless a failed test left its folder for a look
    except OSError:
        pass
    sys.exit(0)
shutil.rmtree(DATA, ignore_errors=True)
subprocess.run([BINARY, "data", "convert", "--from", "idx", f"{FASHION}/t10k-images-idx3-ubyte.gz",
                f"{FASHION}/t10k-labels-idx1-ubyte.gz", "--out", str(DATA / "train"), "--shards", "4"],
               check=True, capture_output=True)
