#!/usr/bin/env bash
# The benchmark on a machine with an NVIDIA GPU: one table of the benchmark rows and the speedrun over three seeds.
#
#   bash benchmarks/gpu.sh [MNIST_DIR]        # default: ../shared/data/mnist beside the checkout
#
# Installs mnistkit with the [cuda] extra (JAX's CUDA 12 wheels) into .venv-gpu
# beside the checkout (set CUDA_EXTRA=cuda13 for CUDA 13), checks that JAX sees
# the GPU, then runs benchmarks/run.py --all: the tutorial port, mnistkit's
# configurations and `--recipe speedrun` for seeds 0, 1 and 2, each as a whole
# process with an empty compilation cache, in one table. The JSON goes to
# gpu-benchmark.json. The target: 99.0% test accuracy within 0.5 s of
# training after compilation (the "train to 99%" column).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/mnist}"
extra="${CUDA_EXTRA:-cuda}"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu.sh: no NVIDIA GPU here (nvidia-smi finds none); run benchmarks/run.py for the CPU figures" >&2
    exit 2
fi
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
    echo "gpu.sh: no MNIST files in $data; pass the folder that holds the four .gz files" >&2
    exit 2
fi
nvidia-smi -L
venv=.venv-gpu
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
constraints=()
if [ -f constraints/py3.11.txt ] && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    constraints=(-c constraints/py3.11.txt)  # the CPU packages at their tested versions; the CUDA wheels are not pinned
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${constraints[@]}" -e ".[$extra]"
"$venv/bin/python" -c 'import jax; d = jax.devices(); print("jax", jax.__version__, "devices:", d); assert d[0].platform == "gpu", "JAX does not see the GPU"'
"$venv/bin/python" benchmarks/run.py --all --data-dir "$data" --seeds 0 1 2 --torch-python none --json gpu-benchmark.json
