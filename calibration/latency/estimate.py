"""Latency and power of an engine on a target profile: roofline per op, scaled by the host's measured tail.

Combination rule (docs/profiles.md):

* ``latency_roofline_ms`` = sum over ops of the roofline time on the target;
* host factor = measured host p99 / the same roofline computed on the host profile (how far real runs of this very
  engine are from the roofline model, tail and overheads included);
* ``latency_p99_ms`` = ``latency_roofline_ms x host factor``, never below ``latency_roofline_ms`` (a host that beats
  its roofline says the host profile is pessimistic, not that the target will beat its own);
* ``power_w`` = ``idle_w + w_per_utilised_tops x achieved TOPS``, capped at ``max_w``, where achieved TOPS =
  ops per frame x frame rate / 1e12 (the average rate of work, not the rate during a burst);
* ``energy_mj_per_frame`` = ``power_w / frame_rate_hz`` in millijoules (everything the module spends per frame,
  idle included); ``dynamic_energy_mj_per_frame`` = ``w_per_utilised_tops x ops per frame / 1e12`` in mJ, the part
  the network itself adds (what differs between two engines on the same target).
"""
from __future__ import annotations

from typing import Any

from ..profiles import TargetProfile, load_profile

from .host_latency import HostLatency
from wayvert.graph import op_costs
from .roofline import roofline


def combine_latency(target_roofline_ms: float, host_roofline_ms: float, host_p99_ms: float) -> tuple[float, float]:
    """(target p99 ms, host factor) by the combination rule: roofline x (host p99 / host roofline), >= roofline."""
    factor = host_p99_ms / host_roofline_ms if host_roofline_ms > 0 else 1.0
    return max(target_roofline_ms, target_roofline_ms * factor), factor


def estimate(engine: Any, profile: TargetProfile, host_measurement: HostLatency | None = None, *,
             host_profile: TargetProfile | None = None) -> dict[str, Any]:
    """Estimated p99 latency, power and energy of ``engine`` on ``profile``, with the per-op roofline table.

    ``engine``: an ``EngineBuilder``, a loaded ``wayvert.Engine`` or a ``.wvrt`` path. ``host_measurement``: from
    ``measure_host_latency`` on the same engine; without it the p99 is the roofline alone (``host_factor`` None).
    ``host_profile``: the profile the host's roofline is computed on (default: ``load_profile("host")``).
    """
    costs = op_costs(engine)
    per_op = roofline(costs, profile)
    roofline_ms = sum(t.est_ms for t in per_op)
    host_roofline_ms = host_factor = None
    p99_ms = roofline_ms
    if host_measurement is not None:
        host = host_profile if host_profile is not None else load_profile("host")
        host_roofline_ms = sum(t.est_ms for t in roofline(costs, host))
        p99_ms, host_factor = combine_latency(roofline_ms, host_roofline_ms, host_measurement.p99_ms)
    ops_per_frame = sum(c.ops for c in costs)
    achieved_tops = ops_per_frame * profile.frame_rate_hz / 1e12
    power_w = profile.power.power_w(achieved_tops)
    return {
        "profile": profile.name,
        "latency_p99_ms": p99_ms,
        "latency_roofline_ms": roofline_ms,
        "host_roofline_ms": host_roofline_ms,
        "host_p99_ms": host_measurement.p99_ms if host_measurement is not None else None,
        "host_factor": host_factor,
        "per_op": [t.to_dict() for t in per_op],
        "macs_per_frame": sum(c.macs for c in costs),
        "ops_per_frame": ops_per_frame,
        "achieved_tops": achieved_tops,
        "power_w": power_w,
        "energy_mj_per_frame": power_w / profile.frame_rate_hz * 1e3,
        "dynamic_energy_mj_per_frame": profile.power.w_per_utilised_tops * ops_per_frame / 1e12 * 1e3,
        "frame_rate_hz": profile.frame_rate_hz,
        "latency_budget_ms": profile.latency_budget_ms,
        "power_budget_w": profile.power_budget_w,
        "meets_latency": p99_ms <= profile.latency_budget_ms,
        "meets_power": power_w <= profile.power_budget_w,
        "unmodelled_ops": sorted({c.op for c in costs if not c.modelled}),
    }
