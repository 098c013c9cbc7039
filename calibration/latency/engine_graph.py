"""The ops of an engine as plain records, from an ``EngineBuilder`` or by reading the graph section of a ``.wvrt``.

``wayvert.Engine`` exposes only the op types of its plan, so for a loaded engine the graph section of its file is
read here with the byte layout of ``wayvert.build.format`` (docs/engine-format.md, section 3). A path is loaded with
``wayvert.Engine.load`` first, so the runtime has validated every bound before this reader looks at it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import wayvert
from wayvert.build import EngineBuilder
from wayvert.build import format as fmt
from wayvert.errors import InvalidArgumentError

_KINDS = {fmt.KIND_ACTIVATION: "activation", fmt.KIND_CONSTANT: "constant", fmt.KIND_INPUT: "input", fmt.KIND_STATE: "state"}


@dataclass(frozen=True)
class ValueInfo:
    """One tensor of the graph: name, dtype, shape and kind ("activation", "constant", "input" or "state")."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    kind: str

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.elements * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class OpInfo:
    """One op in execution order: type, input slots (None where absent), outputs and attributes."""

    op_type: str
    inputs: tuple[ValueInfo | None, ...]
    outputs: tuple[ValueInfo, ...]
    attrs: dict[str, int | float] = field(default_factory=dict)


def _from_builder(b: EngineBuilder) -> list[OpInfo]:
    def info(name: str) -> ValueInfo:
        rec = b.values[name]
        return ValueInfo(rec.tensor.name, rec.tensor.dtype, tuple(rec.tensor.shape), _KINDS[rec.kind])

    return [OpInfo(op.op_type, tuple(None if n is None else info(n) for n in op.inputs), tuple(info(n) for n in op.outputs),
                   dict(op.attrs)) for op in b.ops]


def read_graph(data: bytes, source: str = "engine") -> list[OpInfo]:
    """Ops of a serialised engine (already validated by the runtime: only layout is read, nothing re-checked)."""
    count, table = fmt.HEADER.unpack_from(data, 0)[5:7]
    graph_at = graph_size = None
    for i in range(count):
        kind, _, off, size, _ = fmt.SECTION.unpack_from(data, table + fmt.SECTION.size * i)
        if kind == fmt.SECTION_GRAPH:
            graph_at, graph_size = off, size
    if graph_at is None or graph_size is None:
        raise InvalidArgumentError(f"{source}: no graph section")
    g = memoryview(data)[graph_at:graph_at + graph_size]
    nv, nop, _, _, nattr, nidx, nstr, _ = fmt.GRAPH_HEADER.unpack_from(g, 0)
    values_at = fmt.GRAPH_HEADER.size
    ops_at = values_at + fmt.VALUE.size * nv
    attrs_at = ops_at + fmt.OP.size * nop
    index_at = attrs_at + fmt.ATTR_INT_REC.size * nattr
    strings_at = index_at + 4 * nidx
    strings = bytes(g[strings_at:strings_at + nstr])

    def text(off: int, length: int) -> str:
        return strings[off:off + length].decode("utf-8")

    values = []
    for i in range(nv):
        no, nl, dtype, rank, kind, _, _, *rest = fmt.VALUE.unpack_from(g, values_at + fmt.VALUE.size * i)
        values.append(ValueInfo(text(no, nl), fmt.DTYPE_NAMES[dtype], tuple(int(d) for d in rest[:rank]), _KINDS[kind]))
    index = np.frombuffer(g, dtype="<u4", count=nidx, offset=index_at)
    attrs: list[tuple[str, int | float]] = []
    for i in range(nattr):
        at = attrs_at + fmt.ATTR_INT_REC.size * i
        ko, kl, typ, _, iv = fmt.ATTR_INT_REC.unpack_from(g, at)
        attrs.append((text(ko, kl), fmt.ATTR_FLOAT_REC.unpack_from(g, at)[4] if typ == fmt.ATTR_FLOAT else int(iv)))
    out = []
    for i in range(nop):
        no, nl, in_first, in_count, out_first, out_count, a_first, a_count = fmt.OP.unpack_from(g, ops_at + fmt.OP.size * i)
        ins = tuple(None if int(v) == fmt.ABSENT else values[int(v)] for v in index[in_first:in_first + in_count])
        outs = tuple(values[int(v)] for v in index[out_first:out_first + out_count])
        op_attrs: dict[str, int | float] = {}
        for key, val in attrs[a_first:a_first + a_count]:
            op_attrs.setdefault(key, val)  # a repeated key: the first record counts (docs/engine-format.md 3.6)
        out.append(OpInfo(text(no, nl), ins, outs, op_attrs))
    return out


def engine_ops(engine: Any) -> list[OpInfo]:
    """Ops of ``engine``: an ``EngineBuilder``, a ``wayvert.Engine`` loaded from a file, or a ``.wvrt`` path."""
    if isinstance(engine, EngineBuilder):
        return _from_builder(engine)
    if isinstance(engine, wayvert.Engine):
        if not os.path.isfile(engine.source):
            raise InvalidArgumentError(f"engine from {engine.source!r} has no file to read its graph from; "
                                       "pass the EngineBuilder or the .wvrt path instead")
        path = engine.source
    elif isinstance(engine, (str, os.PathLike)):
        path = os.fspath(engine)
        wayvert.Engine.load(path)  # the runtime validates it (typed errors for a bad file)
    else:
        raise InvalidArgumentError(f"expected an EngineBuilder, a wayvert.Engine or a .wvrt path, got {type(engine).__name__}")
    with open(path, "rb") as f:
        return read_graph(f.read(), path)
