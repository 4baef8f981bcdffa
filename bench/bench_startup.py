#!/usr/bin/python3
"""Start-up cost of a 4-rank training job against the size of its data set.

Measures, for synthetic 64x64 RGB sets of 1, 4 and 16 GB (bench/make_synthetic_set,
256 MiB shards), the wall time from launching `mpirun -np 4 flowtrain train` to the
first training step (rank 0's "flowtrain: ... model" line, printed when start-up is
done) and to the end of that step ("step 1/1"). The model is a tiny Glow, so the
figures are start-up: MPI, config, the start-up checks and the shard verification.

Before the change every rank hashed every shard when it opened its reader (R times
the set per job); after it, rank r hashes shards r, r+R, ... and the verdict is
shared (the set once per job). Pass the flowtrain binary of each build to compare:

  bench/bench_startup.py WORK_DIR --binary after=build/launch/flowtrain \\
      --binary before=/path/to/old/flowtrain --generator build/bench/make_synthetic_set \\
      [--sizes 1,4,16] [--ranks 4] [--repeats 2] [--keep]

With --drop-caches (root only) the page cache is dropped before each run, so the
shards come from disk: then the ranks of one node share one read of each file and
the difference is in CPU; on a cluster file system each node reads its own. Without
it the set is cached after the first run and the figures are hashing and copying.
Measured, never asserted; not a CTest. Data sets are removed unless --keep.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

CONFIG = """# Tiny Glow on 64x64 RGB: a step costs little, start-up is what is measured.
[model]
kind = "glow"
channels = 3
image_size = 64
levels = 2
depth = 1
width = 8

[data]
noise = "uniform"
loader_threads = 1

[train]
steps = 1
global_batch = 8
seed = 1

[optim]
name = "adam"
lr = 1e-3

[log]
every_steps = 1

[checkpoint]
every_steps = 0
"""


def drop_caches():
    subprocess.run(["sync"], check=True)
    pathlib.Path("/proc/sys/vm/drop_caches").write_text("3\n")


def time_to_first_step(binary, config, dataset, run_dir, ranks):
    if run_dir.exists():
        shutil.rmtree(run_dir)
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), "-x", "OMP_NUM_THREADS",
               "-x", "OMP_WAIT_POLICY", binary, "train", str(config), "--run-dir", str(run_dir), "--resume", "never",
               "--set", f"data.train={dataset}"]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    start_up = first_step = None
    for line in process.stdout:
        now = time.monotonic() - started
        if start_up is None and line.startswith("flowtrain: ") and " model, " in line:
            start_up = now
        if first_step is None and line.startswith("step 1/"):
            first_step = now
    stderr = process.stderr.read()
    if process.wait() != 0 or start_up is None:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return start_up, first_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("work_dir", type=pathlib.Path)
    parser.add_argument("--binary", action="append", required=True, help="LABEL=PATH of a flowtrain build")
    parser.add_argument("--generator", required=True, help="make_synthetic_set")
    parser.add_argument("--sizes", default="1,4,16", help="set sizes in GB")
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    binaries = [b.split("=", 1) for b in args.binary]
    args.work_dir.mkdir(parents=True, exist_ok=True)
    config = args.work_dir / "startup-glow.toml"
    config.write_text(CONFIG)
    results = []
    for size in [float(s) for s in args.sizes.split(",")]:
        dataset = args.work_dir / f"synthetic-{size:g}gb"
        if not (dataset / "manifest.json").exists():
            if dataset.exists():
                shutil.rmtree(dataset)
            generated = time.monotonic()
            subprocess.run([args.generator, str(dataset), str(size)], check=True)
            print(f"generated {dataset} in {time.monotonic() - generated:.0f} s", file=sys.stderr)
        for repeat in range(args.repeats):
            for label, binary in binaries:
                if args.drop_caches:
                    drop_caches()
                start_up, first_step = time_to_first_step(binary, config, dataset, args.work_dir / "run", args.ranks)
                record = {"build": label, "gigabytes": size, "ranks": args.ranks, "repeat": repeat,
                          "cold_cache": args.drop_caches, "seconds_to_start": round(start_up, 2),
                          "seconds_to_first_step_done": round(first_step, 2)}
                results.append(record)
                print(json.dumps(record), flush=True)
        if not args.keep:
            shutil.rmtree(dataset)
    shutil.rmtree(args.work_dir / "run", ignore_errors=True)


if __name__ == "__main__":
    main()
