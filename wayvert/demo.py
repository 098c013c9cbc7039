"""``wayvert demo``: the runtime end to end on a small camera encoder, without PyTorch.

Builds an int8 engine and its float32 twin from numpy weights, loads both through the C++ runtime,
checks the int8 engine against the numpy reference bit for bit, measures latency and accuracy, and
writes the engines and a summary to ``out_dir``. (The full driving demo replaces this once the
synthetic world, the trained network and the verifier exist.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import numpy.typing as npt

from wayvert import cpu_isa, reference
from wayvert.build import sample_nets
from wayvert.engine import Engine
from wayvert.inspect import describe_engine


def _latency_ms(run: Callable[[], object], frames: int) -> npt.NDArray[np.float64]:
    run()  # first call: caches warm
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    return np.asarray(times)


def run_demo(out_dir: str = "demo_out", frames: int = 100, seed: int = 0) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("wayvert demo: a 3x64x128 camera encoder (6 convs incl. residual and depthwise, pool, head)")
    net = sample_nets.sample_convnet(seed=seed)
    b8, b32 = net.build_int8(), net.build_f32()
    size8, size32 = b8.write(out / "sample_int8.wvrt"), b32.write(out / "sample_f32.wvrt")
    print(f"1. built engines with wayvert.build.EngineBuilder: int8 {size8:,} bytes, float32 {size32:,} bytes")
    e8, e32 = Engine.load(out / "sample_int8.wvrt"), Engine.load(out / "sample_f32.wvrt")
    print("2. loaded through the C++ runtime (mapped, checksummed, validated, kernels created):")
    print("   " + describe_engine(str(out / "sample_int8.wvrt")).replace("\n", "\n   "))
    rng = np.random.default_rng(seed + 1)
    xs = [rng.uniform(-1, 1, size=net.input_shape).astype(np.float32) for _ in range(8)]
    s8, s32 = e8.session(), e32.session()
    bit_exact = all(np.array_equal(s8.run({"image": x})["logits"], reference.run(b8, {"image": x})["logits"]) for x in xs)
    print(f"3. int8 engine vs numpy reference of the same integer arithmetic on {len(xs)} frames: "
          f"{'bit-identical' if bit_exact else 'MISMATCH'}")
    errs8, errs32 = [], []
    for x in xs:
        ref = net.forward_f32(x)["head"]
        norm = float(np.linalg.norm(ref)) or 1.0
        errs8.append(float(np.linalg.norm(s8.run({"image": x})["logits"] - ref)) / norm)
        errs32.append(float(np.linalg.norm(s32.run({"image": x})["logits"] - ref)) / norm)
    print(f"4. accuracy against the float64 numpy network: int8 relative L2 error {np.mean(errs8):.4f}, "
          f"float32 {np.mean(errs32):.2e}")
    x = xs[0]
    lat8 = _latency_ms(lambda: s8.run({"image": x}), frames)
    lat32 = _latency_ms(lambda: s32.run({"image": x}), frames)
    print(f"5. latency over {frames} frames, 1 thread, {cpu_isa()} kernels (Session.run incl. Python overhead):")
    for name, lat in (("int8", lat8), ("float32", lat32)):
        print(f"   {name:<8} p50 {np.percentile(lat, 50):6.3f} ms   p99 {np.percentile(lat, 99):6.3f} ms")
    summary = {
        "bit_exact_vs_reference": bit_exact,
        "rel_l2_error": {"int8": float(np.mean(errs8)), "float32": float(np.mean(errs32))},
        "latency_ms": {k: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))} for k, v in (("int8", lat8), ("float32", lat32))},
        "arena_bytes": {"planned": e8.arena_bytes, "naive": e8.naive_arena_bytes},
        "engine_bytes": {"int8": size8, "float32": size32},
        "cpu_isa": cpu_isa(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"6. wrote {out}/sample_int8.wvrt, sample_f32.wvrt and summary.json")
    return 0 if bit_exact else 1
