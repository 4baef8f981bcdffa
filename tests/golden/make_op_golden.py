#!/usr/bin/python3
"""Golden data for the PyTorch parity tests of every differentiable op.

Usage: make_op_golden.py OUT.h5   (Debian's /usr/bin/python3: python3-torch, h5py, numpy)

For each case PyTorch (f32, CPU) computes the forward output of the op on fixed
random inputs, then backpropagates a fixed random upstream gradient. The C++
test tests/framework/op_parity_test.cpp rebuilds the op with framework/ops/ops.h
and compares. Layout, one group per case:

  /<case>/input0, input1, ...          f32 inputs (int64 for indices: no gradient)
  /<case>/output, grad_output          single-output ops
  /<case>/output0.., grad_output0..    multi-output ops (split, chunk)
  /<case>/grad_input<i>                d(sum(output * grad_output))/d(input<i>), float inputs only
  attributes: op (the C++ function or Tensor method), num_inputs, num_outputs and
              the op's parameters (dim, dims, keepdim, padding, exponent, eps, ...)

Every case is seeded from its own name, so adding a case never changes the
others and the file is the same on every run.
"""
import os
import sys
import zlib

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def seed_for(name):
    # crc32 rather than hash(): Python salts str hashes per process.
    torch.manual_seed(zlib.crc32(name.encode()))


# ---- input generators (use torch's global generator, seeded per case) -----------

def randn(*shape, scale=1.0):
    return torch.randn(shape) * scale


def positive(*shape):
    # Away from 0 where log, sqrt, pow with fractional exponents and division need it.
    return torch.rand(shape) * 1.5 + 0.5


def away_from_zero(*shape):
    # Kinks (abs, relu) and poles (1/x) stay far from every input.
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    return sign * (torch.rand(shape) * 1.7 + 0.3)


def distinct(*shape):
    # A shuffled grid, 0.1 apart: no ties, so max has one well-defined argmax.
    n = int(np.prod(shape))
    return ((torch.randperm(n).float() - n / 2) * 0.1).reshape(*shape)


def wide(*shape):
    # Covers the saturated tails of sigmoid-like functions (softplus switches to x above 20).
    n = int(np.prod(shape))
    return torch.linspace(-30.0, 30.0, n)[torch.randperm(n)].reshape(*shape)


def well_conditioned(n, negative_det=False):
    a = torch.randn(n, n) * 0.3 + torch.eye(n) * 2.0
    if negative_det:
        a[0] = -a[0]
    return a


def triangular_system(n, cols):
    # A full matrix: the solver must read only the requested triangle (and diagonal
    # unless unit), so the other entries are deliberately not zero.
    a = torch.randn(n, n) * 0.3
    diag = torch.where(torch.rand(n) < 0.5, -1.0, 1.0) * (torch.rand(n) + 1.0)
    a[range(n), range(n)] = diag
    return a, torch.randn(n, cols)


# ---- reference implementations of composite ops ---------------------------------------

def causal_attention(q, k, v, scale):
    t = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) * scale
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


def space_to_depth(x, f):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // f, f, w // f, f).permute(0, 1, 3, 5, 2, 4).reshape(n, c * f * f, h // f, w // f)


def depth_to_space(x, f):
    n, c, h, w = x.shape
    return x.reshape(n, c // (f * f), f, f, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (f * f), h * f, w * f)


# ---- writer -----------------------------------------------------------------------------

def attr_value(value):
    if isinstance(value, str):
        return np.bytes_(value)  # fixed-length ASCII: simplest to read with the HDF5 C API
    if isinstance(value, bool):
        return np.int64(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value, dtype=np.int64)
    raise TypeError(f"unsupported attribute {value!r}")


class GoldenWriter:
    def __init__(self, h5):
        self.h5 = h5

    def case(self, name, op, make_inputs, fn, **params):
        """make_inputs() -> list of tensors; fn(*inputs) -> tensor or list of tensors."""
        if name in self.h5:
            raise ValueError(f"duplicate case {name}")
        seed_for(name)
        inputs = [t.detach().clone() for t in make_inputs()]
        for t in inputs:
            if t.is_floating_point():
                assert t.dtype == torch.float32, name
                t.requires_grad_(True)
        out = fn(*inputs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        grads_out = [torch.randn(o.shape) for o in outs]
        torch.autograd.backward(outs, grads_out)

        g = self.h5.create_group(name)
        g.attrs["op"] = attr_value(op)
        g.attrs["num_inputs"] = attr_value(len(inputs))
        g.attrs["num_outputs"] = attr_value(len(outs))
        for key, value in params.items():
            g.attrs[key] = attr_value(value)
        for i, t in enumerate(inputs):
            g.create_dataset(f"input{i}", data=t.detach().numpy())
            if t.is_floating_point():
                # An input the output does not depend on gets None: its gradient is zero.
                grad = t.grad if t.grad is not None else torch.zeros_like(t)
                assert torch.isfinite(grad).all(), name
                g.create_dataset(f"grad_input{i}", data=grad.numpy())
        suffix = (lambda i: "") if len(outs) == 1 else str
        for i, (o, go) in enumerate(zip(outs, grads_out)):
            assert o.dtype == torch.float32 and torch.isfinite(o).all(), name
            g.create_dataset(f"output{suffix(i)}", data=o.detach().numpy())
            g.create_dataset(f"grad_output{suffix(i)}", data=go.numpy())


def write_cases(w):
    # ---- element-wise binary, with broadcasting --------------------------------------
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    shape_pairs = {
        "same": ([3, 4], [3, 4]),
        "bcast_413_53": ([4, 1, 3], [5, 3]),
        "bcast_234_4": ([2, 3, 4], [4]),
        "bcast_31_14": ([3, 1], [1, 4]),
        "bcast_left_1": ([1], [2, 3]),
        "bcast_0d": ([2, 3], []),
    }
    for op, fn in binary.items():
        for tag, (sa, sb) in shape_pairs.items():
            rhs = away_from_zero if op == "div" else randn
            w.case(f"{op}_{tag}", op, lambda sa=sa, sb=sb, rhs=rhs: [randn(*sa), rhs(*sb)], fn)

    w.case("add_scalar", "add_scalar", lambda: [randn(3, 4)], lambda x: x + 2.5, scalar=2.5)
    w.case("add_scalar_negative", "add_scalar", lambda: [randn(2, 3, 2)], lambda x: x + (-0.75), scalar=-0.75)
    w.case("mul_scalar", "mul_scalar", lambda: [randn(3, 4)], lambda x: x * -1.5, scalar=-1.5)
    w.case("mul_scalar_small", "mul_scalar", lambda: [randn(5)], lambda x: x * 0.125, scalar=0.125)

    # ---- element-wise unary --------------------------------------------------------------
    shape = (3, 4, 5)
    unary = [
        ("neg", torch.neg, randn),
        ("exp", torch.exp, randn),
        ("log", torch.log, positive),
        ("sqrt", torch.sqrt, positive),
        ("square", torch.square, randn),
        ("abs", torch.abs, away_from_zero),
        ("sigmoid", torch.sigmoid, lambda *s: randn(*s, scale=3.0)),
        ("log_sigmoid", F.logsigmoid, lambda *s: randn(*s, scale=3.0)),
        ("softplus", F.softplus, lambda *s: randn(*s, scale=3.0)),
        ("tanh", torch.tanh, lambda *s: randn(*s, scale=2.0)),
        ("relu", torch.relu, away_from_zero),
        ("gelu", F.gelu, lambda *s: randn(*s, scale=2.0)),
    ]
    for op, fn, gen in unary:
        w.case(op, op, lambda gen=gen: [gen(*shape)], fn)
    for op, fn in [("sigmoid", torch.sigmoid), ("log_sigmoid", F.logsigmoid), ("softplus", F.softplus),
                   ("tanh", torch.tanh), ("gelu", F.gelu), ("exp", torch.exp)]:
        gen = (lambda *s: randn(*s, scale=3.0)) if op == "exp" else wide
        w.case(f"{op}_wide", op, lambda gen=gen: [gen(4, 15)], fn)
    for tag, exponent, gen in [("cube", 3.0, randn), ("2_5", 2.5, positive), ("rsqrt", -0.5, positive),
                               ("half", 0.5, positive)]:
        w.case(f"pow_{tag}", "pow", lambda gen=gen: [gen(*shape)], lambda x, e=exponent: torch.pow(x, e),
               exponent=exponent)

    # ---- reductions -------------------------------------------------------------------------
    for op, fn in [("sum", torch.sum), ("mean", torch.mean)]:
        for tag, dims, keepdim in [("d1", [1], False), ("d02", [0, 2], False), ("dlast_keep", [-1], True),
                                   ("d12_keep", [1, 2], True), ("d0", [0], False), ("dneg2", [-2], False)]:
            w.case(f"{op}_{tag}", op, lambda: [randn(3, 4, 5)], lambda x, d=dims, k=keepdim: fn(x, dim=d, keepdim=k),
                   dims=dims, keepdim=keepdim)
        w.case(f"{op}_all", op, lambda: [randn(3, 4, 5)], lambda x: fn(x), all_dims=True)
    for tag, dim, keepdim in [("d0", 0, False), ("d1_keep", 1, True), ("dlast", -1, False), ("d2_keep", 2, True)]:
        w.case(f"max_{tag}", "max", lambda: [distinct(3, 4, 5)],
               lambda x, d=dim, k=keepdim: torch.max(x, dim=d, keepdim=k).values, dim=dim, keepdim=keepdim)

    # ---- products ----------------------------------------------------------------------------
    for tag, sa, sb in [("2d", [3, 4], [4, 5]),
                        ("batched", [2, 3, 4], [2, 4, 5]),
                        ("batch_times_2d", [2, 3, 4], [4, 5]),
                        ("2d_times_batch", [3, 4], [2, 4, 5]),
                        ("bcast_batch", [2, 1, 3, 4], [5, 4, 6]),
                        ("bcast_both", [3, 1, 2, 8], [1, 4, 8, 3]),
                        ("tall_k", [2, 70], [70, 3])]:
        w.case(f"matmul_{tag}", "matmul", lambda sa=sa, sb=sb: [randn(*sa), randn(*sb)], torch.matmul)
    w.case("linear_bias", "linear", lambda: [randn(2, 3, 5), randn(4, 5), randn(4)], F.linear, has_bias=True)
    w.case("linear_no_bias", "linear", lambda: [randn(6, 5), randn(3, 5)], lambda x, wt: F.linear(x, wt),
           has_bias=False)
    w.case("linear_1d", "linear", lambda: [randn(5), randn(4, 5), randn(4)], F.linear, has_bias=True)
    conv_cases = [("3x3_pad1_bias", [2, 3, 6, 5], [4, 3, 3, 3], 1, True),
                  ("1x1_bias", [2, 3, 5, 4], [6, 3, 1, 1], 0, True),
                  ("3x3_pad0", [1, 2, 6, 7], [3, 2, 3, 3], 0, False),
                  ("1x1_no_bias", [2, 4, 3, 3], [4, 4, 1, 1], 0, False),
                  ("3x3_pad1_wide", [1, 8, 8, 8], [8, 8, 3, 3], 1, True)]
    for tag, sx, sw, pad, bias in conv_cases:
        if bias:
            w.case(f"conv2d_{tag}", "conv2d", lambda sx=sx, sw=sw: [randn(*sx), randn(*sw, scale=0.3), randn(sw[0])],
                   lambda x, wt, b, p=pad: F.conv2d(x, wt, b, padding=p), padding=pad, has_bias=True)
        else:
            w.case(f"conv2d_{tag}", "conv2d", lambda sx=sx, sw=sw: [randn(*sx), randn(*sw, scale=0.3)],
                   lambda x, wt, p=pad: F.conv2d(x, wt, padding=p), padding=pad, has_bias=False)

    # ---- normalisation and attention ------------------------------------------------------------
    w.case("layer_norm_affine", "layer_norm", lambda: [randn(2, 5, 8) * 2 + 1, 1 + 0.3 * randn(8), randn(8)],
           lambda x, wt, b: F.layer_norm(x, (8,), wt, b, eps=1e-5), eps=1e-5, has_weight=True, has_bias=True)
    w.case("layer_norm_plain", "layer_norm", lambda: [randn(4, 16)], lambda x: F.layer_norm(x, (16,), eps=1e-5),
           eps=1e-5, has_weight=False, has_bias=False)
    w.case("layer_norm_weight_only_eps", "layer_norm", lambda: [randn(3, 6) * 0.1, 1 + 0.3 * randn(6)],
           lambda x, wt: F.layer_norm(x, (6,), wt, eps=1e-3), eps=1e-3, has_weight=True, has_bias=False)
    for tag, shape_, dim in [("last", [3, 7], -1), ("mid", [2, 5, 3], 1), ("first", [4, 3], 0)]:
        w.case(f"softmax_{tag}", "softmax", lambda s=shape_: [randn(*s, scale=2.0)],
               lambda x, d=dim: torch.softmax(x, dim=d), dim=dim)
        w.case(f"log_softmax_{tag}", "log_softmax", lambda s=shape_: [randn(*s, scale=2.0)],
               lambda x, d=dim: torch.log_softmax(x, dim=d), dim=dim)
    for tag, (b, h, t, d), scale in [("b2h3t7d8", (2, 3, 7, 8), None), ("b1h2t33d16", (1, 2, 33, 16), None),
                                     ("scale_0_5", (2, 1, 5, 4), 0.5)]:
        used = scale if scale is not None else 1.0 / np.sqrt(d)
        params = {"scale": scale} if scale is not None else {}
        w.case(f"causal_attention_{tag}", "causal_attention",
               lambda s=(b, h, t, d): [randn(*s), randn(*s), randn(*s)],
               lambda q, k, v, sc=used: causal_attention(q, k, v, sc), **params)

    # ---- shape and indexing --------------------------------------------------------------------------
    w.case("concat_dim1", "concat", lambda: [randn(2, 3, 4), randn(2, 1, 4), randn(2, 2, 4)],
           lambda *xs: torch.cat(xs, dim=1), dim=1)
    w.case("concat_dimlast", "concat", lambda: [randn(3, 2), randn(3, 5)], lambda *xs: torch.cat(xs, dim=-1), dim=-1)
    w.case("concat_dim0", "concat", lambda: [randn(1, 4), randn(3, 4)], lambda *xs: torch.cat(xs, dim=0), dim=0)
    w.case("split_dim1", "split", lambda: [randn(2, 6, 3)], lambda x: torch.split(x, [2, 3, 1], dim=1),
           sizes=[2, 3, 1], dim=1)
    w.case("split_dimlast", "split", lambda: [randn(4, 5)], lambda x: torch.split(x, [4, 1], dim=-1),
           sizes=[4, 1], dim=-1)
    w.case("chunk_dim0", "chunk", lambda: [randn(6, 4)], lambda x: torch.chunk(x, 3, dim=0), chunks=3, dim=0)
    w.case("chunk_dim1", "chunk", lambda: [randn(2, 4, 3)], lambda x: torch.chunk(x, 2, dim=1), chunks=2, dim=1)
    for tag, dim in [("d0", 0), ("d1", 1), ("dlast", -1)]:
        w.case(f"flip_{tag}", "flip", lambda: [randn(3, 4, 5)], lambda x, d=dim: torch.flip(x, [d]), dim=dim)
    w.case("index_select_d0_repeats", "index_select", lambda: [randn(4, 3), torch.tensor([2, 0, 2, 1, 2])],
           lambda x, i: torch.index_select(x, 0, i), dim=0)
    w.case("index_select_d1", "index_select", lambda: [randn(2, 5, 3), torch.tensor([4, 1, 1])],
           lambda x, i: torch.index_select(x, 1, i), dim=1)
    w.case("index_select_dlast", "index_select", lambda: [randn(3, 6), torch.tensor([5, 0, 3])],
           lambda x, i: torch.index_select(x, -1, i), dim=-1)
    w.case("space_to_depth_f2", "space_to_depth", lambda: [randn(2, 3, 4, 6)], lambda x: space_to_depth(x, 2),
           factor=2)
    w.case("space_to_depth_f3", "space_to_depth", lambda: [randn(1, 2, 6, 3)], lambda x: space_to_depth(x, 3),
           factor=3)
    w.case("depth_to_space_f2", "depth_to_space", lambda: [randn(2, 12, 2, 3)], lambda x: depth_to_space(x, 2),
           factor=2)

    # ---- views (Tensor methods; differentiable and sharing storage) --------------------------------------
    w.case("reshape", "reshape", lambda: [randn(3, 4, 2)], lambda x: x.reshape(4, 6), shape=[4, 6])
    w.case("permute", "permute", lambda: [randn(2, 3, 4)], lambda x: x.permute(2, 0, 1), order=[2, 0, 1])
    w.case("transpose", "transpose", lambda: [randn(2, 3, 4)], lambda x: x.transpose(0, 2), dims=[0, 2])
    w.case("slice", "slice", lambda: [randn(4, 6)], lambda x: x[:, 1:5], dim=1, start=1, end=5)
    w.case("select", "select", lambda: [randn(3, 4, 2)], lambda x: x.select(1, 2), dim=1, index=2)
    w.case("expand", "expand", lambda: [randn(3, 1)], lambda x: x.expand(2, 3, 4), shape=[2, 3, 4])
    w.case("unsqueeze", "unsqueeze", lambda: [randn(3, 4)], lambda x: x.unsqueeze(1), dim=1)
    w.case("flatten", "flatten", lambda: [randn(2, 3, 4)], lambda x: x.flatten(1, 2), start=1, end=2)

    # ---- small linear algebra ------------------------------------------------------------------------
    w.case("logabsdet_pos", "logabsdet", lambda: [well_conditioned(5)], lambda a: torch.slogdet(a)[1], sign=1.0)
    w.case("logabsdet_neg", "logabsdet", lambda: [well_conditioned(4, negative_det=True)],
           lambda a: torch.slogdet(a)[1], sign=-1.0)
    w.case("inverse_4", "inverse", lambda: [well_conditioned(4)], torch.linalg.inv)
    w.case("inverse_6", "inverse", lambda: [well_conditioned(6)], torch.linalg.inv)
    for tag, lower, unit in [("lower", True, False), ("upper", False, False), ("lower_unit", True, True),
                             ("upper_unit", False, True)]:
        w.case(f"triangular_solve_{tag}", "triangular_solve", lambda: list(triangular_system(5, 3)),
               lambda a, b, lo=lower, u=unit: torch.linalg.solve_triangular(a, b, upper=not lo, unitriangular=u),
               lower=lower, unit_diagonal=unit)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_op_golden.py OUT.h5")
    out = os.path.abspath(sys.argv[1])
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # One thread: reductions then sum in one order, so the file is identical on every machine.
    torch.set_num_threads(1)
    tmp = f"{out}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as h5:
            h5.attrs["torch_version"] = np.bytes_(torch.__version__)
            write_cases(GoldenWriter(h5))
            count = len(h5)
        # Readers never see a half-written file: the rename is atomic on one file system.
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {count} cases to {out}")


if __name__ == "__main__":
    main()
