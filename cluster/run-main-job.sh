#!/usr/bin/env bash
# The main job on its embedded default: install the dependencies, build the
# flowtrain binary (the tests are built by the README's test command), convert
# Fashion-MNIST (Debian's dataset-fashion-mnist) into sharded HDF5, train a small
# TARFLOW on 2 MPI ranks (checkpointing as it goes), sample a PNG grid and print
# the test bits/dim with a line saying what it means. Re-running resumes from the
# newest checkpoint.
# Usage: bash cluster/run-main-job.sh [CONFIG] [RUN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/tarflow-fashion.toml}
run_dir=${2:-runs/$(basename "$config" .toml)}
fashion=/usr/share/datasets/fashion-mnist

bash cluster/install-deps.sh
cmake -S . -B build -G Ninja
cmake --build build -j2 --target flowtrain
flowtrain=build/launch/flowtrain

convert() {  # split, IDX prefix, shards
  if [ ! -f "data/fashion-mnist/$1/manifest.json" ]; then
    "$flowtrain" data convert --from idx "$fashion/$2-images-idx3-ubyte.gz" "$fashion/$2-labels-idx1-ubyte.gz" \
      --out "data/fashion-mnist/$1" --shards "$3"
  fi
}
convert train train 8
convert test t10k 2

export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS -x OMP_WAIT_POLICY \
  "$flowtrain" train "$config" --run-dir "$run_dir"
"$flowtrain" sample --run-dir "$run_dir" --n 64 --temperature 0.7 --out "$run_dir/samples/final.png"
echo "test bits/dim over the whole test set:"
mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS -x OMP_WAIT_POLICY \
  "$flowtrain" eval --run-dir "$run_dir"
