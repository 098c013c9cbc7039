#!/usr/bin/env bash
# Issue 16's GPU checks in one run, for a lent NVIDIA machine (docs/cuda.md, "Checking on a GPU"). From the
# repository root there:
#   bash benches/gpu/device_check.sh            # OUT=<folder> for the results (default /tmp/wayvert-gpu)
# 1. builds and installs wayvert with the CUDA executor for that GPU (pip, no build isolation, no dependencies:
#    the machine reaches no package index) and the C++ CUDA test;
# 2. runs test_cuda (C API: every fixture engine on CUDA bit-identical to the CPU, no allocation in run, two
#    sessions in two threads) and the GPU pytest files (per-op bit-exactness on hypothesis-drawn shapes);
# 3. benches the shipped engine and, when carried, the large reference backbone (_build/bench/*.wvrt: build it here
#    first with `.venv/bin/python benches/large_backbone.py`) with --device cuda --compare torch: latency beside
#    PyTorch fp16 with a CUDA Graph and fp32 eager, joules per frame from NVML.
# Every step writes its log to $OUT and the script goes on after a failure, so one run says everything.
set -uo pipefail
OUT=${OUT:-/tmp/wayvert-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
REPO=$(pwd)
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
ARCH=${ARCH:-90}
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv > "$OUT/gpu.txt" 2>&1
status=0
step() { echo "== $1"; }

step "build (sm_$ARCH)"
if ! python3 -m pip install -q --no-build-isolation --no-deps --no-cache-dir . \
    --config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES="$ARCH" --config-settings=build-dir=_build/gpu-wheel \
    > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; echo "build failed"; exit 1
fi
cmake -S . -B _build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=ON \
  -DWAYVERT_PYTHON=OFF -DCMAKE_CUDA_ARCHITECTURES="$ARCH" >> "$OUT/build.log" 2>&1 &&
  cmake --build _build/gpu -j "$(nproc)" --target test_cuda >> "$OUT/build.log" 2>&1 || { echo "test_cuda build failed"; status=1; }

step "test_cuda"
(cd _build/gpu && ./test_cuda) > "$OUT/test_cuda.log" 2>&1; rc=$?
tail -5 "$OUT/test_cuda.log"; [ $rc -eq 0 ] || status=1

step "pytest (GPU)"
(cd /tmp && python3 -m pytest -q -p no:cacheprovider --hypothesis-seed=0 \
  "$REPO/tests/runtime/test_cuda_sessions.py" "$REPO/tests/runtime/test_cuda_gemm_ops.py" \
  "$REPO/tests/runtime/test_cuda_other_ops.py") > "$OUT/pytest.log" 2>&1 || status=1
tail -15 "$OUT/pytest.log"

step "inspect"
(cd /tmp && python3 -m wayvert.cli inspect "$REPO/wayvert/data/reference.wvrt" --json) > "$OUT/inspect.json" 2>&1

step "bench"
for engine in "$REPO/wayvert/data/reference.wvrt" "$REPO"/_build/bench/*.wvrt; do
  [ -f "$engine" ] || continue
  name=$(basename "$engine" .wvrt)
  (cd /tmp && timeout 240 python3 -m wayvert.cli bench "$engine" --device cuda --compare torch --iterations 500 \
    --no-memory --json "$OUT/bench_$name.json") > "$OUT/bench_$name.md" 2>&1 || status=1
  cat "$OUT/bench_$name.md"
done
exit $status
