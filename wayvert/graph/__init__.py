"""An engine's graph as plain records (numpy only): ops, values and constants read from a ``.wvrt`` or an
``EngineBuilder``, and each op's work and traffic (MACs, ops, bytes) for ``wayvert inspect``, the roofline of the
calibration profiles and the benchmarks."""
from .costs import ELEMENTWISE_OPS, OpCost, op_cost, op_costs
from .fast_path import FastPath, fast_path
from .read import (OpInfo, ValueInfo, engine_constants, engine_meta, engine_ops, engine_state_pairs, read_constants,
                   read_graph, read_state_pairs)
from .tap import producer_input, with_outputs

__all__ = ["ELEMENTWISE_OPS", "FastPath", "OpCost", "fast_path", "OpInfo", "ValueInfo", "engine_constants", "engine_meta", "engine_ops", "engine_state_pairs", "producer_input", "with_outputs", "op_cost", "op_costs",
           "read_constants", "read_graph", "read_state_pairs"]
