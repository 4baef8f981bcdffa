#!/usr/bin/python3
"""`flowtrain sample --method jacobi` on a trained tiny TARFLOW: the grid equals the
sequential one (8-bit pixels within one level at the default tolerance, exactly
at tolerance 0), the JSON reports windows and iterations (never more passes than
the sequential inverse), and bad combinations fail with one line naming the flag.
"""
import json
import subprocess

from training_support import BINARY, ENV, TrainingTestCase, main, train
from png_file import png_pixels  # noqa: E402  (tests/support/, on sys.path via training_support)


def sample(run_dir, out, *args, check=True):
    result = subprocess.run([BINARY, "sample", "--run-dir", str(run_dir), "--n", "6", "--seed", "5",
                             "--out", str(out), *args], env=ENV, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"sample {args} exited {result.returncode}:\n{result.stderr}")
    return result


class JacobiSamplingTests(TrainingTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tarflow, _ = train("tarflow", 1, config="tiny-tarflow.toml", sets=["train.steps=10"])
        cls.glow, _ = train("glow", 1, config="tiny-glow.toml", sets=["train.steps=2"])

    def test_jacobi_grid_equals_sequential_grid(self):
        out = self.tarflow
        sequential = json.loads(sample(out, out / "sequential.png").stdout)["inversion"]
        self.assertEqual(sequential["method"], "sequential")
        # tiny-tarflow: 2 blocks of 16 tokens, one pass per token after the first.
        self.assertEqual(sequential["iterations"], 2 * 15)
        reference = png_pixels(out / "sequential.png")
        for args in (["--tolerance", "0"], [], ["--jacobi-block", "4"], ["--jacobi-block", "4", "--tolerance", "0"]):
            result = json.loads(sample(out, out / "jacobi.png", "--method", "jacobi", *args).stdout)["inversion"]
            self.assertEqual(result["method"], "jacobi")
            self.assertLessEqual(result["iterations"], 2 * 15, args)
            self.assertGreater(result["iterations"], 0)
            pixels = png_pixels(out / "jacobi.png")
            self.assertEqual(len(pixels), len(reference))
            worst = max(abs(a - b) for a, b in zip(pixels, reference))
            self.assertLessEqual(worst, 1, args)
        whole = json.loads(sample(out, out / "jacobi.png", "--method", "jacobi").stdout)["inversion"]
        self.assertEqual(whole["windows"], 2)  # --jacobi-block 0: one window per block

    def test_bad_combinations_fail_naming_the_flag(self):
        cases = [
            (self.tarflow, ["--jacobi-block", "4"], "--jacobi-block, --tolerance and --max-iterations need --method jacobi"),
            (self.tarflow, ["--method", "jacobi", "--tolerance", "-1e-3"], "--tolerance must be >= 0"),
            (self.tarflow, ["--method", "jacobi", "--max-iterations", "1", "--tolerance", "1e-12"],
             "not converged after 1 iterations"),
            (self.glow, ["--method", "jacobi"], "--method jacobi applies to TARFLOW models"),
        ]
        for run_dir, args, message in cases:
            result = sample(run_dir, run_dir / "bad.png", *args, check=False)
            self.assertEqual(result.returncode, 1, (args, result.stderr))
            self.assertIn(message, result.stderr, args)
            self.assertFalse((run_dir / "bad.png").exists(), args)


if __name__ == "__main__":
    main()
