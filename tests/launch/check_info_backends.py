#!/usr/bin/python3
"""Checks `flowtrain info --backends` against kernels.h: the CPU backend has a kernel
for every entry point (named as there), each op lists dtypes kernels.h's contract
promises (conv2d and matmul take bf16 and f16, element-wise math f32 and f64), and
the CUDA backend is listed, empty in a build without CUDA. The names are read from
kernels.h itself, so an entry point added there without a CPU kernel fails here.

usage: check_info_backends.py FLOWTRAIN_BINARY KERNELS_H CUDA_BUILT(ON|OFF)
"""
import json
import pathlib
import re
import subprocess
import sys

DTYPES = ["f32", "f64", "bf16", "f16", "i32", "i64", "u8"]


def entry_points(kernels_h):
    """Names of the functions declared at namespace level (the inline add is a shorthand)."""
    text = pathlib.Path(kernels_h).read_text()
    names = re.findall(r"^(?:Tensor|void|double|LUFactors)\s+(\w+)\(", text, flags=re.M)
    assert len(names) >= 30, f"found only {len(names)} entry points in {kernels_h}"
    return names


def main():
    binary, kernels_h, cuda_built = sys.argv[1], sys.argv[2], sys.argv[3] == "ON"
    result = subprocess.run([binary, "info", "--backends"], capture_output=True, text=True)
    assert result.returncode == 0, f"flowtrain info --backends exited {result.returncode}: {result.stderr}"
    table = json.loads(result.stdout)
    failures = []
    if sorted(table) != ["cpu", "cuda"]:
        failures.append(f"backends {sorted(table)}, expected cpu and cuda")
    names = entry_points(kernels_h)
    for backend, ops in table.items():
        for op, dtypes in ops.items():
            if op not in names:
                failures.append(f"{backend} lists {op}, which is not an entry point of kernels.h")
            if not dtypes or any(d not in DTYPES for d in dtypes) or dtypes != sorted(dtypes, key=DTYPES.index):
                failures.append(f"{backend} {op}: dtypes {dtypes}")
    cpu = table.get("cpu", {})
    for name in names:
        if name not in cpu:
            failures.append(f"cpu has no kernel for {name}")
    expected = {
        "conv2d": ["f32", "f64", "bf16", "f16"],
        "matmul": ["f32", "f64", "bf16", "f16"],
        "unary": ["f32", "f64"],
        "copy_into": DTYPES,
        "index_select": DTYPES,
    }
    for op, dtypes in expected.items():
        if cpu.get(op) != dtypes:
            failures.append(f"cpu {op}: {cpu.get(op)}, expected {dtypes}")
    cuda = table.get("cuda", {})
    if cuda_built:
        for op in ["copy_into", "fill", "unary", "binary", "matmul", "sum"]:
            if op not in cuda:
                failures.append(f"cuda has no kernel for {op}, which kernels_cuda.cu registers")
    elif cuda:
        failures.append(f"a build without CUDA lists CUDA kernels: {sorted(cuda)}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(names)} entry points; cpu covers {len(cpu)}, cuda {len(cuda)}; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
