#!/usr/bin/python3
"""A failure on any one rank ends the whole job within seconds, with that rank's
one-line cause: at start-up (train and eval, under MPMD mpirun where one rank gets
other --set values), during training (one rank's data breaks), and when a shard is
corrupt, whichever rank hashes it (each shard is hashed once per job).

Run by CTest (label mpi) with Debian's python3. Environment: FLOWTRAIN_BINARY,
FLOWTRAIN_SOURCE_DIR, FLOWTRAIN_SCRATCH_ROOT (scratch, removed on success),
FLOWTRAIN_FASHION_MNIST, MPIEXEC.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import unittest

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import scratch  # noqa: E402  (tests/support/scratch.py: removed when every test passed)
SCRATCH = scratch.make_scratch_dir("flowtrain-rank-failures")
MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
FASHION = pathlib.Path(os.environ["FLOWTRAIN_FASHION_MNIST"])
CONFIG = SOURCE / "tests" / "train" / "tiny-glow.toml"
DATA = SCRATCH / "data"
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
# Generous for a loaded 2-core CI machine; a hang is what this catches (before: > 60 s).
ENDS_WITHIN = 30.0


def mpirun_command(*programs):
    """One mpirun; each program is (ranks, flowtrain arguments): MPMD with ':' between."""
    command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-x", "OMP_NUM_THREADS", "-x", "OMP_WAIT_POLICY"]
    for i, (ranks, args) in enumerate(programs):
        command += ([":"] if i else []) + ["-np", str(ranks), BINARY] + args
    return command


def run_timed(command, timeout=120):
    started = time.monotonic()
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - started


def train_args(run_dir, *sets, data=DATA / "train"):
    args = ["train", str(CONFIG), "--run-dir", str(run_dir), "--set", f"data.train={data}"]
    for s in sets:
        args += ["--set", s]
    return args


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("flowtrain: error:")]


def shard_files(dataset):
    return [shard["file"] for shard in json.loads((dataset / "manifest.json").read_text())["shards"]]


class RankFailureTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for split, shards in (("train", 4), ("test", 2)):
            subprocess.run([BINARY, "data", "convert", "--from", "idx", str(FASHION / "t10k-images-idx3-ubyte.gz"),
                            str(FASHION / "t10k-labels-idx1-ubyte.gz"), "--out", str(DATA / split),
                            "--shards", str(shards)], check=True, capture_output=True, env=ENV)


    def assert_ends_with_one_cause(self, result, seconds, *expected):
        self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertLess(seconds, ENDS_WITHIN, f"took {seconds:.1f} s:\n{result.stderr}")
        errors = error_lines(result.stderr)
        self.assertEqual(len(errors), 1, result.stderr)
        for text in expected:
            self.assertIn(text, errors[0])
        return errors[0]

    def test_train_start_up_failure_on_one_rank(self):
        for bad_rank in (1, 0):
            with self.subTest(bad_rank=bad_rank):
                run_dir = SCRATCH / "runs" / f"missing-on-rank-{bad_rank}"
                good = (1, train_args(run_dir))
                bad = (1, train_args(run_dir, "data.train=/missing"))
                result, seconds = run_timed(mpirun_command(*((good, bad) if bad_rank == 1 else (bad, good))))
                self.assert_ends_with_one_cause(result, seconds, f"rank {bad_rank}: ", "data.train = '/missing'")
                self.assertFalse(any((run_dir / "checkpoints").glob("step_*")))

    def test_every_rank_failing_alike_prints_one_line_without_a_rank(self):
        result, seconds = run_timed(mpirun_command((2, train_args(SCRATCH / "runs" / "all-bad", "model.widht=8"))))
        line = self.assert_ends_with_one_cause(result, seconds, "model.widht")
        self.assertNotIn("rank ", line)

    def test_eval_start_up_failure_on_one_rank(self):
        run_dir = SCRATCH / "runs" / "eval-source"
        result, _ = run_timed(mpirun_command((1, train_args(run_dir, "train.steps=2", f"data.test={DATA / 'test'}"))))
        self.assertEqual(result.returncode, 0, result.stderr)
        good = (1, ["eval", "--run-dir", str(run_dir), "--batches", "2"])
        bad = (1, ["eval", "--run-dir", str(run_dir), "--batches", "2", "--data", "/missing"])
        result, seconds = run_timed(mpirun_command(good, bad))
        self.assert_ends_with_one_cause(result, seconds, "rank 1: ", "/missing")

    def test_corrupt_shard_is_named_at_start_up_whichever_rank_hashes_it(self):
        # Shards are hashed by rank (shard index mod world size): at 2 ranks shard 0 is
        # rank 0's and shard 1 rank 1's; at 1 rank both are rank 0's.
        for ranks in (1, 2):
            for shard in (0, 1):
                with self.subTest(ranks=ranks, shard=shard):
                    dataset = SCRATCH / f"corrupt-{ranks}-{shard}"
                    shutil.copytree(DATA / "train", dataset)
                    name = shard_files(dataset)[shard]
                    with open(dataset / name, "r+b") as f:  # same size: only the checksum can tell
                        f.seek(os.path.getsize(dataset / name) // 2)
                        byte = f.read(1)
                        f.seek(-1, os.SEEK_CUR)
                        f.write(bytes([byte[0] ^ 0xFF]))
                    run_dir = SCRATCH / "runs" / f"corrupt-{ranks}-{shard}"
                    result, seconds = run_timed(mpirun_command((ranks, train_args(run_dir, data=dataset))))
                    hasher = shard % ranks
                    line = self.assert_ends_with_one_cause(result, seconds, name, "checksum mismatch")
                    if ranks > 1:
                        self.assertIn(f"rank {hasher}: ", line)
                    shutil.rmtree(dataset)

    def test_data_read_failure_on_one_rank_during_training(self):
        # Rank 1 reads its own copy of the set; once training runs, one of its shards
        # is truncated. Rank 1 fails reading it while rank 0 waits in a collective.
        dataset = SCRATCH / "truncated-while-training"
        shutil.copytree(DATA / "train", dataset)
        run_dir = SCRATCH / "runs" / "truncated-while-training"
        sets = ("train.steps=100000", "log.every_steps=1", "checkpoint.every_steps=0")
        command = mpirun_command((1, train_args(run_dir, *sets)), (1, train_args(run_dir, *sets, data=dataset)))
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        log = run_dir / "log.txt"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (log.exists() and "step 2/" in log.read_text()):
            time.sleep(0.1)
        self.assertIn("step 2/", log.read_text())
        name = shard_files(dataset)[0]
        truncated_at = time.monotonic()
        with open(dataset / name, "r+b") as f:
            f.truncate(os.path.getsize(dataset / name) // 2)
        try:
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        seconds = time.monotonic() - truncated_at
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        self.assert_ends_with_one_cause(result, seconds, "rank 1: ", str(dataset / name))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    scratch.finish(SCRATCH, result.wasSuccessful())
    sys.exit(0 if result.wasSuccessful() else 1)
