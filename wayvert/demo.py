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
    summary.update(_sensors_and_verifier(frames))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"8. wrote {out}/sample_int8.wvrt, sample_f32.wvrt and summary.json")
    return 0 if bit_exact else 1


def _sensors_and_verifier(frames: int) -> dict[str, object]:
    """Steps 6 and 7: a six-camera NV12 rig through the sensor adapter, and candidate trajectories through the verifier."""
    from wayvert.safety import CHECK_NAMES, EgoState, Verifier
    from wayvert.sensors import FRAME_SHAPES, SensorAdapter, shipped_rig

    rig, canonical = shipped_rig("nuscenes_like_6cam"), shipped_rig("canonical_3cam")
    adapter = SensorAdapter(rig, canonical, scale=1 / 32, zero_point=0)
    rng = np.random.default_rng(3)
    cams = {c.name: rng.integers(0, 256, size=FRAME_SHAPES[c.pixel_format](c.width, c.height), dtype=np.uint8)
            for c in rig.cameras}
    lat = _latency_ms(lambda: adapter.convert(cams), frames)
    _, mask = adapter.convert(cams)
    print(f"6. sensor adapter: {len(rig.cameras)} x {rig.cameras[0].width}x{rig.cameras[0].height} NV12 cameras -> "
          f"{len(canonical.cameras)} canonical int8 views {canonical.cameras[0].width}x{canonical.cameras[0].height}, "
          f"coverage {mask.mean():.3f}, p50 {np.percentile(lat, 50):.2f} ms p99 {np.percentile(lat, 99):.2f} ms")

    t = np.arange(40) * 0.1
    def mode(speed: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * 0.1)])
        heading = np.arctan2(np.gradient(y), np.maximum(np.gradient(x), 1e-9))
        return np.stack([t, x, y, heading, speed], axis=1)
    v = 15.0
    modes = np.stack([mode(np.full(40, v), np.zeros(40)),                                       # keep lane
                      mode(np.maximum(v - 2.0 * t, 0.0), np.zeros(40)),                         # brake
                      mode(np.full(40, v), 3.5 * np.clip(t, 0, 1) - 0.557 * np.sin(2 * np.pi * np.clip(t, 0, 1)))])  # swerve
    stopped_car = [[80.0, 0.0, 0.0, 0.0, 4.5, 1.8, 1.0]]
    verifier = Verifier()
    verdict = verifier.check(modes, [0.7, 0.2, 0.9], EgoState(v), objects=stopped_car)
    vlat = _latency_ms(lambda: verifier.check(modes, [0.7, 0.2, 0.9], EgoState(v), objects=stopped_car), frames)
    names = ["keep lane", "brake", "swerve"]
    print(f"7. verifier, stopped car 80 m ahead at {v:.0f} m/s: chose '{names[verdict.chosen]}'"
          if verdict.chosen >= 0 else "7. verifier: no mode passed, fallback braking")
    for name, r in zip(names, verdict.reasons):
        failed = [CHECK_NAMES[i] for i in range(len(CHECK_NAMES)) if int(r) >> i & 1]
        print(f"   {name:<10} {'passed' if not failed else 'failed: ' + ', '.join(failed)}")
    print(f"   check p50 {np.percentile(vlat, 50) * 1e3:.0f} us p99 {np.percentile(vlat, 99) * 1e3:.0f} us")
    return {"sensor_adapter_ms": {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99))},
            "verifier_us": {"p50": float(np.percentile(vlat, 50) * 1e3)}, "verifier_chosen": int(verdict.chosen)}
