"""Writes the vector-set fixtures of test_vector_sets.cpp into a folder, with numpy
as the oracle of the .npy format and of float64 -> float32 rounding:

  a.npy          float32 [37, 3], with extremes (tiny, huge, -0.0, subnormal)
  b.npy          float64 [20, 3], values float32 cannot hold exactly
  expected_npy.f32     what a reader must return for a.npy + b.npy (raw float32)
  fortran.npy, int.npy, bigendian.npy   arrays a vector set refuses
  table.csv      a header, blank and CRLF lines, spaces, exponents; labels in column 3
  table2.csv     the same columns, no header
  expected_csv.f32, expected_csv.i32   features and labels of table.csv + table2.csv

usage: make_vector_fixture.py OUT_DIR
"""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20261202)

a = (rng.standard_normal((37, 3)) * 10).astype(np.float32)
a[0] = [np.float32(1e-30), np.float32(3e38), np.float32(-0.0)]
a[1, 0] = np.float32(1e-45)  # the smallest subnormal
b = rng.standard_normal((20, 3)) * 1e3 + 1.0 / 3.0
np.save(out / "a.npy", a)
np.save(out / "b.npy", b)
np.concatenate([a, b.astype(np.float32)]).astype("<f4").tofile(out / "expected_npy.f32")

np.save(out / "fortran.npy", np.asfortranarray(a[:5]))
np.save(out / "int.npy", np.arange(8, dtype=np.int64).reshape(4, 2))
np.save(out / "bigendian.npy", a[:4].astype(">f4"))

features = (rng.standard_normal((15, 3)) * 5).astype(np.float32)
labels = rng.integers(0, 4, size=15).astype(np.int32)


def cell(value, row, column):
    # Shortest float32 text, plain or with an exponent, sometimes padded.
    text = np.format_float_scientific(value, unique=True) if (row + column) % 3 == 0 else repr(float(value))
    return f" {text} " if row % 4 == 1 else text


def rows(first, last):
    for row in range(first, last):
        f = [cell(features[row, c], row, c) for c in range(3)]
        yield ",".join([f[0], f[1], str(labels[row]), f[2]])


with open(out / "table.csv", "w", newline="") as table:
    table.write("x, y, label, z\r\n")
    for i, line in enumerate(rows(0, 10)):
        table.write(line + ("\r\n" if i % 2 else "\n"))
        if i == 4:
            table.write("\n   \n")
with open(out / "table2.csv", "w") as table:
    table.write("\n".join(rows(10, 15)))  # no final newline
features.astype("<f4").tofile(out / "expected_csv.f32")
labels.astype("<i4").tofile(out / "expected_csv.i32")
