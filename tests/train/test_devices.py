#!/usr/bin/python3
"""train.device = "cpu:1" (host memory counted as a second device) trains Glow and
TARFLOW to the same bits as train.device = "cpu": parameters, optimizer state and
the sample grid. Any op that allocates on cpu:0 whatever its inputs makes the next
op mix devices and fail the run, so this finds them without a GPU."""

import filecmp

import numpy as np

from training_support import latest_checkpoint, read_vectors, train, TrainingTestCase, main

SAMPLES = "samples/step_00000020.png"


class DevicesTests(TrainingTestCase):
    def test_cpu1_trains_bit_identically(self):
        sample = ["log.sample_every_steps=20", "log.sample_count=4"]
        conditional = ["model.num_classes=10", "model.label_dropout=0.5"]
        cases = (("glow", "tiny-glow.toml", 1, sample),
                 ("glow-conditional", "tiny-glow.toml", 1, ["model.num_classes=10"]),
                 ("tarflow", "tiny-tarflow.toml", 2, sample),
                 ("tarflow-conditional", "tiny-tarflow.toml", 1, sample + conditional))
        for name, config, ranks, sets in cases:
            with self.subTest(model=name):
                runs = [train(f"{name}-{device}", ranks, config, sets + [f"train.device={device}"])[0]
                        for device in ("cpu", "cpu:1")]
                reference, state = read_vectors(latest_checkpoint(runs[0]))
                moved, _ = read_vectors(latest_checkpoint(runs[1]))
                self.assertEqual(state["global_state"]["step"], 20)
                self.assertEqual(sorted(moved), sorted(reference))
                for vector in reference:
                    self.assertTrue(np.array_equal(moved[vector], reference[vector]),
                                    f"{name}: {vector} differ between cpu and cpu:1")
                if "log.sample_every_steps=20" in sets:
                    self.assertTrue(filecmp.cmp(runs[0] / SAMPLES, runs[1] / SAMPLES, shallow=False),
                                    f"{name}: the sample grids differ")

    def test_a_gpu_device_is_still_refused(self):
        _, result = train("cuda", 1, "tiny-glow.toml", ["train.device=cuda"], check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("train.device", result.stderr + result.stdout)


if __name__ == "__main__":
    main()
