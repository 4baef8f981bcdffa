#!/usr/bin/python3
"""End-to-end tests of `flowtrain train` under mpirun: world-size invariance, bucketed
and ZeRO-1 reductions, bit-exact resume, resharding, mixed precision, metrics and
TensorBoard files, stop signals, and start-up errors.

Run by CTest (label mpi) with Debian's python3 (h5py, numpy). Environment:
FLOWTRAIN_BINARY (the flowtrain executable), FLOWTRAIN_SOURCE_DIR, FLOWTRAIN_TEST_DIR
(scratch space), MPIEXEC (mpirun).
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import unittest

import h5py
import numpy as np

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
SCRATCH = pathlib.Path(os.environ.get("FLOWTRAIN_TEST_DIR", "/tmp/flowtrain-train-tests"))
MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
DATA = SCRATCH / "data"
CONFIGS = SOURCE / "tests" / "train"
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")


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


def relative_difference(a, b):
    """||a - b|| / ||b||: float summation order differs between world sizes, and Adam
    turns the tiny gradient differences of near-zero gradients into update-sized ones
    on a few elements, so an element-wise maximum measures noise, not agreement."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def metrics(run_dir):
    return [json.loads(line) for line in (pathlib.Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


class TrainingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if SCRATCH.exists():
            shutil.rmtree(SCRATCH)
        for split, name, shards in (("train", "t10k", 4), ("test", "t10k", 2)):
            subprocess.run([BINARY, "data", "convert", "--from", "idx",
                            str(FASHION / f"{name}-images-idx3-ubyte.gz"), str(FASHION / f"{name}-labels-idx1-ubyte.gz"),
                            "--out", str(DATA / split), "--shards", str(shards)], check=True, capture_output=True)

    def assert_same_parameters(self, runs, tolerance, vector="parameters"):
        reference, _ = read_vectors(latest_checkpoint(runs[0]))
        for other in runs[1:]:
            values, _ = read_vectors(latest_checkpoint(other))
            difference = relative_difference(values[vector], reference[vector])
            self.assertLess(difference, tolerance, f"{other} vs {runs[0]}: {vector} differ by {difference:.3g}")
        return reference

    def test_world_sizes_agree(self):
        conditional = ["model.num_classes=10", "model.label_dropout=0.5"]  # dropout keyed by sample position
        for name, config, sets in (("glow", "tiny-glow.toml", []), ("tarflow", "tiny-tarflow.toml", []),
                                   ("tarflow-conditional", "tiny-tarflow.toml", conditional)):
            with self.subTest(model=name):
                runs = [train(f"{name}-np{r}", r, config, sets)[0] for r in (1, 2, 4)]
                self.assert_same_parameters(runs, 1e-5)
                self.assertEqual(read_vectors(latest_checkpoint(runs[0]))[1]["global_state"]["step"], 20)

    def test_bucketed_unbucketed_and_zero1_agree(self):
        plain, _ = train("glow-buckets-0", 2, sets=["train.bucket_mb=0"])
        tiny_buckets, _ = train("glow-buckets-tiny", 2, sets=["train.bucket_mb=0.002"])
        zero1, _ = train("glow-zero1", 2, sets=["train.zero1=true"])
        self.assert_same_parameters([plain, tiny_buckets], 1e-6)
        self.assert_same_parameters([plain, zero1], 1e-6)
        self.assert_same_parameters([plain, zero1], 1e-6, vector="optimizer/exp_avg")

    def test_resume_is_bit_exact(self):
        for config, precision in (("tiny-glow.toml", "fp32"), ("tiny-glow.toml", "bf16"),
                                  ("tiny-tarflow.toml", "fp32"), ("tiny-tarflow.toml", "bf16")):
            with self.subTest(config=config, precision=precision):
                sets = [f"train.precision={precision}", "optim.ema=0.9"]
                straight, _ = train(f"{config}-{precision}-straight", 2, config, sets + ["train.steps=40"])
                split, _ = train(f"{config}-{precision}-split", 2, config, sets + ["train.steps=20"])
                split, out = train(f"{config}-{precision}-split", 2, config, sets + ["train.steps=40"])
                self.assertIn("resumed from", out.stdout)
                a, manifest_a = read_vectors(latest_checkpoint(straight))
                b, manifest_b = read_vectors(latest_checkpoint(split))
                self.assertEqual(sorted(a), sorted(b))
                for name in a:
                    self.assertTrue(np.array_equal(a[name].view(np.uint32), b[name].view(np.uint32)),
                                    f"{name} differs after resume")
                for key in ("step", "optimizer_steps", "data_epoch", "data_consumed"):
                    self.assertEqual(manifest_a["global_state"][key], manifest_b["global_state"][key])
                evals = [subprocess.run([BINARY, "eval", "--run-dir", str(run), "--batches", "4"], env=ENV,
                                        capture_output=True, text=True, check=True).stdout for run in (straight, split)]
                self.assertEqual(json.loads(evals[0])["bits_per_dim"], json.loads(evals[1])["bits_per_dim"])
                steps = [m["step"] for m in metrics(split) if "bits_per_dim" in m]
                self.assertEqual(steps, sorted(steps))  # the metrics file continues, not restarts
                self.assertEqual(steps[-1], 40)

    def test_resharding_4_2_3_matches_uninterrupted(self):
        sets = ["train.zero1=true"]
        straight, _ = train("reshard-straight", 1, sets=sets + ["train.steps=30"])
        run, _ = train("reshard", 4, sets=sets + ["train.steps=10"])
        run, out2 = train("reshard", 2, sets=sets + ["train.steps=20"])
        run, out3 = train("reshard", 3, sets=sets + ["train.steps=30"])
        self.assertIn("written by 4 ranks, now 2", out2.stdout)
        self.assertIn("written by 2 ranks, now 3", out3.stdout)
        self.assert_same_parameters([straight, run], 1e-5)
        self.assert_same_parameters([straight, run], 1e-4, vector="optimizer/exp_avg_sq")

    def test_resume_checks_the_config(self):
        run, _ = train("glow-config-change", 1, sets=["train.steps=5"])
        _, changed_shape = train("glow-config-change", 1, sets=["train.steps=10", "model.width=8"], check=False)
        self.assertEqual(changed_shape.returncode, 1)
        self.assertIn("model.width", changed_shape.stderr)
        self.assertEqual(json.loads((latest_checkpoint(run) / "manifest.json").read_text())["step"], 5)
        _, changed_lr = train("glow-config-change", 1, sets=["train.steps=10", "optim.lr=0.0005"])
        self.assertIn("resume: optim.lr changed from 0.001 to 0.0005", changed_lr.stdout)
        self.assertIn("resume: train.steps changed from 5 to 10", changed_lr.stdout)
        self.assertEqual(json.loads((latest_checkpoint(run) / "manifest.json").read_text())["step"], 10)

    def test_bf16_and_fp16_train(self):
        for precision in ("bf16", "fp16"):
            with self.subTest(precision=precision):
                run, _ = train(f"glow-{precision}", 2, sets=[f"train.precision={precision}", "train.steps=40",
                                                           "log.every_steps=10"])
                bpd = [m["bits_per_dim"] for m in metrics(run) if "bits_per_dim" in m]
                self.assertLess(bpd[-1], bpd[0] - 0.2, f"{precision}: bits/dim {bpd}")

    def test_tensorboard_matches_metrics(self):
        run, _ = train("glow-tensorboard", 1, sets=["log.every_steps=5", "log.eval_every_steps=10",
                                                    "log.eval_batches=2", "log.sample_every_steps=10",
                                                    "log.sample_count=4"])
        reader = subprocess.run(["python3", str(SOURCE / "tests" / "io" / "read_events.py"), str(run)],
                                capture_output=True, text=True)
        self.assertEqual(reader.returncode, 0, reader.stderr)
        events = json.loads(reader.stdout)
        scalars = {(s["tag"], s["step"]): s["value"] for s in events["scalars"]}
        expected = {}
        for record in metrics(run):
            for key, tag in (("loss", "train/loss"), ("bits_per_dim", "train/bits_per_dim"), ("lr", "train/lr"),
                             ("grad_norm", "train/grad_norm"), ("images_per_sec", "train/images_per_sec"),
                             ("eval_bits_per_dim", "eval/bits_per_dim")):
                if key in record:
                    expected[(tag, record["step"])] = float(np.float32(record[key]))
        self.assertEqual(set(scalars), set(expected))
        for key, value in expected.items():
            self.assertEqual(scalars[key], value, key)
        images = sorted((i["tag"], i["step"]) for i in events["images"])
        self.assertEqual(images, [("samples", 10), ("samples", 20)])
        self.assertTrue((run / "samples" / "step_00000020.png").exists())
        self.assertTrue((run / "config.toml").exists())

    def test_stop_signal_checkpoints_on_every_rank_and_exits_75(self):
        run_dir = SCRATCH / "runs" / "signal"
        command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS",
                   "-x", "OMP_WAIT_POLICY", BINARY, "train", str(CONFIGS / "tiny-glow.toml"), "--run-dir",
                   str(run_dir), "--set", f"data.train={DATA / 'train'}", "--set", "train.steps=100000",
                   "--set", "log.every_steps=1"]
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        log = run_dir / "log.txt"
        deadline = time.time() + 120
        while time.time() < deadline and not (log.exists() and "step 3/" in log.read_text()):
            time.sleep(0.2)
        ranks = subprocess.run(["pgrep", "-f", f"{BINARY} train .*{run_dir}"], capture_output=True, text=True)
        pids = [int(p) for p in ranks.stdout.split() if int(p) != process.pid]
        self.assertGreaterEqual(len(pids), 2, ranks.stdout)
        os.kill(pids[-1], signal.SIGUSR1)  # one rank only
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 75, stdout + stderr)
        self.assertIn("stop requested (SIGUSR1)", stdout)
        checkpoint = latest_checkpoint(run_dir)
        self.assertTrue((checkpoint / "COMMITTED").exists())
        step = json.loads((checkpoint / "manifest.json").read_text())["global_state"]["step"]
        self.assertGreaterEqual(step, 3)

    def test_bad_input_fails_at_start_with_one_line(self):
        cases = {
            "missing data folder": (["data.train=/nonexistent/fashion"], 1, "data.train"),
            "unknown config key": (["model.widht=8"], 1, "model.widht"),
            "model/data shape mismatch": (["model.image_size=32"], 1, "model.image_size"),
            "global batch not divisible": (["train.global_batch=25"], 2, "train.global_batch"),
        }
        for name, (sets, ranks, key) in cases.items():
            with self.subTest(case=name):
                run_dir = SCRATCH / "runs" / f"bad-{key}"
                args = ["train", str(CONFIGS / "tiny-glow.toml"), "--run-dir", str(run_dir),
                        "--set", f"data.train={DATA / 'train'}"]
                for s in sets:
                    args += ["--set", s]  # the last --set of a key wins
                result = mpirun(ranks, args, check=False, timeout=120)
                self.assertNotEqual(result.returncode, 0)
                errors = [line for line in result.stderr.splitlines() if line.startswith("flowtrain: error:")]
                self.assertEqual(len(errors), 1, result.stderr)
                self.assertIn(key, errors[0])
                self.assertFalse((run_dir / "checkpoints").exists() and any((run_dir / "checkpoints").iterdir()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
