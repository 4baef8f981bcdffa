#!/usr/bin/env bash
# TARFLOW sampling: the sequential KV-cache inverse against Jacobi windows, on one
# trained run, side by side in one run (the machine is noisy: read <10% as noise).
# Prints one row per method: sampling seconds, transformer passes, speed-up, and the
# largest 8-bit pixel difference from the sequential grid.
#
# Usage: bench/bench_sampling.sh RUN_DIR [N] [THREADS]   (from the repo root; default
#        64 samples, 2 threads). Needs ./build/launch/flowtrain and Debian's python3.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=${1:?usage: bench/bench_sampling.sh RUN_DIR [N] [THREADS]}
n=${2:-64}
threads=${3:-2}
flowtrain=./build/launch/flowtrain
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE

methods=("sequential" "jacobi" "jacobi --jacobi-block 8" "jacobi --jacobi-block 4" "jacobi --tolerance 1e-2"
         "jacobi --tolerance 0")
for i in "${!methods[@]}"; do
  read -r -a flags <<<"--method ${methods[$i]}"
  "$flowtrain" sample --run-dir "$run_dir" --n "$n" --seed 11 --temperature 0.7 --out "$scratch/$i.png" "${flags[@]}" \
    2>/dev/null | grep '^{' >"$scratch/$i.json"
done

/usr/bin/python3 - "$scratch" "${methods[@]}" <<'PY'
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path("tests/support").resolve()))
from png_file import png_pixels
scratch, methods = pathlib.Path(sys.argv[1]), sys.argv[2:]
rows = [json.loads((scratch / f"{i}.json").read_text()) for i in range(len(methods))]
reference = png_pixels(scratch / "0.png")
base = rows[0]["sampling_seconds"]
print(f"{'method':32} {'seconds':>8} {'passes':>7} {'windows':>8} {'speed-up':>9} {'max px diff':>12}")
for i, (method, row) in enumerate(zip(methods, rows)):
    pixels = png_pixels(scratch / f"{i}.png")
    diff = max(abs(a - b) for a, b in zip(pixels, reference))
    inv = row["inversion"]
    print(f"{method:32} {row['sampling_seconds']:8.2f} {inv['iterations']:7d} {inv['windows']:8d} "
          f"{base / row['sampling_seconds']:8.2f}x {diff:12d}")
PY
