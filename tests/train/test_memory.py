#!/usr/bin/python3
"""The memory settings of train: gradient accumulation (train.micro_batch) trains to
the parameters of the whole batch at any world size, and activation recomputation
(train.recompute) to the same bits as without it, for TARFLOW and Glow, in fp32 and
bf16, with a resume in between. Both lower the peak of tensor memory that
`flowtrain bench` reports (counted bytes, not timings)."""
import json

from training_support import CONFIGS, mpirun, train, TrainingTestCase, main


def bench_peak_megabytes(config, sets):
    args = ["bench", str(CONFIGS / config), "--steps", "2"]
    for s in sets:
        args += ["--set", s]
    return json.loads(mpirun(1, args).stdout.strip().splitlines()[-1])["peak_tensor_mb"]


class MemoryTests(TrainingTestCase):
    def test_micro_batches_train_to_the_whole_batchs_parameters(self):
        conditional = ["model.num_classes=10", "model.label_dropout=0.5"]  # dropout keyed by sample position
        for name, config, sets in (("tarflow-conditional", "tiny-tarflow.toml", conditional),
                                   ("glow", "tiny-glow.toml", [])):
            with self.subTest(model=name):
                whole, _ = train(f"{name}-whole", 2, config, sets)
                # 12 examples per rank as 3 x 4 at 2 ranks, 24 as 4 x 6 at 1 rank; ActNorm
                # initialises from the whole batch either way.
                pieces = [train(f"{name}-micro-np{ranks}", ranks, config, sets + [f"train.micro_batch={micro}"])[0]
                          for ranks, micro in ((2, 4), (1, 6))]
                self.assert_same_parameters([whole] + pieces, 1e-5)

    def test_recomputation_trains_to_the_same_bits(self):
        state_keys = ("step", "optimizer_steps", "loss_scale")
        for name, config in (("tarflow", "tiny-tarflow.toml"), ("glow", "tiny-glow.toml")):
            for precision in ("fp32", "bf16"):
                with self.subTest(model=name, precision=precision):
                    sets = [f"train.precision={precision}", "optim.ema=0.9", "checkpoint.every_steps=10"]
                    plain, _ = train(f"{name}-{precision}-plain", 2, config, sets)
                    split, _ = train(f"{name}-{precision}-recompute", 2, config,
                                     sets + ["train.recompute=true", "train.steps=10"])
                    split, out = train(f"{name}-{precision}-recompute", 2, config, sets + ["train.recompute=true"])
                    self.assertIn("resumed from", out.stdout)
                    self.assert_identical_checkpoints(plain, split, f"{name} {precision} recomputed", state_keys)

    def test_both_lower_the_peak_of_tensor_memory(self):
        for config in ("tiny-tarflow.toml", "tiny-glow.toml"):
            with self.subTest(config=config):
                batch = ["train.global_batch=64"]
                plain = bench_peak_megabytes(config, batch)
                recomputed = bench_peak_megabytes(config, batch + ["train.recompute=true"])
                micro = bench_peak_megabytes(config, batch + ["train.micro_batch=16"])
                print(f"{config}: peak tensor MiB {plain:.1f}, recompute {recomputed:.1f}, micro_batch 16 {micro:.1f}")
                self.assertLess(recomputed, 0.8 * plain)
                self.assertLess(micro, 0.8 * plain)


if __name__ == "__main__":
    main()
