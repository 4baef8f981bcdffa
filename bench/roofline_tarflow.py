#!/usr/bin/python3
"""Roofline estimate of one TARFLOW training step on one GPU, from FLOP and byte
counts of the kernels flowtrain runs (not a measurement).

usage: roofline_tarflow.py [CONFIG.toml] [--gpu h100|h200] [--batch N] [--recompute]

Each kernel of a step is charged max(FLOPs / peak, bytes / bandwidth): GEMMs (the
attention layers' QKV, output and MLP projections, proj_in/out) and fused causal
attention (cuDNN SDPA: the causal half, backward 2.5x the forward) against the
bf16 tensor-core peak; the memory-bound ops (layer norms, GELU, residual adds,
autocast's casts to bf16, the affine coupling and the optimizer) against HBM
bandwidth, with bytes as flowtrain's autocast moves them (activations f32,
GEMM operands cast to bf16). Backward: GEMMs twice the forward FLOPs, element-wise
ops twice the forward bytes. --recompute adds one forward per block. Prints the
ceiling on images/s and the kernels that cap it, as JSON lines.
"""
import argparse
import json
import pathlib
import tomllib

GPUS = {  # dense bf16 tensor-core TFLOP/s and HBM TB/s, NVIDIA data sheets (SXM)
    "h100": {"tflops": 989.4, "tbps": 3.35},
    "h200": {"tflops": 989.4, "tbps": 4.8},
}
F32, BF16 = 4, 2


def layer_kernels(t, d):
    """One pre-LN attention layer's forward kernels: (name, flops per image, bytes per
    image, bytes per step (weights), kind). A GEMM over the batch reads its weights once."""
    td = t * d
    cast = lambda n: n * (F32 + BF16)  # read f32, write bf16
    gemm = lambda name, k, n: (name, 2 * t * k * n, t * k * BF16 + t * n * F32, k * n * (F32 + BF16), "gemm")
    return [
        ("layer_norm", 8 * td, 2 * td * F32, 0, "memory"),
        ("cast_to_bf16", 0, cast(td), 0, "memory"),
        gemm("qkv_projection", d, 3 * d),
        ("cast_qkv_to_bf16", 0, cast(3 * td), 0, "memory"),
        ("causal_attention", 2 * t * (t + 1) * d, 4 * td * BF16, 0, "attention"),
        ("cast_to_bf16", 0, cast(td), 0, "memory"),
        gemm("output_projection", d, d),
        ("residual_add", td, 3 * td * F32, 0, "memory"),
        ("layer_norm", 8 * td, 2 * td * F32, 0, "memory"),
        ("cast_to_bf16", 0, cast(td), 0, "memory"),
        gemm("mlp_up", d, 4 * d),
        ("gelu", 8 * 4 * td, 2 * 4 * td * F32, 0, "memory"),
        ("cast_to_bf16", 0, cast(4 * td), 0, "memory"),
        gemm("mlp_down", 4 * d, d),
        ("residual_add", td, 3 * td * F32, 0, "memory"),
    ]


def block_kernels(t, d, token_dim, layers):
    out = [("proj_in", 2 * t * token_dim * d, t * (token_dim + d) * F32, token_dim * d * F32, "gemm"),
           ("add_position", t * d, 3 * t * d * F32, 0, "memory")]
    for _ in range(layers):
        out += layer_kernels(t, d)
    out += [("proj_out", 2 * t * d * 2 * token_dim, t * (d + 2 * token_dim) * F32, d * 2 * token_dim * F32, "gemm"),
            ("affine_coupling", 6 * t * token_dim, 5 * t * token_dim * F32, 0, "memory")]
    return out


def parameters(t, d, token_dim, blocks, layers):
    per_layer = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    per_block = token_dim * d + d + t * d + layers * per_layer + d * 2 * token_dim + 2 * token_dim
    return blocks * per_block


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config", nargs="?", default=str(pathlib.Path(__file__).parents[1] / "configs" /
                                                         "tarflow-imagenet64.toml"))
    parser.add_argument("--gpu", default="h100", choices=sorted(GPUS))
    parser.add_argument("--batch", type=int, default=32, help="images per GPU and step (default 32: 256 on 8 GPUs)")
    parser.add_argument("--recompute", action="store_true")
    args = parser.parse_args()
    model = tomllib.loads(pathlib.Path(args.config).read_text())["model"]
    c, s, p = model["channels"], model["image_size"], model["patch_size"]
    t, token_dim, d = (s // p) ** 2, c * p * p, model["width"]
    blocks, layers = model["blocks"], model["layers_per_block"]
    gpu = GPUS[args.gpu]
    peak, bandwidth = gpu["tflops"] * 1e12, gpu["tbps"] * 1e12

    kernels = block_kernels(t, d, token_dim, layers)
    per_step = {}  # name -> [flops, bytes, kind] over a training step of the whole batch
    forwards = 2 if args.recompute else 1
    for name, flops, image_bytes, weight_bytes, kind in kernels:
        backward_flops = {"gemm": 2.0, "attention": 2.5, "memory": 1.0}[kind] * flops
        nbytes = args.batch * image_bytes + weight_bytes
        entry = per_step.setdefault(name, [0.0, 0.0, kind])
        entry[0] += (forwards * flops + backward_flops) * args.batch * blocks
        entry[1] += (forwards + 2.0) * nbytes * blocks  # backward: twice the forward's traffic
    n_params = parameters(t, d, token_dim, blocks, layers)
    # AdamW over fp32 masters: read params, grads, two moments; write params, moments.
    per_step["adamw"] = [0.0, n_params * F32 * 7.0, "memory"]
    seconds = {name: max(e[0] / peak if e[2] != "memory" else 0.0, e[1] / bandwidth) for name, e in per_step.items()}
    step_seconds = sum(seconds.values())
    model_flops = 3 * sum(k[1] for k in kernels) * blocks * args.batch
    for name, (flops, nbytes, kind) in sorted(per_step.items(), key=lambda kv: -seconds[kv[0]]):
        bound = "compute" if kind != "memory" and flops / peak >= nbytes / bandwidth else "memory"
        print(json.dumps({"kernel": name, "kind": kind, "tflop_per_step": flops / 1e12, "gb_per_step": nbytes / 1e9,
                          "ms_per_step": seconds[name] * 1e3, "share": seconds[name] / step_seconds,
                          "bound_by": bound}))
    memory = sum(v for name, v in seconds.items() if per_step[name][2] == "memory")
    print(json.dumps({
        "config": args.config, "gpu": args.gpu, "tokens": t, "width": d, "blocks": blocks, "layers_per_block": layers,
        "parameters": n_params, "batch_per_gpu": args.batch, "recompute": args.recompute,
        "model_tflop_per_image": model_flops / args.batch / 1e12,
        "step_ms_floor": step_seconds * 1e3,
        "images_per_sec_ceiling": args.batch / step_seconds,
        "mfu_ceiling": model_flops / step_seconds / peak,
        "memory_bound_share": memory / step_seconds,
    }))

if __name__ == "__main__":
    main()
