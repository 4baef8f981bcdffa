#!/usr/bin/python3
"""train.device = "cpu:1" (host memory counted as a second device) trains to the same
bits as train.device = "cpu": parameters, EMA, optimizer state and the sample grid,
with the optimizer, EMA, clipping, the fp16 loss scaler, ZeRO-1 and checkpoint resume
all running on the model's device. Any op that allocates on cpu:0 whatever its inputs
makes the next op mix devices and fail the run, so this finds them without a GPU.
A checkpoint written on one device resumes on the other. The GPU settings fail at start
with one line naming train.device."""

import filecmp
import json
import subprocess

from training_support import BINARY, ENV, metrics, train, TrainingTestCase, main

SAMPLES = "samples/step_00000020.png"
OPTIMIZATION = ["optim.ema=0.9", "optim.clip_norm=0.5"]


class DevicesTests(TrainingTestCase):
    def assert_same_vectors(self, a_run, b_run, what):
        return self.assert_identical_checkpoints(a_run, b_run, what,
                                                 ("step", "optimizer_steps", "loss_scale", "ema_initialized"))

    def test_cpu1_trains_bit_identically(self):
        sample = ["log.sample_every_steps=20", "log.sample_count=4"]
        conditional = ["model.num_classes=10", "model.label_dropout=0.5"]
        cases = (("glow", "tiny-glow.toml", 1, sample + OPTIMIZATION),
                 ("glow-conditional", "tiny-glow.toml", 1, ["model.num_classes=10"]),
                 ("glow-fp16-zero1", "tiny-glow.toml", 2, ["train.precision=fp16", "train.zero1=true"] + OPTIMIZATION),
                 ("tarflow", "tiny-tarflow.toml", 2, sample + OPTIMIZATION),
                 ("tarflow-conditional", "tiny-tarflow.toml", 1, sample + conditional))
        for name, config, ranks, sets in cases:
            with self.subTest(model=name):
                runs = [train(f"{name}-{device}", ranks, config, sets + [f"train.device={device}"])[0]
                        for device in ("cpu", "cpu:1")]
                state = self.assert_same_vectors(runs[0], runs[1], name)
                self.assertEqual(state["global_state"]["step"], 20)
                if "train.precision=fp16" in sets:
                    self.assertGreater(state["global_state"]["loss_scale"], 1.0)
                if "log.sample_every_steps=20" in sets:
                    self.assertTrue(filecmp.cmp(runs[0] / SAMPLES, runs[1] / SAMPLES, shallow=False),
                                    f"{name}: the sample grids differ")

    def test_resume_on_cpu1_and_across_devices_is_bit_exact(self):
        sets = OPTIMIZATION + ["checkpoint.every_steps=10"]
        straight, _ = train("resume-straight", 2, "tiny-glow.toml", sets + ["train.device=cpu:1"])
        # Interrupted at step 10 on cpu:1, resumed on cpu:1 and, from a copy, on cpu.
        split, _ = train("resume-split", 2, "tiny-glow.toml", sets + ["train.device=cpu:1", "train.steps=10"])
        crossed = split.parent / "resume-crossed"
        subprocess.run(["cp", "-r", str(split), str(crossed)], check=True)
        split, out = train("resume-split", 2, "tiny-glow.toml", sets + ["train.device=cpu:1"])
        self.assertIn("resumed from", out.stdout)
        crossed, out = train("resume-crossed", 2, "tiny-glow.toml", sets + ["train.device=cpu"])
        self.assertIn("resumed from", out.stdout)
        self.assertIn("train.device changed", out.stdout)
        self.assert_same_vectors(straight, split, "resumed on cpu:1")
        self.assert_same_vectors(straight, crossed, "written on cpu:1, resumed on cpu")

    def test_gpu_and_unknown_devices_fail_with_one_line(self):
        cuda_build, gpus = cuda_build_and_gpus()
        expected = [("gpu", "expected cpu, cpu:1, cuda or cuda:N"), ("cpu:2", "expected cpu, cpu:1, cuda or cuda:N")]
        if not cuda_build:
            expected.append(("cuda", "built without CUDA"))
        elif gpus == 0:
            expected += [("cuda", "no CUDA device is visible"), ("cuda:3", "no CUDA device is visible")]
        else:
            expected.append((f"cuda:{gpus}", f"only {gpus} CUDA device"))
        for device, message in expected:
            with self.subTest(device=device):
                _, result = train(f"bad-{device}", 1, "tiny-glow.toml", [f"train.device={device}"], check=False)
                self.assertNotEqual(result.returncode, 0)
                errors = [line for line in result.stderr.splitlines() if "train.device" in line]
                self.assertTrue(errors, result.stderr)
                self.assertIn(message, errors[0])
                self.assertIn(f'"{device}"', errors[0])

    def test_model_commands_give_the_same_output_on_cpu1(self):
        sets = ["model.num_classes=10", "train.steps=10"]
        run, _ = train("commands", 1, "tiny-tarflow.toml", sets)
        outputs = {}
        for device in ("cpu", "cpu:1"):
            folder = run / f"out-{device.replace(':', '')}"
            folder.mkdir()
            commands = {"eval": ["eval", "--batches", "2"],
                        "sample": ["sample", "--n", "4", "--out", str(folder / "sample.png")],
                        "reconstruct": ["reconstruct", "--n", "3", "--out", str(folder / "reconstruct.png")],
                        "interpolate": ["interpolate", "--from-test", "0", "1", "--steps", "3",
                                        "--out", str(folder / "interpolate.png")]}
            for name, args in commands.items():
                result = subprocess.run([BINARY] + args + ["--run-dir", str(run), "--device", device], env=ENV,
                                        capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, f"{name} on {device}: {result.stderr}")
                outputs[(device, name)] = result.stdout.replace(str(folder), "OUT")
        for name in ("eval", "sample", "reconstruct", "interpolate"):
            with self.subTest(command=name):
                a, b = (json.loads(outputs[(d, name)]) for d in ("cpu", "cpu:1"))
                a.pop("sampling_seconds", None), b.pop("sampling_seconds", None)
                self.assertEqual(a, b)
                if name != "eval":
                    self.assertTrue(filecmp.cmp(run / "out-cpu" / f"{name}.png", run / "out-cpu1" / f"{name}.png",
                                                shallow=False), f"{name}: the pictures differ")
        cuda_build, gpus = cuda_build_and_gpus()
        if gpus == 0:
            result = subprocess.run([BINARY, "eval", "--run-dir", str(run), "--device", "cuda"], env=ENV,
                                    capture_output=True, text=True)
            self.assertNotEqual(result.returncode, 0)
            errors = [line for line in result.stderr.splitlines() if line.startswith("flowtrain: error:")]
            self.assertEqual(len(errors), 1, result.stderr)
            self.assertIn('--device = "cuda"', errors[0])
            self.assertIn("built without CUDA" if not cuda_build else "no CUDA device is visible", errors[0])

    def test_cuda_trains_like_the_cpu(self):
        """Label gpu in spirit: runs where a GPU exists (tests/gpu/device-check.sh), skips here."""
        cuda_build, gpus = cuda_build_and_gpus()
        if not cuda_build or gpus == 0:
            self.skipTest("no CUDA device (or a build without CUDA)")
        sets = OPTIMIZATION + ["checkpoint.every_steps=10"]
        runs = {device: train(f"fp32-{device}", 1, "tiny-glow.toml", sets + [f"train.device={device}"])[0]
                for device in ("cpu", "cuda")}
        self.assert_same_parameters([runs["cpu"], runs["cuda"]], 1e-5)
        bf16 = {device: train(f"bf16-{device}", 1, "tiny-tarflow.toml", [f"train.device={device}", "train.precision=bf16"])[0]
                for device in ("cpu", "cuda")}
        losses = [[m["loss"] for m in metrics(bf16[d]) if "loss" in m] for d in ("cpu", "cuda")]
        self.assertEqual(len(losses[0]), len(losses[1]))
        for a, b in zip(*losses):
            self.assertLess(abs(a - b), 2e-2 * max(1.0, abs(a)))
        # A resume on the GPU is bit-exact; a GPU checkpoint resumes and evaluates on the CPU.
        split, _ = train("gpu-split", 1, "tiny-glow.toml", sets + ["train.device=cuda", "train.steps=10"])
        crossed = split.parent / "gpu-crossed"
        subprocess.run(["cp", "-r", str(split), str(crossed)], check=True)
        split, out = train("gpu-split", 1, "tiny-glow.toml", sets + ["train.device=cuda"])
        self.assertIn("resumed from", out.stdout)
        self.assert_same_vectors(runs["cuda"], split, "resumed on cuda")
        crossed, out = train("gpu-crossed", 1, "tiny-glow.toml", sets + ["train.device=cpu"])
        self.assertIn("resumed from", out.stdout)
        cpu_eval = subprocess.run([BINARY, "eval", "--run-dir", str(runs["cuda"]), "--batches", "2"], env=ENV,
                                  capture_output=True, text=True, check=True)
        gpu_eval = subprocess.run([BINARY, "eval", "--run-dir", str(runs["cuda"]), "--batches", "2", "--device", "cuda"],
                                  env=ENV, capture_output=True, text=True, check=True)
        bpd = [json.loads(r.stdout)["bits_per_dim"] for r in (cpu_eval, gpu_eval)]
        self.assertLess(abs(bpd[0] - bpd[1]), 1e-4)
        subprocess.run([BINARY, "sample", "--run-dir", str(bf16["cuda"]), "--n", "4", "--device", "cuda",
                        "--out", str(bf16["cuda"] / "cuda-sample.png")], env=ENV, check=True, capture_output=True)
        if gpus >= 2:
            pair = train("nccl-2", 2, "tiny-glow.toml", sets + ["train.device=cuda"])[0]
            self.assert_same_parameters([runs["cuda"], pair], 1e-5)


def cuda_build_and_gpus():
    version = subprocess.run([BINARY, "version"], env=ENV, capture_output=True, text=True, check=True).stdout
    if "cuda backend: on" not in version:
        return False, 0
    try:
        info = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    except FileNotFoundError:
        return True, 0
    return True, len([line for line in info.stdout.splitlines() if line.startswith("GPU")]) if info.returncode == 0 else 0


if __name__ == "__main__":
    main()
