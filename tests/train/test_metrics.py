#!/usr/bin/python3
"""Metrics: the TensorBoard event file holds what metrics.jsonl says, and the sample grids."""
import json
import subprocess

import numpy as np

from training_support import SOURCE, metrics, train, TrainingTestCase, main


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


if __name__ == "__main__":
    main()
