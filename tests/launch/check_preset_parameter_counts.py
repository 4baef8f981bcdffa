#!/usr/bin/python3
"""Checks that `flowtrain info` counts the parameters of every preset exactly as the
reference architectures define them (Glow: openai/glow's layers as DESIGN.md
specifies; TARFLOW: apple/ml-tarflow's blocks). The counts here are derived
independently from the architecture, not from flowtrain's code.

usage: check_preset_parameter_counts.py FLOWTRAIN_BINARY CONFIG_DIR
"""
import json
import pathlib
import subprocess
import sys
import tomllib


def glow_parameters(m):
    c0 = m["channels"] * 4
    width = m["width"]
    affine = m.get("coupling", "affine") == "affine"
    lu = m.get("permutation", "lu") == "lu"
    total, channels = 0, c0
    for level in range(m["levels"]):
        for _ in range(m["depth"]):
            total += 2 * channels  # actnorm bias, logs
            total += 2 * channels * channels + channels if lu else channels * channels
            half = channels // 2
            out = channels if affine else half
            total += 9 * half * width + 2 * width  # conv3x3 (no bias) + actnorm
            total += width * width + 2 * width  # conv1x1 (no bias) + actnorm
            total += 9 * width * out + 2 * out  # zero conv: weight, bias, logs
        if level + 1 < m["levels"]:
            total += 9 * (channels // 2) * channels + 2 * channels  # split prior zero conv
            channels *= 2
    if m.get("learn_top", True):
        total += 9 * (2 * channels) ** 2 + 2 * (2 * channels)
    classes = m.get("num_classes", 0)
    if classes:
        total += classes * 2 * channels + 2 * channels
    return total


def tarflow_parameters(m):
    width, patch = m["width"], m["patch_size"]
    tokens = (m["image_size"] // patch) ** 2
    token_dim = m["channels"] * patch * patch
    per_layer = 12 * width * width + 13 * width  # 2 LayerNorms, qkv, out, MLP 4x
    per_block = token_dim * width + width + tokens * width + m["layers_per_block"] * per_layer
    per_block += width * 2 * token_dim + 2 * token_dim  # proj_out
    per_block += m.get("num_classes", 0) * width  # class embedding
    return m["blocks"] * per_block


def main():
    binary, config_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    presets = sorted(config_dir.glob("*.toml"))
    assert len(presets) >= 12, f"expected the 12 presets in {config_dir}, found {len(presets)}"
    failures = 0
    for preset in presets:
        model = tomllib.loads(preset.read_text())["model"]
        expected = glow_parameters(model) if model["kind"] == "glow" else tarflow_parameters(model)
        result = subprocess.run([binary, "info", str(preset)], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"FAIL {preset.name}: flowtrain info exited {result.returncode}: {result.stderr.strip()}")
            failures += 1
            continue
        got = json.loads(result.stdout)["parameter_count"]
        status = "ok  " if got == expected else "FAIL"
        failures += got != expected
        print(f"{status} {preset.name}: flowtrain {got:,} reference {expected:,}")
    if failures == 0:
        tarflow64 = tarflow_parameters(tomllib.loads((config_dir / "tarflow-imagenet64.toml").read_text())["model"])
        assert 455e6 < tarflow64 < 465e6, tarflow64  # "about 460M" in the paper
    print(f"{len(presets) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
