#!/usr/bin/python3
"""Mounts a 2 MiB tmpfs and runs test_checkpoint's disk_full case in it at 2 ranks,
then unmounts. Exits 77 (CTest: skipped) when tmpfs cannot be mounted here (not
root, or no CAP_SYS_ADMIN in a container), so the test never passes silently.

usage: run_disk_full.py MPIEXEC TEST_EXE WORK_DIR
"""
import os
import shutil
import subprocess
import sys

SKIP = 77


def main():
    mpiexec, test_exe, work = sys.argv[1:4]
    mount_point = os.path.join(work, "tmpfs-2m")
    os.makedirs(mount_point, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount_point],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"skipped: cannot mount a tmpfs here: {mounted.stderr.strip()}")
        return SKIP
    try:
        env = dict(os.environ, OMP_NUM_THREADS="1", FLOWTRAIN_FULL_DISK_DIR=mount_point)
        env.pop("FLOWTRAIN_CHECKPOINT_FAULT", None)
        result = subprocess.run([mpiexec, "--allow-run-as-root", "--oversubscribe", "-np", "2", test_exe,
                                 "--run_test=disk_full", "--report_level=short", "--log_level=message"],
                                env=env, timeout=120)
        return result.returncode
    finally:
        subprocess.run(["umount", mount_point])
        shutil.rmtree(mount_point, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
