#!/usr/bin/python3
"""Progress lines into a file: eval over the whole test set (under mpirun, where
only rank 0 prints), sample, interpolate, `ckpt verify` and `data verify`, each
with stderr redirected to a file, write plain lines (no carriage return), at most
one per tenth of the work, with rising percentages that end at 100%; stdout keeps
its result alone.
"""
import json
import re
import subprocess

from training_support import BINARY, DATA, ENV, MPIEXEC, SCRATCH, TrainingTestCase, main, train

LINE = re.compile(r"^(\w+): (\d+)/(\d+) (\w+) \((\d+\.\d)%\) \| \S+ \4/s \| ETA (\d\d:\d\d:\d\d|--:--:--)$")


def run_to_file(name, args, ranks=0):
    """Runs flowtrain with stderr going to a file (mpirun -np ranks when ranks > 0);
    returns (stdout, the file's text)."""
    command = [BINARY] + args
    if ranks:
        command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), "-x", "OMP_NUM_THREADS",
                   "-x", "OMP_WAIT_POLICY"] + command
    log = SCRATCH / f"{name}.stderr"
    with open(log, "w") as stderr:
        result = subprocess.run(command, env=ENV, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=600)
    text = log.read_text()
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{text}")
    return result.stdout, text


class ProgressTests(TrainingTestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_dir, _ = train("tarflow", 1, config="tiny-tarflow.toml",
                               sets=["train.steps=3", "checkpoint.every_steps=1"])

    def assert_tenths(self, stderr, what, unit, total=None):
        """The lines starting with `what:` rise a tenth or more at a time and end at 100%."""
        self.assertNotIn("\r", stderr)
        self.assertNotIn("\033", stderr)
        lines = [line for line in stderr.splitlines() if line.startswith(what + ":")]
        self.assertGreater(len(lines), 0, stderr)
        self.assertLessEqual(len(lines), 10, stderr)
        percents = []
        for line in lines:
            match = LINE.match(line)
            self.assertIsNotNone(match, line)
            self.assertEqual(match.group(4), unit, line)
            if total is not None:
                self.assertEqual(int(match.group(3)), total, line)
            percents.append(float(match.group(5)))
        self.assertEqual(percents, sorted(set(percents)), stderr)  # strictly rising: one rank prints
        self.assertEqual(percents[-1], 100.0, stderr)
        last = LINE.match(lines[-1])
        self.assertEqual(last.group(2), last.group(3), lines[-1])
        return lines

    def test_eval_over_the_whole_test_set_at_two_ranks(self):
        stdout, stderr = run_to_file("eval", ["eval", "--run-dir", str(self.run_dir)], ranks=2)
        result = json.loads(stdout)
        self.assertEqual(result["images"], 10000)
        self.assertEqual(result["ranks"], 2)
        self.assert_tenths(stderr, "evaluating", "batches", total=(10000 + 23) // 24)

    def test_sample_counts_tokens_of_every_block(self):
        stdout, stderr = run_to_file("sample", ["sample", "--run-dir", str(self.run_dir), "--n", "4",
                                                "--out", str(SCRATCH / "samples.png")])
        self.assertEqual(json.loads(stdout)["images"], 4)
        # 2 blocks x (16 - 1) tokens; uniform dequantization: no denoising step.
        self.assert_tenths(stderr, "sampling", "steps", total=30)

    def test_interpolate_counts_decoded_images(self):
        stdout, stderr = run_to_file("interpolate", ["interpolate", "--run-dir", str(self.run_dir),
                                                     "--from-test", "0", "1", "--steps", "7",
                                                     "--out", str(SCRATCH / "path.png")])
        self.assertEqual(json.loads(stdout)["steps"], 7)
        self.assert_tenths(stderr, "interpolating", "images", total=7)

    def test_ckpt_verify_counts_checkpoints(self):
        stdout, stderr = run_to_file("ckpt-verify", ["ckpt", "verify", str(self.run_dir)])
        verdicts = stdout.splitlines()
        self.assertGreater(len(verdicts), 0)
        self.assertTrue(all(v.endswith(": ok") for v in verdicts), stdout)
        self.assert_tenths(stderr, "verifying", "checkpoints", total=len(verdicts))

    def test_data_verify_counts_images(self):
        stdout, stderr = run_to_file("data-verify", ["data", "verify", str(DATA / "train")])
        self.assertTrue(stdout.startswith("ok: 4 shards, 10000 images"), stdout)
        lines = self.assert_tenths(stderr, "verifying", "images", total=10000)
        self.assertEqual(len(lines), 4)  # one per shard, each a quarter


if __name__ == "__main__":
    main()
