#!/usr/bin/env bash
# Issue 16's GPU checks in one run, for a lent NVIDIA machine (docs/cuda.md, "Checking on a GPU"). From the
# repository root there:
#   bash benches/gpu/device_check.sh            # OUT=<folder> for the results (default /tmp/wayvert-gpu)
# 1. builds and installs wayvert with the CUDA executor for that GPU (pip, no build isolation, no dependencies:
#    the machine reaches no package index). The C++ CUDA test is built there too, unless a test_cuda built
#    elsewhere for that architecture is carried in _build/gpu-carry/ and starts there (it saves a second compile
#    of every kernel: build it with `cmake -S . -B B -DWAYVERT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90` and
#    `cmake --build B --target test_cuda`, then copy B/test_cuda);
# 2. runs test_cuda (C API: every fixture engine on CUDA bit-identical to the CPU, no allocation in run, two
#    sessions in two threads) and the GPU pytest files (per-op bit-exactness on hypothesis-drawn shapes);
# 3. benches the shipped engine and, when carried, the large reference backbone (_build/bench/*.wvrt: build it here
#    first with `.venv/bin/python benches/large_backbone.py`) with --device cuda --compare torch: latency beside
#    PyTorch fp16 with a CUDA Graph and fp32 eager, joules per frame from NVML.
# Every step writes its log to $OUT and the script goes on after a failure, so one run says everything. Each step
# has a time limit, so a hung kernel costs minutes, not the lease; $OUT/run.log has each step's seconds.
set -uo pipefail
OUT=${OUT:-/tmp/wayvert-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
REPO=$(pwd)
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
ARCH=${ARCH:-90}
status=0
T0=$(date +%s)
step() { echo "== [$(( $(date +%s) - T0 )) s] $1"; }
{
step "gpu"
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv 2>&1
python3 -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name(0))" 2>&1

step "build (sm_$ARCH)"
export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
if ! timeout 420 python3 -m pip install -q --no-build-isolation --no-deps --no-cache-dir . \
    --config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES="$ARCH" --config-settings=build-dir=_build/gpu-wheel \
    > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; echo "build failed"; exit 1
fi
TEST_CUDA=_build/gpu-carry/test_cuda
if [ -x "$TEST_CUDA" ] && ldd "$TEST_CUDA" > /dev/null 2>&1 && ! ldd "$TEST_CUDA" 2>&1 | grep -q "not found"; then
  echo "test_cuda: carried"
else
  step "build test_cuda"
  TEST_CUDA=_build/gpu/test_cuda
  cmake -S . -B _build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=ON \
    -DWAYVERT_PYTHON=OFF -DCMAKE_CUDA_ARCHITECTURES="$ARCH" >> "$OUT/build.log" 2>&1 &&
    timeout 300 cmake --build _build/gpu -j "$(nproc)" --target test_cuda >> "$OUT/build.log" 2>&1 ||
    { echo "test_cuda build failed"; status=1; }
fi

step "test_cuda"
WV_TEST_DATA_DIR="$REPO/cpp/tests/data" timeout 180 "$TEST_CUDA" 2>&1 | tail -30; rc=${PIPESTATUS[0]}
echo "test_cuda exit $rc"; [ "$rc" -eq 0 ] || status=1

step "pytest (GPU)"
(cd /tmp && timeout 300 python3 -m pytest -q -p no:cacheprovider --hypothesis-seed=0 --tb=short \
  "$REPO/tests/runtime/test_cuda_sessions.py" "$REPO/tests/runtime/test_cuda_gemm_ops.py" \
  "$REPO/tests/runtime/test_cuda_other_ops.py") > "$OUT/pytest.log" 2>&1 || status=1
tail -25 "$OUT/pytest.log"

step "inspect"
(cd /tmp && python3 -m wayvert.cli inspect "$REPO/wayvert/data/reference.wvrt" --json) > "$OUT/inspect.json" 2>&1

for engine in "$REPO/wayvert/data/reference.wvrt" "$REPO"/_build/bench/*.wvrt; do
  [ -f "$engine" ] || continue
  name=$(basename "$engine" .wvrt)
  step "bench $name"
  (cd /tmp && timeout 200 python3 -m wayvert.cli bench "$engine" --device cuda --compare torch --iterations 500 \
    --no-memory --json "$OUT/bench_${name%%-*}.json") 2>&1 || status=1
done
step "done (status $status)"
exit "$status"
} 2>&1 | tee "$OUT/run.log"
exit "${PIPESTATUS[0]}"
