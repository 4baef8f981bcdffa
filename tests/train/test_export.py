#!/usr/bin/python3
"""Weights that travel: `flowtrain export` writes safetensors that PyTorch reference
models (tests/golden/: ml-tarflow's module tree, openai/glow's semantics) load as
they are and evaluate to flowtrain's log_prob; a PyTorch model's safetensors come
in through `flowtrain train --init-from` and give PyTorch's log_prob back. log_prob
is compared on noise-free Fashion-MNIST test images, as `flowtrain reconstruct`
reports it, to 1e-5 relative.

Run by CTest with Debian's python3 (torch, numpy) and PyPI's safetensors on
PYTHONPATH (cluster/install-deps.sh). Environment: FLOWTRAIN_BINARY,
FLOWTRAIN_SOURCE_DIR, FLOWTRAIN_SCRATCH_ROOT (scratch folders, removed on
success), FLOWTRAIN_FASHION_MNIST (the IDX folder).
"""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import unittest

import numpy as np
import torch
from safetensors.torch import load_file, save_file

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import scratch  # noqa: E402  (tests/support/scratch.py: removed when every test passed)
SCRATCH = scratch.make_scratch_dir("flowtrain-export")
FASHION = pathlib.Path(os.environ["FLOWTRAIN_FASHION_MNIST"])
CONFIGS = SOURCE / "tests" / "train"
sys.path.insert(0, str(SOURCE / "tests" / "golden"))
import make_glow_golden as glow_reference  # noqa: E402
import make_tarflow_golden as tarflow_reference  # noqa: E402

ENV = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")
IMAGES = 6
TARFLOW = dict(in_channels=1, img_size=28, patch_size=7, channels=32, num_blocks=2, layers_per_block=1,
               head_dim=16, num_classes=0)  # tests/train/tiny-tarflow.toml
GLOW = dict(channels=1, image_size=28, levels=2, depth=2, width=16, coupling="affine", permutation="lu",
            learn_top=True, num_classes=0)  # tests/train/tiny-glow.toml


def flowtrain(*args):
    result = subprocess.run([BINARY, *map(str, args)], env=ENV, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"flowtrain {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result.stdout


def test_images():
    """The first IMAGES test images as flowtrain's reconstruct reads them, uint8 [N, 28, 28]."""
    import gzip
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return data.reshape(-1, 1, 28, 28)[:IMAGES]


def flowtrain_log_prob(run_dir):
    out = json.loads(flowtrain("reconstruct", "--run-dir", run_dir, "--n", IMAGES, "--out", run_dir / "rec.png"))
    return np.array(out["log_prob"])


def tarflow_log_prob(model, pixels):
    x = torch.from_numpy(pixels.astype(np.float32)) / 127.5 - 1.0  # symmetric range, no noise
    with torch.no_grad():
        z, logdets = model(x)
    dims = x[0].numel()
    return ((-0.5 * z.double() ** 2 - 0.5 * math.log(2 * math.pi)).sum(dim=[1, 2]) + logdets.double() * dims).numpy()


def glow_log_prob(tensors, pixels):
    x = torch.from_numpy(pixels.astype(np.float32)) / 255.0 - 0.5  # centered range, 8 bits, no noise
    params = {k: v.float() for k, v in tensors.items() if not k.endswith(("initialized", "permutation", "sign_s"))}
    buffers = {k: v.float() for k, v in tensors.items() if k not in params}
    with torch.no_grad():
        log_prob, _ = glow_reference.glow_forward(GLOW, params, buffers, x, None)
    return log_prob.double().numpy()


def relative(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


class ExportTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = SCRATCH / "data"
        flowtrain("data", "convert", "--from", "idx", FASHION / "t10k-images-idx3-ubyte.gz",
                  FASHION / "t10k-labels-idx1-ubyte.gz", "--out", cls.data, "--shards", 2)
        cls.pixels = test_images()

    def train(self, name, config, *sets):
        run_dir = SCRATCH / name
        args = ["train", CONFIGS / config, "--run-dir", run_dir, "--set", f"data.train={self.data}",
                "--set", f"data.test={self.data}"]
        for s in sets:
            args += ["--set", s] if "=" in s else [s]
        flowtrain(*args)
        return run_dir

    def test_tarflow_export_loads_into_ml_tarflow_modules(self):
        run_dir = self.train("tarflow", "tiny-tarflow.toml", "train.steps=10")
        out = SCRATCH / "tarflow.safetensors"
        flowtrain("export", "--run-dir", run_dir, "--out", out)
        model = tarflow_reference.Model(**TARFLOW)
        model.load_state_dict(load_file(str(out)), strict=True)  # every name and shape, nothing left over
        ours = flowtrain_log_prob(run_dir)
        self.assertLess(relative(ours, tarflow_log_prob(model.eval(), self.pixels)), 1e-5)

    def test_glow_export_evaluates_in_the_reference_glow(self):
        run_dir = self.train("glow", "tiny-glow.toml", "train.steps=10")
        out = SCRATCH / "glow.safetensors"
        flowtrain("export", "--run-dir", run_dir, "--out", out)
        tensors = load_file(str(out))
        shapes, buffer_shapes = glow_reference.parameter_shapes(GLOW)
        self.assertEqual(sorted(tensors), sorted(n for n, _ in shapes + buffer_shapes))
        ours = flowtrain_log_prob(run_dir)
        self.assertLess(relative(ours, glow_log_prob(tensors, self.pixels)), 1e-5)

    def test_pytorch_tarflow_comes_in_with_init_from(self):
        torch.manual_seed(5)
        model = tarflow_reference.Model(**TARFLOW)
        tarflow_reference.randomise(model)
        weights = SCRATCH / "from-pytorch.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
        # One step at learning rate zero: the checkpoint holds the imported weights unchanged.
        run_dir = self.train("init-from", "tiny-tarflow.toml", "train.steps=1", "optim.lr=0", "optim.warmup_steps=0",
                             "optim.weight_decay=0", "--init-from", str(weights))
        self.assertIn(f"initialized the weights from {weights}", (run_dir / "log.txt").read_text())
        ours = flowtrain_log_prob(run_dir)
        self.assertLess(relative(ours, tarflow_log_prob(model.eval(), self.pixels)), 1e-5)
        # And out again: the same tensors, bit for bit.
        back = SCRATCH / "back.safetensors"
        flowtrain("export", "--run-dir", run_dir, "--out", back)
        again = load_file(str(back))
        for name, tensor in model.state_dict().items():
            self.assertTrue(torch.equal(again[name], tensor), name)

    def test_bad_files_are_refused_naming_the_tensor(self):
        torch.manual_seed(6)
        state = tarflow_reference.Model(**TARFLOW).state_dict()
        state["blocks.0.proj_in.weight"] = state["blocks.0.proj_in.weight"][:, :10].contiguous()
        bad = SCRATCH / "bad.safetensors"
        save_file(state, str(bad))
        result = subprocess.run([BINARY, "train", CONFIGS / "tiny-tarflow.toml", "--run-dir", SCRATCH / "bad-run",
                                 "--set", f"data.train={self.data}", "--init-from", bad],
                                env=ENV, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("blocks.0.proj_in.weight", result.stderr)
        self.assertIn("has shape [32, 10]", result.stderr)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    scratch.finish(SCRATCH, result.wasSuccessful())
    sys.exit(0 if result.wasSuccessful() else 1)
