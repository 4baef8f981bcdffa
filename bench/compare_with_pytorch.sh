#!/usr/bin/env bash
# Side-by-side training-step throughput of flowtrain and its PyTorch peer
# (bench/pytorch_peer.py) on configs/glow-bench.toml and configs/tarflow-bench.toml,
# at 1 and 2 OpenMP threads and at 2 MPI ranks x 1 thread. One run per cell: the
# machine is shared and noisy, so read differences under ~10% as noise.
#
# Usage: bench/compare_with_pytorch.sh [STEPS] [MODELS...]   (from the repo root;
#        defaults: 10 steps, glow tarflow). Needs ./build/launch/flowtrain,
#        /usr/bin/python3 with torch, mpirun, jq-free (parses JSON with python3).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10}
shift || true
models=("${@:-glow tarflow}")
read -r -a models <<<"${models[*]}"
flowtrain=./build/launch/flowtrain
peer_python=/usr/bin/python3  # Debian's torch; the python3 on PATH has none
export OMP_WAIT_POLICY=PASSIVE
results=$(mktemp)
trap 'rm -f "$results"' EXIT

run() {  # run LABEL MODEL LAYOUT command...: appends "label<TAB>model<TAB>layout<TAB>json"
  local label=$1 model=$2 layout=$3
  shift 3
  local json
  json=$("$@" 2>/dev/null | grep '^{' | tail -n 1) || json='{}'
  printf '%s\t%s\t%s\t%s\n' "$label" "$model" "$layout" "${json:-{\}}" >>"$results"
  echo "  $label $model $layout: ${json:-failed}" >&2
}

for model in "${models[@]}"; do
  config=configs/$model-bench.toml
  echo "parameters $model: flowtrain $($flowtrain info "$config" | python3 -c 'import json,sys; print(json.load(sys.stdin)["parameter_count"])')" >&2
  for t in 1 2; do
    OMP_NUM_THREADS=$t run flowtrain "$model" "1x$t" $flowtrain bench "$config" --steps "$steps" --threads "$t"
    OMP_NUM_THREADS=$t run pytorch "$model" "1x$t" $peer_python bench/pytorch_peer.py "$model" --steps "$steps" --threads "$t"
  done
  run flowtrain "$model" "2x1" mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS=1 \
    -x OMP_WAIT_POLICY=PASSIVE $flowtrain bench "$config" --steps "$steps" --threads 1
done

python3 - "$results" <<'PY'
import json, sys
rows = [line.rstrip('\n').split('\t', 3) for line in open(sys.argv[1])]
print(f"{'model':8} {'ranks x threads':>15} {'impl':>9} {'params':>9} {'images/s':>9} {'ms/step':>9} {'RSS MB':>8} {'allreduce wait':>14}")
for label, model, layout, raw in rows:
    j = json.loads(raw or '{}')
    def f(key, fmt):
        return format(j[key], fmt) if key in j else '-'
    wait = f"{100 * j['allreduce_wait_share']:.1f}%" if 'allreduce_wait_share' in j else '-'
    print(f"{model:8} {layout:>15} {label:>9} {f('parameters', 'd'):>9} {f('images_per_sec', '.2f'):>9} "
          f"{f('ms_per_step_median', '.1f'):>9} {f('peak_rss_mb', '.0f'):>8} {wait:>14}")
PY
