#!/usr/bin/python3
"""Start-up errors: bad input fails at start with one line naming the key."""

from training_support import CONFIGS, DATA, SCRATCH, mpirun, TrainingTestCase, main


class StartupErrorsTests(TrainingTestCase):
    def test_bad_input_fails_at_start_with_one_line(self):
        cases = {
            "missing data folder": ("glow", ["data.train=/nonexistent/fashion"], 1, "data.train"),
            "unknown config key": ("glow", ["model.widht=8"], 1, "model.widht"),
            "model/data shape mismatch": ("glow", ["model.image_size=32"], 1, "model.image_size"),
            "global batch not divisible": ("glow", ["train.global_batch=25"], 2, "train.global_batch"),
            "micro-batch not dividing a rank's share": ("glow", ["train.micro_batch=5"], 2, "train.micro_batch"),
            "recompute for a model without it": ("realnvp", ["train.recompute=true"], 1, "train.recompute"),
            # Flow++'s dequantizer replaces the data's noise.
            "noise for a learned dequantizer": ("flowpp", ["data.noise=gaussian"], 1, "data.noise"),
        }
        for name, (family, sets, ranks, key) in cases.items():
            with self.subTest(case=name):
                run_dir = SCRATCH / "runs" / f"bad-{key}"
                args = ["train", str(CONFIGS / f"tiny-{family}.toml"), "--run-dir", str(run_dir),
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
    main()
