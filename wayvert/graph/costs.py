"""Work and traffic of each op: multiply-accumulates, ops and bytes, from shapes and attributes alone.

* conv2d: ``MACs = elements(y) x (C/groups) x kh x kw`` (= N Co Ho Wo (C/g) kh kw); linear: ``elements(y) x K``;
  attention: ``2 B L S D`` (q k^T and the weighted sum of v) plus 5 ops per score for the softmax.
* ops = 2 x MACs + the elementwise ops below, per element of the output (global_avg_pool: of the input).
* bytes = every input slot present (activations, weights, bias, multipliers, LUT, residual) + every output, each
  read or written once: the traffic of an op that keeps nothing on chip between ops. Float32 tensors are counted
  at the target's float width (fp16 on CUDA), so the bytes depend on the profile (``OpCost.bytes_on``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wayvert.errors import InvalidArgumentError

from .read import OpInfo, ValueInfo, engine_ops

# ops per element for ops without multiply-accumulates (an int8 add is two rescales, a sum and a clamp, but one
# op per element keeps the count comparable to the float add; these ops are memory-bound by far on every profile).
ELEMENTWISE_OPS = {"add": 1, "layernorm": 8, "global_avg_pool": 1, "quantize": 2, "dequantize": 2,
                   "reshape": 0, "permute": 0, "concat": 0, "slice": 0, "mul": 1, "unary": 4, "softmax": 5,
                   "resize": 4}
#: Pooling: one op per window element per output (a compare or an add).
POOL_OPS = ("max_pool2d", "avg_pool2d")
SOFTMAX_OPS_PER_SCORE = 5  # max, subtract, exp, sum, divide


@dataclass(frozen=True)
class OpCost:
    """One op's work: ``macs``, ``ops`` (2 per MAC plus elementwise ops), and its bytes split by float-ness."""

    name: str  # the op's first output value
    op: str  # op type
    dtype: str  # what it computes in: "int8" (int8 input) or "float"
    macs: int
    ops: int
    fixed_bytes: int  # bytes of the non-float tensors it touches
    float_elements: int  # elements of the float32 tensors it touches
    modelled: bool  # False: an op type this table does not know, costed as one op per output element

    def bytes_on(self, float_bytes: int) -> int:
        """Bytes moved with float tensors stored at ``float_bytes`` per element."""
        return self.fixed_bytes + self.float_elements * float_bytes


def _slot(op: OpInfo, i: int) -> ValueInfo:
    t = op.inputs[i] if i < len(op.inputs) else None
    if t is None:
        raise InvalidArgumentError(f"{op.op_type} '{op.outputs[0].name}': input slot {i} is absent")
    return t


def _macs(op: OpInfo) -> int:
    y = op.outputs[0]
    if op.op_type == "conv2d":
        w = _slot(op, 1)
        return y.elements * w.shape[1] * w.shape[2] * w.shape[3]
    if op.op_type == "linear":
        return y.elements * _slot(op, 1).shape[1]
    if op.op_type == "attention":
        b, length, d = _slot(op, 0).shape
        return 2 * b * length * _slot(op, 1).shape[1] * d
    if op.op_type == "matmul":
        return y.elements * _slot(op, 0).shape[-1]
    return 0


def _elementwise(op: OpInfo) -> tuple[int, bool]:
    if op.op_type in ("conv2d", "linear", "matmul"):
        return 0, True
    if op.op_type in POOL_OPS:
        return op.outputs[0].elements * int(op.attrs.get("kernel_h", 1)) * int(op.attrs.get("kernel_w", 1)), True
    if op.op_type == "attention":
        q, k = _slot(op, 0), _slot(op, 1)
        heads = int(op.attrs.get("num_heads", 1))
        return SOFTMAX_OPS_PER_SCORE * q.shape[0] * heads * q.shape[1] * k.shape[1], True
    if op.op_type not in ELEMENTWISE_OPS:
        return op.outputs[0].elements, False
    x = _slot(op, 0) if op.op_type == "global_avg_pool" else op.outputs[0]
    return ELEMENTWISE_OPS[op.op_type] * x.elements, True


def op_cost(op: OpInfo) -> OpCost:
    """MACs, ops and bytes of one op."""
    macs = _macs(op)
    extra, modelled = _elementwise(op)
    tensors = [t for t in op.inputs if t is not None] + list(op.outputs)
    fixed = sum(t.nbytes for t in tensors if t.dtype != "float32")
    floats = sum(t.elements for t in tensors if t.dtype == "float32")
    first = op.inputs[0] if op.inputs else None
    dtype = "int8" if first is not None and first.dtype in ("int8", "uint8") else "float"
    return OpCost(op.outputs[0].name, op.op_type, dtype, macs, 2 * macs + extra, fixed, floats, modelled)


def op_costs(engine: Any) -> list[OpCost]:
    """Per-op costs of an ``EngineBuilder``, a loaded ``wayvert.Engine`` or a ``.wvrt`` path, in execution order."""
    return [op_cost(op) for op in engine_ops(engine)]
