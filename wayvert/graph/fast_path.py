"""Which multiply-accumulates run on the int8 micro-kernels, and which layers fall off them.

The fast path is an int8 ``conv2d`` (packed int8 GEMM or the depthwise kernel) or an int8 ``linear``: int8 codes
in, int32 sums, the fixed-point epilogue. Every other op that multiplies and accumulates (a float32 conv2d or
linear, ``matmul``, ``attention``) runs the float kernels, several times slower per MAC on the CPU back end. A
runtime that quietly falls back to slow kernels is a known pain of other runtimes' partitioners, so the share is
printed by ``wayvert inspect`` and the compile report, with every layer off the fast path named.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .costs import op_cost
from .read import engine_ops

FAST_OPS = ("conv2d", "linear")


@dataclass(frozen=True)
class FastPath:
    """MACs on the int8 kernels, all MACs, and the layers whose MACs are not."""

    int8_macs: int
    total_macs: int
    off: tuple[dict[str, Any], ...]   # {"name", "op", "dtype", "macs"} per MAC-carrying op off the fast path

    @property
    def share(self) -> float:
        """int8 MACs / all MACs (1.0 for an engine without MACs)."""
        return self.int8_macs / self.total_macs if self.total_macs else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"int8_mac_share": self.share, "int8_macs": self.int8_macs, "total_macs": self.total_macs,
                "off_fast_path": list(self.off)}


def fast_path(engine: Any) -> FastPath:
    """The fast-path summary of an ``EngineBuilder``, a loaded ``wayvert.Engine`` or a ``.wvrt`` path."""
    fast = total = 0
    off = []
    for op in engine_ops(engine):
        c = op_cost(op)
        if c.macs == 0:
            continue
        total += c.macs
        if op.op_type in FAST_OPS and c.dtype == "int8":
            fast += c.macs
        else:
            off.append({"name": c.name, "op": c.op, "dtype": c.dtype, "macs": c.macs})
    return FastPath(fast, total, tuple(off))
