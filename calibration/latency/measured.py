"""Latency and energy of an engine measured on the CUDA device of this machine, for the target-profile gate.

Where a CUDA device and an energy meter exist (``wayvert.benchmark.energy``: NVML's energy counter, or Jetson's
INA3221 rails), the engine's CUDA session runs back to back for ``seconds`` and the device idles for one second:

* ``idle_w``: the device's power with nothing to do;
* ``dynamic_j_per_frame``: joules per frame above that idle floor;
* ``power_w_at_frame_rate`` = ``idle_w + dynamic_j_per_frame x frame_rate_hz``: the average power of running one
  frame per camera period, the quantity the 75 W budget bounds.

The figures are the device's, not the target's: the gate uses them only when the profile names the device
(``measured_devices``, e.g. "Orin"); otherwise they are recorded beside the estimate and say so.
"""
from __future__ import annotations

import time
from typing import Any

import wayvert

from ..profiles import TargetProfile


def measure_on_device(engine: wayvert.Engine, profile: TargetProfile, seconds: float = 2.0,
                      runs: int = 200) -> dict[str, Any] | None:
    """The measured figures (``None`` without a CUDA device; ``{"skipped": why}`` when the engine has ops without a
    CUDA kernel or there is no energy meter)."""
    from wayvert.benchmark.energy import measure_energy, open_meter
    from wayvert.benchmark.inputs import engine_feeds
    from wayvert.benchmark.timing import time_loop

    if wayvert.cuda_device_count() == 0:
        return None
    gaps = engine.cuda_coverage()["unsupported_ops"]
    if gaps:
        return {"skipped": f"{len(gaps)} ops have no CUDA kernel (first: op {gaps[0]['index']} {gaps[0]['op']})"}
    session = engine.session(device="cuda")
    feeds = engine_feeds(engine, 4).engine
    timing = time_loop(session.run, feeds, runs)
    out: dict[str, Any] = {"latency_p50_ms": timing.p50, "latency_p99_ms": timing.p99, "runs": runs}
    meter, why = open_meter(0)
    if meter is None:
        return out | {"skipped": f"no energy meter: {why}"}
    meter.start()
    t0 = time.perf_counter()
    time.sleep(1.0)
    idle_j = meter.stop()
    idle_w = idle_j / (time.perf_counter() - t0)
    i = iter(range(1 << 62))
    m = measure_energy(lambda: session.run(feeds[next(i) % len(feeds)]), meter, seconds)
    dynamic = max(0.0, m.joules_per_frame - idle_w * m.seconds / m.frames)
    names = [n.strip().lower() for n in profile.measured_devices.split(",") if n.strip()]
    applies = any(n in m.source.lower() for n in names)
    return out | m.as_dict() | {
        "idle_w": idle_w,
        "dynamic_j_per_frame": dynamic,
        "power_w_at_frame_rate": idle_w + dynamic * profile.frame_rate_hz,
        "applies_to_gate": applies,
        "why": (f"measured on a device the profile names ({profile.measured_devices})" if applies else
                f"measured on another device than '{profile.name}' (its measured_devices: "
                f"{profile.measured_devices or 'none'}): recorded, the gate uses the estimate"),
    }
