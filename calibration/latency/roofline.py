"""Roofline time of each op on a profile: the slower of its compute and its memory traffic, plus a fixed launch cost.

``t = max(ops / (peak x utilisation), bytes / bandwidth) + launch_overhead``. int8 ops (int8 input) use the int8
peak; float ops use the profile's float precision (fp16 on CUDA targets, fp32 on the CPU).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..profiles import TargetProfile

from wayvert.graph import OpCost


@dataclass(frozen=True)
class OpTime:
    """One op on one profile: its costs, the two roofline terms and the estimate (milliseconds)."""

    name: str
    op: str
    dtype: str
    macs: int
    ops: int
    bytes: int
    compute_ms: float
    memory_ms: float
    launch_ms: float
    est_ms: float
    bound: str  # "compute" or "memory": the larger term

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def op_time(cost: OpCost, profile: TargetProfile) -> OpTime:
    """Roofline estimate of one op on ``profile``."""
    c = profile.compute
    nbytes = cost.bytes_on(c.float_bytes)
    compute_s = cost.ops / c.realised_ops_per_s(cost.dtype)
    memory_s = nbytes / (profile.memory_bandwidth_gbs * 1e9)
    launch_s = c.launch_overhead_us * 1e-6
    return OpTime(cost.name, cost.op, cost.dtype, cost.macs, cost.ops, nbytes, compute_s * 1e3, memory_s * 1e3,
                  launch_s * 1e3, (max(compute_s, memory_s) + launch_s) * 1e3,
                  "compute" if compute_s >= memory_s else "memory")


def roofline(costs: Sequence[OpCost], profile: TargetProfile) -> list[OpTime]:
    """Per-op roofline estimates of ``costs`` on ``profile``, in execution order (sum ``est_ms`` for the total)."""
    return [op_time(cost, profile) for cost in costs]
