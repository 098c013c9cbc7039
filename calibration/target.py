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
    return e
