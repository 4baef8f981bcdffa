#!/usr/bin/python3
"""Resume: bit-exact against an uninterrupted run, at fp32 and bf16, Glow and TARFLOW, and
a Residual Flow (its power-iteration vectors and per-example probe streams)."""
import json
import subprocess

from training_support import BINARY, ENV, metrics, train, TrainingTestCase, main


class ResumeTests(TrainingTestCase):
    def test_resume_is_bit_exact(self):
        for config, precision in (("tiny-glow.toml", "fp32"), ("tiny-glow.toml", "bf16"),
                                  ("tiny-tarflow.toml", "fp32"), ("tiny-tarflow.toml", "bf16"),
                                  ("tiny-residual.toml", "fp32")):
            with self.subTest(config=config, precision=precision):
                sets = [f"train.precision={precision}", "optim.ema=0.9"]
                straight, _ = train(f"{config}-{precision}-straight", 2, config, sets + ["train.steps=40"])
                split, _ = train(f"{config}-{precision}-split", 2, config, sets + ["train.steps=20"])
                split, out = train(f"{config}-{precision}-split", 2, config, sets + ["train.steps=40"])
                self.assertIn("resumed from", out.stdout)
                self.assert_identical_checkpoints(straight, split, "after resume",
                                                  ("step", "optimizer_steps", "data_epoch", "data_consumed"))
                evals = [subprocess.run([BINARY, "eval", "--run-dir", str(run), "--batches", "4"], env=ENV,
                                        capture_output=True, text=True, check=True).stdout for run in (straight, split)]
                self.assertEqual(json.loads(evals[0])["bits_per_dim"], json.loads(evals[1])["bits_per_dim"])
                steps = [m["step"] for m in metrics(split) if "bits_per_dim" in m]
                self.assertEqual(steps, sorted(steps))  # the metrics file continues, not restarts
                self.assertEqual(steps[-1], 40)


if __name__ == "__main__":
    main()
