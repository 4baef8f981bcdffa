#!/usr/bin/env bash
# The checks that need a GPU, as one command for a machine that has one (the
# CPU machines compile all of it and skip it). Builds for the local GPU only,
# runs every GPU test and the backend test's cuda:0 part, and leaves logs in
# $OUT (or ./device-check-out). Meant to finish well inside 8 minutes.
#   bash tests/gpu/device-check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/device-check-out}
mkdir -p "$out"
build=build-gpu
status=0

step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, records failure
  local name=$1
  shift
  echo "== $name: $*"
  local start=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then
    echo "   ok ($((SECONDS - start)) s)"
  else
    echo "   FAILED ($((SECONDS - start)) s), last lines:"
    tail -n 40 "$out/$name.log"
    status=1
  fi
}

nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv >"$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d '. ')
arch=${arch:-90}

step configure cmake -S . -B "$build" -G Ninja -DFLOWTRAIN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch"
step build cmake --build "$build" -j "$(nproc)"
# Every GPU test: kernels against the CPU, NCCL, the fused attention.
step test_gpu ctest --test-dir "$build" -R '^test_gpu$' -V
# The ggml-style backend test prints the cuda:0 coverage table and each op's worst error.
step backend_ops env FLOWTRAIN_SOURCE_DIR="$PWD" "$build/tests/test_framework" --run_test=backend_ops --log_level=message
grep -A200 "backend cuda:0" "$out/backend_ops.log" | head -n 80
step info_backends "$build/launch/flowtrain" info --backends
# Training on the GPU: 20 steps on cuda against the CPU, resume, a GPU checkpoint on the CPU, NCCL with 2+ GPUs.
step train_devices ctest --test-dir "$build" -R '^train_devices$' -V
# Speed: a whole training step of tarflow-bench, and one tarflow-imagenet64 block at its per-GPU batch.
step bench_tarflow "$build/launch/flowtrain" bench configs/tarflow-bench.toml --device cuda --steps 10
step bench_imagenet64_block "$build/launch/flowtrain" bench configs/tarflow-imagenet64.toml --device cuda --steps 5 \
  --set model.blocks=1 --set train.global_batch=32
step bench_imagenet64_block_recompute "$build/launch/flowtrain" bench configs/tarflow-imagenet64.toml --device cuda \
  --steps 5 --set model.blocks=2 --set train.global_batch=32 --set train.recompute=true
grep -h '^{' "$out/bench_tarflow.log" "$out/bench_imagenet64_block.log" "$out/bench_imagenet64_block_recompute.log"
echo "device-check: $([ $status -eq 0 ] && echo passed || echo FAILED); logs in $out"
exit $status
