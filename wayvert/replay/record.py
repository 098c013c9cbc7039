"""The JSON-lines record of one replayed frame set and the summary of a replay (fields in docs/cli.md)."""
from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping

import numpy as np
import numpy.typing as npt

from wayvert.safety import CHECK_NAMES, Verdict

#: Stages timed per frame set, in pipeline order; "total" is their sum.
STAGES = ("read", "adapter", "engine", "verifier")

# Rounding (decimals): millimetres / milliradians / mm/s for trajectories; 6 for the other heads and the ego state
# (a curvature is ~1e-3 1/m); 4 for ratios (margins, coverage); microseconds for times and timings. Enough for
# any analysis, and it keeps a line of six 20-point modes short.
TRAJECTORY_DIGITS, VALUE_DIGITS, RATIO_DIGITS, TIME_DIGITS, MS_DIGITS = 3, 6, 4, 6, 3


def json_numbers(a: npt.ArrayLike, digits: int) -> Any:
    """A number or nested lists of numbers, rounded; NaN becomes null and ±inf the strings "inf" / "-inf" (JSON has
    no non-finite numbers)."""
    arr = np.asarray(a, np.float64)
    if np.isfinite(arr).all():
        return np.round(arr, digits).tolist()

    def one(v: float) -> Any:
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return round(v, digits)

    if arr.ndim == 0:
        return one(float(arr))
    return [json_numbers(row, digits) for row in arr] if arr.ndim > 1 else [one(float(v)) for v in arr]


def reason_names(reasons: int) -> list[str]:
    """The names of the failed checks in a reason bitmask (bit i = CHECK_NAMES[i], docs/verifier.md)."""
    return [name for i, name in enumerate(CHECK_NAMES) if int(reasons) >> i & 1]


def outputs_record(outputs: Mapping[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """Every engine output as JSON lists, the batch axis of 1 dropped (a [1] head becomes a number)."""
    rec: dict[str, Any] = {}
    for name, value in outputs.items():
        a = np.asarray(value)
        if a.ndim >= 1 and a.shape[0] == 1:
            a = a[0]
        rec[name] = json_numbers(a, TRAJECTORY_DIGITS if name == "trajectories" else VALUE_DIGITS)
    return rec


def verdict_record(verdict: Verdict, top: int) -> dict[str, Any]:
    """The verifier's decision: chosen mode (-1: fallback), the network's top mode, per-mode reasons and margins."""
    margins = np.asarray(verdict.margins, np.float64)
    return {
        "chosen": int(verdict.chosen),
        "top": int(top),
        "fallback_used": bool(verdict.fallback_used),
        "passed": [bool(p) for p in verdict.passed],
        "reasons": [reason_names(r) for r in verdict.reasons],
        "fallback_reasons": reason_names(verdict.fallback_reasons),
        "margins": {name: json_numbers(margins[:, i], RATIO_DIGITS) for i, name in enumerate(CHECK_NAMES)},
        "trajectory": json_numbers(verdict.trajectory, TRAJECTORY_DIGITS),
    }


def to_json_line(record: Mapping[str, Any]) -> str:
    """One record as a line of strict JSON (no NaN / Infinity tokens)."""
    return json.dumps(record, allow_nan=False, separators=(",", ":"))


def summarize(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and per-stage latency percentiles (ms, over the frame sets that ran the stage) of a replay."""
    recs = list(records)
    per_stage: dict[str, list[float]] = {s: [] for s in (*STAGES, "total")}
    for r in recs:
        for stage, ms in r["timing_ms"].items():
            per_stage[stage].append(float(ms))
    return {
        "frames": len(recs),
        "degraded": sum(1 for r in recs if r["degraded"]),
        "skipped": sum(1 for r in recs if not r["ran"]),
        "fallbacks": sum(1 for r in recs if r["verdict"] is not None and r["verdict"]["fallback_used"]),
        "deadline_overruns": sum(1 for r in recs if (r.get("deadline") or {}).get("overrun")),
        "driven": {k: sum(1 for r in recs if (r.get("deadline") or {}).get("driven") == k)
                   for k in ("fresh", "held", "fallback")},
        "latency_ms": {s: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))}
                       for s, v in per_stage.items() if v},
    }


def summary_line(s: Mapping[str, Any]) -> str:
    """The summary as the one line ``wayvert run`` prints to stderr."""
    lat = ", ".join(f"{stage} {v['p50']:.2f}/{v['p99']:.2f}" for stage, v in s["latency_ms"].items())
    return (f"wayvert run: {s['frames']} frame sets, {s['degraded']} degraded, {s['skipped']} skipped, "
            f"{s['fallbacks']} fallbacks, {s['deadline_overruns']} past the frame budget (driven: "
            f"{s['driven']['fresh']} fresh, {s['driven']['held']} held, {s['driven']['fallback']} fallback); "
            f"latency ms p50/p99: {lat or '-'}")
