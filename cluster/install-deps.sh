#!/usr/bin/env bash
# Installs every system dependency of flowtrain by Debian package name.
# Idempotent: when every package is present it only checks and returns.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # required libraries
  openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools libfmt-dev libboost-test-dev
  # one threading runtime: OpenBLAS built on OpenMP
  libopenblas-openmp-dev libopenblas0-openmp
  # convolutions and bf16 GEMMs on AVX-512/AMX (oneDNN, on the same OpenMP runtime)
  libdnnl-dev
  # config, CLI, JSON, images, checksums
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libpng-dev libjpeg62-turbo-dev
  zlib1g-dev libxxhash-dev
  # reference oracles for the tests
  python3 python3-torch python3-h5py python3-numpy python3-scipy
  # real data for the main job and the data tests
  dataset-fashion-mnist
  # a real SLURM cluster on this machine for the slurm tests (cluster/local-slurm.sh)
  slurm-wlm munge slurm-wlm-basic-plugins
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# TensorBoard's own reader checks the event files in tests/io: PyPI's tensorboard
# for the first python3 on PATH (no Debian package). Called on both exits below.
ensure_tensorboard() {
  python3 -c "import tensorboard" 2>/dev/null && return 0
  echo "install-deps: installing tensorboard for $(command -v python3)"
  python3 -m pip install --quiet --disable-pip-version-check tensorboard
}

# PyPI oracles for Debian's /usr/bin/python3 (the tests' interpreter), installed
# without dependencies into one folder that CTest puts on PYTHONPATH.
PYTHON_DEPS=/opt/flowtrain/python
# nflows and normflows: the classic flows' reference implementations (tests/golden/
# make_flows_golden.py), on Debian's torch; their own extra dependencies are not needed
# by the submodules the script imports. torchdiffeq: the ODE solvers' reference
# (tests/framework/ode), which needs python3-scipy.
python_oracles=(safetensors==0.4.5 nflows==0.14 normflows==1.7.3 torchdiffeq==0.2.4)
ensure_python_oracles() {
  PYTHONPATH=$PYTHON_DEPS /usr/bin/python3 -c "import safetensors.torch, nflows.transforms, normflows.flows, torchdiffeq" \
    2>/dev/null && return 0
  echo "install-deps: installing ${python_oracles[*]} into $PYTHON_DEPS"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$PYTHON_DEPS" "${python_oracles[@]}"
}

# NVIDIA's header-only cudnn-frontend (framework/kernels/cuda/cudnn_graphs.cpp),
# from its PyPI wheel, whose top-level include/ holds the headers. Only the headers
# are used, so the wheel is taken for a fixed CPython whatever python3 is here.
CUDNN_FRONTEND_DIR=/opt/flowtrain/cudnn-frontend
CUDNN_FRONTEND_VERSION=1.32.0
ensure_cudnn_frontend() {
  local installed
  installed=$(awk '/define CUDNN_FRONTEND_(MAJOR|MINOR|PATCH)_VERSION /{printf "%s%s", sep, $3; sep="."}' \
    "$CUDNN_FRONTEND_DIR/include/cudnn_frontend_version.h" 2>/dev/null || true)
  [ "$installed" = "$CUDNN_FRONTEND_VERSION" ] && return 0
  echo "install-deps: installing nvidia-cudnn-frontend==$CUDNN_FRONTEND_VERSION into $CUDNN_FRONTEND_DIR"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$CUDNN_FRONTEND_DIR" \
    --only-binary=:all: --python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64 \
    "nvidia-cudnn-frontend==$CUDNN_FRONTEND_VERSION"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  ensure_tensorboard
  ensure_python_oracles
  ensure_cudnn_frontend
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# One BLAS: make the OpenMP build the provider of libblas/liblapack.
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    path=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -n1 || true)
    [ -n "$path" ] && $SUDO update-alternatives --set "$alt" "$path" >/dev/null || true
  done
fi
ensure_tensorboard
ensure_python_oracles
ensure_cudnn_frontend
echo "install-deps: done"
