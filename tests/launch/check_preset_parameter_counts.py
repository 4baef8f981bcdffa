#!/usr/bin/python3
"""Checks that `flowtrain info` counts the parameters of every preset exactly as the
reference architectures define them (Glow: openai/glow's layers as DESIGN.md
specifies; TARFLOW: apple/ml-tarflow's blocks; flows of the library: nflows' MLP
conditioners, MADE and LU layers as the papers define them). The counts here are derived
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


def mlp(inputs, hidden, layers, outputs):
    """A ReLU MLP of `layers` hidden layers of `hidden` units, biases everywhere."""
    return inputs * hidden + hidden + (layers - 1) * (hidden * hidden + hidden) + hidden * outputs + outputs


def residual_flow_parameters(m, t):
    """i-ResNet's multiscale architecture as Residual Flows' code builds it: per block
    an ActNorm and LipSwish -> conv3x3 -> LipSwish -> conv1x1 -> LipSwish -> conv3x3
    (biases, one learned beta per LipSwish), squeezes between scales, a last ActNorm."""
    channels, hidden, actnorm = m["channels"], t.get("hidden", 128), t.get("actnorm", True)
    total = 0
    for scale in range(t.get("scales", 2)):
        if scale:
            channels *= 4
        per_block = 9 * channels * hidden + hidden + hidden * hidden + hidden + 9 * hidden * channels + channels + 3
        total += t.get("blocks", 4) * (per_block + (2 * channels if actnorm else 0))
    return total + (2 * channels if actnorm else 0)


def concat_squash_mlp_parameters(features, t):
    """FFJORD's ODEnet of ConcatSquashLinear layers: per layer in -> out a linear map
    (weight, bias), a hyper gate Linear(1, out) (weight, bias) and a hyper bias
    Linear(1, out) without bias."""
    widths = [features] + [t.get("hidden", 64)] * t.get("hidden_layers", 3) + [features]
    return sum(a * b + b + 2 * b + b for a, b in zip(widths, widths[1:]))


def cnf_multiscale_parameters(m, t):
    """FFJORD's multiscale stack without factor-out: per scale `blocks` CNF blocks, each
    an optional ActNorm and ConcatConv2d layers (3x3 over [t, x]: in + 1 channels, with
    bias) through `hidden_layers` layers of `hidden` channels; squeezes between scales."""
    channels, total = m["channels"], 0
    for scale in range(t.get("scales", 2)):
        if scale:
            channels *= 4
        widths = [channels] + [t.get("hidden", 64)] * t.get("hidden_layers", 2) + [channels]
        per_block = sum(9 * (a + 1) * b + b for a, b in zip(widths, widths[1:]))
        total += t.get("blocks", 1) * (per_block + (2 * channels if t.get("actnorm", False) else 0))
    return total


def flow_parameters(m):
    features = m.get("features", 0) or m.get("channels", 3) * m.get("image_size", 32) ** 2
    context = m.get("num_classes", 0)
    total, couplings = 0, 0
    entries = m.get("preprocess", []) + m.get("transforms", []) * m.get("repeat", 1)
    if any(t["type"] in ("realnvp", "flowpp") for t in entries):
        # The image architectures' counts are pinned against the reference implementations'
        # own code in tests/layers (image_flows_test.cpp, flowpp_test.cpp).
        return None
    for t in entries:
        kind, hidden, layers = t["type"], t.get("hidden", 256), t.get("hidden_layers", 2)
        spline = 3 * t.get("bins", 8) - 1
        if kind.endswith("_coupling"):
            # Alternating partitions: the first coupling transforms the odd features.
            mask = t.get("mask", "alternate")
            odd = couplings % 2 == 0 if mask == "alternate" else mask == "odd"
            couplings += 1
            transformed = features // 2 if odd else (features + 1) // 2
            per = {"additive_coupling": 1, "affine_coupling": 2, "spline_coupling": spline}[kind]
            total += mlp(features - transformed + context, hidden, layers, per * transformed)
        elif kind in ("maf", "iaf", "spline_autoregressive"):
            per = spline if kind == "spline_autoregressive" else 2
            total += mlp(features, hidden, layers, per * features) + (context * hidden + hidden if context else 0)
        elif kind == "lu_linear":
            total += 2 * features * features + 2 * features  # strictly lower, upper, log|s|, bias
        elif kind == "batch_norm":
            total += 2 * features
        elif kind == "diagonal_scaling":
            total += features
        elif kind == "planar":
            total += 2 * features + 1
        elif kind == "radial":
            total += features + 2
        elif kind in ("residual", "ddnf"):
            widths = [features] + [hidden] * layers + [features]
            total += sum(a * b + b + 1 for a, b in zip(widths, widths[1:]))  # LipSwish beta + linear
        elif kind == "residual_flow":
            total += residual_flow_parameters(m, t)
        elif kind == "cnf":
            total += concat_squash_mlp_parameters(features, t)
        elif kind == "cnf_multiscale":
            total += cnf_multiscale_parameters(m, t)
        elif kind not in ("logit", "reverse", "random_permutation"):
            raise ValueError(f"no reference count for transform type {kind}")
    if m.get("distribution") == "diagonal_normal":
        total += 2 * features if not context else mlp(context, m.get("width", 256), 2, 2 * features)
    return total


def reference_parameters(m):
    return {"glow": glow_parameters, "tarflow": tarflow_parameters, "flow": flow_parameters}[m["kind"]](m)


def main():
    binary, config_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    presets = sorted(config_dir.glob("*.toml"))
    assert len(presets) >= 12, f"expected the 12 presets in {config_dir}, found {len(presets)}"
    failures = 0
    for preset in presets:
        model = tomllib.loads(preset.read_text())["model"]
        expected = reference_parameters(model)
        result = subprocess.run([binary, "info", str(preset)], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"FAIL {preset.name}: flowtrain info exited {result.returncode}: {result.stderr.strip()}")
            failures += 1
            continue
        got = json.loads(result.stdout)["parameter_count"]
        if expected is None:
            print(f"skip {preset.name}: flowtrain {got:,} (counted in tests/layers)")
            continue
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
