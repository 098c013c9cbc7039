"""Read an engine's internal tensors: rebuild its graph with more outputs (numpy only).

An engine's memory plan reuses the arena, so an activation that is not an output is gone by the end of a run. To
read one (the trunk's features, for ``wayvert index``'s similarity search), the same ops, constants and meta are
written again with the tensor copied to a new output by a ``reshape`` to its own shape. Nothing else changes: the
original outputs are computed by the same ops from the same bytes, so they stay bit-identical (tested).
"""
from __future__ import annotations

from typing import Any, Mapping

from wayvert.build import EngineBuilder, Tensor
from wayvert.errors import InvalidArgumentError

from .read import OpInfo, engine_constants, engine_meta, engine_ops, engine_state_pairs

_REGENERATED_META = ("format", "inputs", "outputs", "ops", "state")


def producer_input(ops: list[OpInfo], output: str) -> str:
    """The name of the first input of the op that computes ``output`` (for a head: the features it reads)."""
    for op in ops:
        if any(v.name == output for v in op.outputs):
            first = op.inputs[0] if op.inputs else None
            if first is None:
                break
            return first.name
    raise InvalidArgumentError(f"no op of the engine computes {output!r}")


def with_outputs(engine: Any, taps: Mapping[str, str]) -> EngineBuilder:
    """``engine`` (an EngineBuilder, a loaded ``wayvert.Engine`` or a ``.wvrt`` path) rebuilt with one more output
    per ``{new output name: existing tensor name}``, after its own outputs. The new outputs have the tensor's dtype,
    shape and quantization; recurrent state keeps its updates (read from the index pool). Raises
    ``InvalidArgumentError`` for an unknown tensor or a name already used."""
    ops = engine_ops(engine)
    constants = engine_constants(engine)
    meta = engine_meta(engine)
    pairs = engine_state_pairs(engine)
    values = {v.name: v for op in ops for v in (*op.inputs, *op.outputs) if v is not None}
    for new, old in taps.items():
        if old not in values:
            raise InvalidArgumentError(f"the engine has no tensor {old!r} to read as {new!r}")
        if new in values:
            raise InvalidArgumentError(f"output name {new!r} is already a tensor of the engine")
    b = EngineBuilder()
    b.meta = {k: v for k, v in meta.items() if k not in _REGENERATED_META}
    for spec in meta["inputs"]:
        b.input(spec["name"], spec["dtype"], spec["shape"], spec.get("scale", 0.0), spec.get("zero_point", 0))
    for spec in meta.get("state", []):
        v = values.get(spec["name"])   # the value record's float32 scale, which the update's record also holds
        b.state(spec["name"], spec["dtype"], spec["shape"], v.scale if v is not None else spec.get("scale", 0.0),
                spec.get("zero_point", 0))
    made: dict[str, Tensor] = {name: b.values[name].tensor for name in b.values}

    def value(name: str) -> Tensor:
        if name not in made:
            v = values[name]
            if v.kind != "constant":
                raise InvalidArgumentError(f"tensor {name!r} is read before any op computes it")
            t = b.constant(name, constants[name], scale=v.scale if v.dtype in ("int8", "uint8") else None,
                           zero_point=v.zero_point)
            if t.name != name:
                raise InvalidArgumentError(f"constant {name!r} was renamed {t.name!r} on rebuild")
            made[name] = t
        return made[name]

    for op in ops:
        ins = [None if v is None else value(v.name) for v in op.inputs]
        outs = [Tensor(v.name, v.dtype, v.shape, v.scale, v.zero_point) for v in op.outputs]
        for t in b.op(op.op_type, ins, outs, op.attrs):
            made[t.name] = t
    b.output(*(made[spec["name"]] for spec in meta["outputs"]))
    for state, update in pairs:
        b.update_state(made[state], made[update])
    for new, old in taps.items():
        src = made[old]
        (copy,) = b.op("reshape", [src], [Tensor(new, src.dtype, src.shape, src.scale, src.zero_point)])
        b.output(copy)
    return b


__all__ = ["producer_input", "with_outputs"]
