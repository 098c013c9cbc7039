"""Comfort of a driven trajectory, judged as nuPlan / NAVSIM's PDM score judges it ("ego_is_comfortable"): six
bounds on the ego's motion, with nuPlan's thresholds (docs/verifier.md [S9, S10])."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

# name -> (low, high); nuPlan simulation_metric/low_level/*.yaml, NAVSIM pdm_comfort_metrics.py.
COMFORT_LIMITS: dict[str, tuple[float, float]] = {
    "lon_accel_mps2": (-4.05, 2.40),
    "lat_accel_mps2": (-4.89, 4.89),
    "lon_jerk_mps3": (-4.13, 4.13),
    "jerk_magnitude_mps3": (-8.37, 8.37),
    "yaw_rate_rps": (-0.95, 0.95),
    "yaw_accel_rps2": (-1.93, 1.93),
}


def comfort_of(states: Sequence[tuple[float, float, float]], dt: float) -> dict[str, Any]:
    """``states``: (speed m/s, longitudinal accel m/s², yaw rate rad/s) per tick of ``dt`` s. Returns the share
    of ticks beyond any bound, the worst value of each quantity, and whether the whole drive stayed within all
    six (PDM's binary comfort)."""
    if len(states) < 3:
        return {"uncomfortable_share": 0.0, "comfortable": True, "worst": {}}
    v, a, r = (np.asarray(c, np.float64) for c in zip(*states))
    lat = v * r
    series = {"lon_accel_mps2": a, "lat_accel_mps2": lat, "lon_jerk_mps3": np.gradient(a, dt),
              "jerk_magnitude_mps3": np.hypot(np.gradient(a, dt), np.gradient(lat, dt)),
              "yaw_rate_rps": r, "yaw_accel_rps2": np.gradient(r, dt)}
    bad = np.zeros(len(v), bool)
    worst = {}
    for name, x in series.items():
        lo, hi = COMFORT_LIMITS[name]
        bad |= (x < lo) | (x > hi)
        worst[name] = float(x[np.argmax(np.abs(x))])
    return {"uncomfortable_share": float(bad.mean()), "comfortable": not bool(bad.any()), "worst": worst}
