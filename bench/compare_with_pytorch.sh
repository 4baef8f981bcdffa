#!/usr/bin/env bash
# flowtrain against its PyTorch peer (bench/pytorch_peer.py), side by side in one run,
# on configs/glow-bench.toml and configs/tarflow-bench.toml: training steps, no-grad
# evaluation and sampling (TARFLOW: sequential KV-cache inversion), at 1 rank x 1
# thread, 1 x 2 and 2 x 1, in fp32, plus bf16 autocast at 1 x 2. Prints one table
# of images/s and peak RSS with the flowtrain/PyTorch ratios. One run per cell: the
# machine is shared and noisy, so read differences under ~10% as noise.
#
# Usage: bench/compare_with_pytorch.sh [STEPS] [MODELS...]   (from the repo root;
#        defaults: 5 timed steps after 2 warm-up steps, glow tarflow). Needs
#        ./build/launch/flowtrain, /usr/bin/python3 with torch, mpirun.
#        MODES="train eval" restricts the modes; LAYOUTS="1x1 2x1" the layouts.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
shift || true
models=("${@:-glow tarflow}")
read -r -a models <<<"${models[*]}"
read -r -a modes <<<"${MODES:-train eval sample}"
read -r -a layouts <<<"${LAYOUTS:-1x1 1x2 2x1}"
flowtrain=./build/launch/flowtrain
peer_python=/usr/bin/python3  # Debian's torch; the python3 on PATH has none
export OMP_WAIT_POLICY=PASSIVE
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# cell IMPL MODEL MODE PRECISION LAYOUT: runs one measurement, appends a result line.
cell() {
  local impl=$1 model=$2 mode=$3 precision=$4 layout=$5
  local ranks=${layout%x*} threads=${layout#*x} json
  local common=(--steps "$steps" --threads "$threads" --mode "$mode")
  if [ "$impl" = flowtrain ]; then
    local cmd=("$flowtrain" bench "configs/$model-bench.toml" "${common[@]}" --set "train.precision=$precision")
    [ "$ranks" -gt 1 ] && cmd=(mpirun --allow-run-as-root --oversubscribe -np "$ranks" -x OMP_NUM_THREADS="$threads"
      -x OMP_WAIT_POLICY "${cmd[@]}")
  else
    local cmd=("$peer_python" bench/pytorch_peer.py "$model" "${common[@]}" --precision "$precision" --ranks "$ranks")
  fi
  json=$(OMP_NUM_THREADS=$threads "${cmd[@]}" 2>/dev/null | grep '^{' | tail -n 1) || json='{}'
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$model" "$mode" "$precision" "$layout" "${json:-{\}}" >>"$results"
  echo "  $impl $model $mode $precision $layout: ${json:-failed}" >&2
}

for model in "${models[@]}"; do
  for mode in "${modes[@]}"; do
    for layout in "${layouts[@]}"; do
      for impl in flowtrain pytorch; do cell "$impl" "$model" "$mode" fp32 "$layout"; done
    done
    for impl in flowtrain pytorch; do cell "$impl" "$model" "$mode" bf16 1x2; done
  done
done

python3 - "$results" <<'PY'
import json, sys
cells = {}
for line in open(sys.argv[1]):
    impl, model, mode, precision, layout, raw = line.rstrip('\n').split('\t', 5)
    cells.setdefault((model, mode, precision, layout), {})[impl] = json.loads(raw or '{}')

def num(j, key, fmt):
    return format(j[key], fmt) if key in j else '-'

def ratio(a, b, key):
    return f"{a[key] / b[key]:.2f}x" if key in a and key in b and b[key] else '-'

print(f"{'model':8} {'mode':6} {'prec':5} {'layout':6} | {'flowtrain img/s':>15} {'pytorch img/s':>13} "
      f"{'speed ratio':>11} | {'flowtrain RSS MB':>16} {'pytorch RSS MB':>14} {'RSS ratio':>9}")
for (model, mode, precision, layout), pair in cells.items():
    f, p = pair.get('flowtrain', {}), pair.get('pytorch', {})
    print(f"{model:8} {mode:6} {precision:5} {layout:6} | {num(f, 'images_per_sec', '.2f'):>15} "
          f"{num(p, 'images_per_sec', '.2f'):>13} {ratio(f, p, 'images_per_sec'):>11} | "
          f"{num(f, 'peak_rss_mb', '.0f'):>16} {num(p, 'peak_rss_mb', '.0f'):>14} {ratio(f, p, 'peak_rss_mb'):>9}")
PY
