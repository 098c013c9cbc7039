"""The target-profile gate's figures for one candidate engine: measure it on this host, estimate it on the
profile (calibration.latency), in the shape the engine meta and the report use."""
from __future__ import annotations

from typing import Any

import wayvert

from .latency import estimate, measure_host_latency
from .profiles import load_profile


def estimate_on_profile(engine: wayvert.Engine, path: str, profile: str, runs: int = 100) -> dict[str, Any]:
    """Host-measured latency (C++ runtime, zero inputs, 1 thread) combined with the profile's roofline."""
    target = load_profile(profile)
    host = measure_host_latency(engine, runs=runs, threads=1)
    e = estimate(engine, target, host)
    e["name"] = target.name
    e["host_latency_p99_ms"] = host.p99_ms
    e["host_latency_p50_ms"] = host.p50_ms
    return with_measurement(e, engine, target)


def with_measurement(e: dict[str, Any], engine: wayvert.Engine, target: Any) -> dict[str, Any]:
    """Adds ``measured`` (figures from this machine's CUDA device, when there is one) and ``power_source``; when the
    measurement stands for the target (the profile's ``measured_devices``), power and ``meets_power`` are the
    measured ones and the estimate moves to ``power_w_estimated``."""
    from .latency.measured import measure_on_device

    m = measure_on_device(engine, target)
    e["power_source"] = "estimated (power model of the profile)"
    if m is None:
        return e
    e["measured"] = m
    if m.get("applies_to_gate"):
        e["power_w_estimated"] = e["power_w"]
        e["power_w"] = m["power_w_at_frame_rate"]
        e["meets_power"] = e["power_w"] <= e["power_budget_w"]
        e["power_source"] = f"measured: {m['source']}"
    return e
