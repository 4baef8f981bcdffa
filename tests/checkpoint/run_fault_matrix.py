#!/usr/bin/python3
"""Fault matrix for checkpoint saves: for each failpoint (and each rank of 2 where
the point is reached by every rank) a 2-rank job saves step 10, then is SIGKILLed
inside the save of step 20. Afterwards find_latest_valid must return step 10 (or
20 when the kill came after COMMITTED), read back exactly, and a resumed job must
save over the leftovers cleanly.

usage: run_fault_matrix.py MPIEXEC DRIVER WORK_DIR
"""
import os
import shutil
import subprocess
import sys

RANK_POINTS = ["before_shard", "mid_shard", "after_shard_write", "after_shard_rename", "before_gather"]
RANK0_POINTS = ["after_gather", "mid_manifest", "after_manifest", "after_folder_rename", "after_committed"]


def cases():
    for point in RANK_POINTS:
        for rank in (0, 1):
            yield point, rank
    for point in RANK0_POINTS:
        yield point, 0


def mpirun(mpiexec, driver, args, fault=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("FLOWTRAIN_CHECKPOINT_FAULT", None)
    if fault:
        env["FLOWTRAIN_CHECKPOINT_FAULT"] = fault
    command = [mpiexec, "--allow-run-as-root", "--oversubscribe", "-np", "2", driver] + args
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def run_case(mpiexec, driver, work, point, rank):
    directory = os.path.join(work, f"{point}-{rank}")
    shutil.rmtree(directory, ignore_errors=True)
    written = mpirun(mpiexec, driver, ["write", directory], fault=f"{point}:{rank}")
    if written.returncode == 0 or "saved step 10" not in written.stdout or "saved step 20" in written.stdout:
        return f"the job was not killed inside the save of step 20 (rc {written.returncode})\n{written.stdout}{written.stderr}"
    expected = 20 if point == "after_committed" else 10
    read = mpirun(mpiexec, driver, ["read", directory, str(expected)])
    if read.returncode != 0:
        return f"reading after the kill failed (expected step {expected})\n{read.stdout}{read.stderr}"
    resumed = mpirun(mpiexec, driver, ["resume", directory])
    if resumed.returncode != 0:
        return f"saving over the leftovers failed\n{resumed.stdout}{resumed.stderr}"
    shutil.rmtree(directory, ignore_errors=True)
    return None


def main():
    mpiexec, driver, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failures = 0
    print(f"{'point':<22}{'rank':>5}  result")
    for point, rank in cases():
        problem = run_case(mpiexec, driver, work, point, rank)
        expected = 20 if point == "after_committed" else 10
        print(f"{point:<22}{rank:>5}  {'ok: step %d chosen, read exactly, resave clean' % expected if problem is None else 'FAILED'}", flush=True)
        if problem:
            failures += 1
            print(problem, flush=True)
    print(f"{failures} of {len(list(cases()))} cases failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
