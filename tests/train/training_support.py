"""Shared by the end-to-end training tests (tests/train/test_*.py, one CTest entry
each): running `flowtrain train` under mpirun, reading checkpoints back, and each
entry's own scratch folder.

Environment (set by CTest): FLOWTRAIN_BINARY (the flowtrain executable),
FLOWTRAIN_SOURCE_DIR, FLOWTRAIN_TRAIN_DATA (the Fashion-MNIST shards the train_data
fixture converted; read only), FLOWTRAIN_SCRATCH_ROOT (where scratch folders go;
default $TMPDIR), MPIEXEC (mpirun).
"""
import json
import os
import pathlib
import subprocess
import sys
import unittest

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import scratch  # noqa: E402  (tests/support/scratch.py)
from checkpoint_files import latest_checkpoint, read_vectors  # noqa: E402,F401  (tests/support/)

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
DATA = pathlib.Path(os.environ["FLOWTRAIN_TRAIN_DATA"])
CONFIGS = SOURCE / "tests" / "train"
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")

# This entry's scratch folder, made on import; main() removes it when every test passed.
SCRATCH = scratch.make_scratch_dir("flowtrain-" + pathlib.Path(sys.argv[0]).stem)


def mpirun(ranks, args, check=True, timeout=600):
    command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks),
               "-x", "OMP_NUM_THREADS", "-x", "OMP_WAIT_POLICY", BINARY] + args
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def train(name, ranks, config="tiny-glow.toml", sets=(), resume=None, check=True):
    run_dir = SCRATCH / "runs" / name
    args = ["train", str(CONFIGS / config), "--run-dir", str(run_dir),
            "--set", f"data.train={DATA / 'train'}", "--set", f"data.test={DATA / 'test'}"]
    for s in sets:
        args += ["--set", s]
    if resume:
        args += ["--resume", resume]
    return run_dir, mpirun(ranks, args, check=check)


def relative_difference(a, b):
    """||a - b|| / ||b||: float summation order differs between world sizes, and Adam
    turns the tiny gradient differences of near-zero gradients into update-sized ones
    on a few elements, so an element-wise maximum measures noise, not agreement."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def metrics(run_dir):
    return [json.loads(line) for line in (pathlib.Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


class TrainingTestCase(unittest.TestCase):
    def assert_same_parameters(self, runs, tolerance, vector="parameters"):
        reference, _ = read_vectors(latest_checkpoint(runs[0]))
        for other in runs[1:]:
            values, _ = read_vectors(latest_checkpoint(other))
            difference = relative_difference(values[vector], reference[vector])
            self.assertLess(difference, tolerance, f"{other} vs {runs[0]}: {vector} differ by {difference:.3g}")
        return reference

    def assert_identical_checkpoints(self, a_run, b_run, what, state_keys):
        """Every vector of the two runs' latest checkpoints bit for bit, and the named
        keys of their global state; returns the first run's state."""
        a, state_a = read_vectors(latest_checkpoint(a_run))
        b, state_b = read_vectors(latest_checkpoint(b_run))
        self.assertEqual(sorted(a), sorted(b))
        for vector in a:
            self.assertTrue(np.array_equal(a[vector].view(np.uint32), b[vector].view(np.uint32)),
                            f"{what}: {vector} differ")
        for key in state_keys:
            self.assertEqual(state_a["global_state"][key], state_b["global_state"][key], f"{what}: {key}")
        return state_a


def main():
    """Runs this file's tests; the scratch folder goes when they all pass and stays
    (named on stderr) for a look when one fails."""
    program = unittest.main(verbosity=2, exit=False)
    passed = program.result.wasSuccessful()
    scratch.finish(SCRATCH, passed)
    sys.exit(0 if passed else 1)
