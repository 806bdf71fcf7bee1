#!/usr/bin/env bash
# Builds the stand-in CUDA driver (libcuda.so.1, libnvidia-ml.so.1) into DIR (default /tmp/standin-cuda).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-/tmp/standin-cuda}
inc=${CUDA_HOME:-/usr/local/cuda}/include
[[ -f "$inc/cuda.h" ]] || { echo "error: no cuda.h in $inc (set CUDA_HOME to a CUDA toolkit)" >&2; exit 1; }
mkdir -p "$out"
gcc -shared -fPIC -O1 -I"$inc" -o "$out/libcuda.so.1" "$here/cuda.c"
gcc -shared -fPIC -O1 -o "$out/libnvidia-ml.so.1" "$here/nvml.c"
ln -sf libcuda.so.1 "$out/libcuda.so"
ln -sf libnvidia-ml.so.1 "$out/libnvidia-ml.so"
echo "built $out/libcuda.so.1 and $out/libnvidia-ml.so.1"
