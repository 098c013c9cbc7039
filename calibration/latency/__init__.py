"""Latency and power of an engine on a target profile (docs/profiles.md).

* ``op_costs`` — MACs, ops and bytes per op from shapes and attributes (an ``EngineBuilder``, a loaded
  ``wayvert.Engine`` or a ``.wvrt`` path);
* ``roofline`` — per-op ``max(compute, memory) + launch`` on a ``TargetProfile``;
* ``measure_host_latency`` — p50/p90/p99 of the engine run by the C++ runtime on this host;
* ``estimate`` — target p99 (roofline scaled by the host's measured tail), power, energy, budget checks;
* ``plot_latency_by_op`` — a bar per op, for the calibration report.
"""
from wayvert.graph import OpInfo, ValueInfo, engine_ops, read_graph
from .estimate import combine_latency, estimate
from .host_latency import HostLatency, measure_host_latency
from wayvert.graph import ELEMENTWISE_OPS, OpCost, op_cost, op_costs
from .plot import plot_latency_by_op
from .roofline import OpTime, op_time, roofline

__all__ = ["ELEMENTWISE_OPS", "HostLatency", "OpCost", "OpInfo", "OpTime", "ValueInfo", "combine_latency",
           "engine_ops", "estimate", "measure_host_latency", "op_cost", "op_costs", "op_time", "plot_latency_by_op",
           "read_graph", "roofline"]
