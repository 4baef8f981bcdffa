#!/usr/bin/python3
"""Metrics: the TensorBoard event file holds what metrics.jsonl says, and the sample grids;
`eval` says what its bits/dim means, with the noise floor of a Gaussian-noise model."""
import json
import math
import subprocess

import numpy as np

from training_support import BINARY, ENV, SOURCE, metrics, train, TrainingTestCase, main


class MetricsTests(TrainingTestCase):
    def test_tensorboard_matches_metrics(self):
        run, _ = train("glow-tensorboard", 1, sets=["log.every_steps=5", "log.eval_every_steps=10",
                                                    "log.eval_batches=2", "log.sample_every_steps=10",
                                                    "log.sample_count=4"])
        # The python3 on PATH: read_events.py needs the tensorboard package, which
        # Debian's interpreter (the one running this file) lacks.
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

    def evaluate(self, run):
        result = subprocess.run([BINARY, "eval", "--run-dir", str(run), "--batches", "2"], env=ENV,
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout), result.stderr

    def test_eval_explains_bits_per_dim(self):
        sigma = 0.1
        noisy, _ = train("tarflow-gaussian", 1, config="tiny-tarflow.toml",
                         sets=["data.noise=gaussian", f"data.noise_std={sigma}", "train.steps=5"])
        report, explanation = self.evaluate(noisy)
        # The entropy of N(0, sigma^2) per dimension plus TARFLOW's ln 128 bin term, in bits.
        floor = (0.5 * math.log(2 * math.pi * math.e * sigma * sigma) + math.log(128.0)) / math.log(2.0)
        self.assertAlmostEqual(report["noise_floor_bits_per_dim"], floor, places=12)
        self.assertGreater(report["bits_per_dim"], floor)
        self.assertIn(f"{report['bits_per_dim']:.3f}", explanation)
        self.assertIn(f"noise alone costs {floor:.3f}", explanation)
        exact, _ = train("tarflow-uniform", 1, config="tiny-tarflow.toml", sets=["train.steps=5"])
        report, explanation = self.evaluate(exact)
        self.assertNotIn("noise_floor_bits_per_dim", report)
        self.assertIn("exact cost", explanation)


if __name__ == "__main__":
    main()
