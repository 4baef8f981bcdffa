"""Helpers of the SLURM end-to-end tests (tests/slurm/): jobs submitted with
`flowtrain submit` to the local two-node cluster (cluster/local-slurm.sh) that the
CTest fixture `slurm_cluster` starts, on a small Fashion-MNIST conversion that the
fixture `slurm_data` writes.

Environment (set by tests/CMakeLists.txt): FLOWTRAIN_BINARY, FLOWTRAIN_SOURCE_DIR,
FLOWTRAIN_SLURM_DIR (the cluster's state directory), FLOWTRAIN_SLURM_TESTS (scratch
space; each test works in its own folder there and removes it when it passes).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
SCRATCH = pathlib.Path(os.environ["FLOWTRAIN_SLURM_TESTS"])
DATA = SCRATCH / "data"
CONFIGS = SOURCE / "tests" / "train"
SLURM_CONF = pathlib.Path(os.environ["FLOWTRAIN_SLURM_DIR"]) / "slurm.conf"
# Jobs inherit this environment (sbatch exports it).
ENV = dict(os.environ, SLURM_CONF=str(SLURM_CONF), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")

sys.path.insert(0, str(SOURCE / "tests" / "support"))
from checkpoint_files import latest_checkpoint, read_vectors  # noqa: E402,F401  (tests/support/)

# The job every test starts from: the tiny Glow, EMA on, a step per log line.
BASE_SETS = [f"data.train={DATA / 'train'}", "optim.ema=0.99", "log.every_steps=1"]


def scratch(name):
    folder = SCRATCH / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def submit_command(run_dir, nodes, tasks, sets=(), extra=(), config="tiny-glow.toml"):
    command = [BINARY, "submit", str(CONFIGS / config), "--nodes", str(nodes), "--tasks-per-node", str(tasks),
               "--run-dir", str(run_dir)]
    for s in list(BASE_SETS) + list(sets):
        command += ["--set", s]
    return command + list(extra)


def submit(run_dir, nodes, tasks, sets=(), extra=(), config="tiny-glow.toml", time_limit="00:05:00",
           launcher="mpirun"):
    """Submits with `flowtrain submit`; returns the job id it printed."""
    command = submit_command(run_dir, nodes, tasks, sets, ["--time", time_limit, "--launcher", launcher] + list(extra),
                             config)
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
    job = result.stdout.strip()
    assert re.fullmatch(r"\d+", job), f"submit printed {result.stdout!r}"
    return job


def dry_run_script(run_dir, nodes, tasks, sets=(), time_limit="00:05:00", launcher="mpirun"):
    command = submit_command(run_dir, nodes, tasks, sets, ["--time", time_limit, "--launcher", launcher, "--dry-run"])
    return subprocess.run(command, env=ENV, capture_output=True, text=True, check=True).stdout


def sbatch(script_path):
    result = subprocess.run(["sbatch", "--parsable", str(script_path)], env=ENV, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(";")[0]


def job_info(job):
    """`scontrol show job` as a dict (JobState, Restarts, ExitCode, ...); {} once SLURM forgot the job."""
    result = subprocess.run(["scontrol", "-o", "show", "job", job], env=ENV, capture_output=True, text=True,
                            timeout=30)
    if result.returncode != 0:
        return {}
    return dict(field.split("=", 1) for field in result.stdout.split() if "=" in field)


FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
                "PREEMPTED"}


def wait_for_job(job, timeout):
    """Waits until the job reaches a final state; returns its scontrol fields."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = job_info(job)
        if info.get("JobState") in FINAL_STATES:
            return info
        time.sleep(0.5)
    cancel(job)
    raise AssertionError(f"job {job} not finished after {timeout} s: {job_info(job)}")


def cancel(job):
    subprocess.run(["scancel", job], env=ENV, capture_output=True, timeout=30)


def log_text(run_dir):
    path = pathlib.Path(run_dir) / "log.txt"
    return path.read_text() if path.exists() else ""


def wait_for_log(run_dir, pattern, timeout, job=None):
    """Waits until log.txt has a line matching pattern; returns the match."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        match = re.search(pattern, log_text(run_dir), re.MULTILINE)
        if match:
            return match
        if job and job_info(job).get("JobState") in FINAL_STATES:
            break
        time.sleep(0.2)
    raise AssertionError(f"no line matching {pattern!r} in {run_dir}/log.txt after {timeout} s:\n{log_text(run_dir)}"
                         f"\n{job_output(run_dir, job) if job else ''}")


def job_output(run_dir, job):
    text = ""
    for kind in ("out", "err"):
        path = pathlib.Path(run_dir) / f"slurm-{job}.{kind}"
        if path.exists():
            text += path.read_text()
    return text


def last_step(run_dir):
    steps = re.findall(r"^step (\d+)/", log_text(run_dir), re.MULTILINE)
    return int(steps[-1]) if steps else 0


def metrics(run_dir):
    return [json.loads(line) for line in (pathlib.Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def assert_same_state(test, run, reference):
    """Every flat state vector (parameters, optimizer moments, EMA) byte-identical."""
    a, manifest_a = read_vectors(latest_checkpoint(run))
    b, manifest_b = read_vectors(latest_checkpoint(reference))
    test.assertEqual(sorted(a), sorted(b))
    test.assertIn("ema", a)
    test.assertTrue(any(name.startswith("optimizer/") for name in a), sorted(a))
    for name in a:
        test.assertTrue(a[name].tobytes() == b[name].tobytes(), f"{name} differs from the uninterrupted run")
    for key in ("step", "optimizer_steps", "data_epoch", "data_consumed"):
        test.assertEqual(manifest_a["global_state"][key], manifest_b["global_state"][key], key)

# The 2x2 job of test_submit_2x2 is the uninterrupted reference of the preemption
# test and the checkpoint the 1x4 test resumes.
REFERENCE_STEPS = 60
REFERENCE_RUN = SCRATCH / "submit-2x2"
