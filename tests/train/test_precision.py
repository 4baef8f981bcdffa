#!/usr/bin/python3
"""Mixed precision: bf16 and fp16 training lowers bits/dim."""

from training_support import metrics, train, TrainingTestCase, main


class PrecisionTests(TrainingTestCase):
    def test_bf16_and_fp16_train(self):
        for precision in ("bf16", "fp16"):
            with self.subTest(precision=precision):
                run, _ = train(f"glow-{precision}", 2, sets=[f"train.precision={precision}", "train.steps=40",
                                                           "log.every_steps=10"])
                bpd = [m["bits_per_dim"] for m in metrics(run) if "bits_per_dim" in m]
                self.assertLess(bpd[-1], bpd[0] - 0.2, f"{precision}: bits/dim {bpd}")


if __name__ == "__main__":
    main()
