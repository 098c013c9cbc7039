"""The ops of an engine as plain records, from an ``EngineBuilder`` or by reading the graph section of a ``.wvrt``.

``wayvert.Engine`` exposes only the op types of its plan, so for a loaded engine the graph section of its file is
read here with the byte layout of ``wayvert.build.format`` (docs/engine-format.md, section 3). A path is loaded with
``wayvert.Engine.load`` first, so the runtime has validated every bound before this reader looks at it.
``constants`` reads the constant blobs too (views of the file's bytes, for peers built from the same weights).
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
    scale: float = field(default=0.0, compare=False)  # int8: the affine scale as stored (float32); float: 0
    zero_point: int = field(default=0, compare=False)

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
        t = rec.tensor
        return ValueInfo(t.name, t.dtype, tuple(t.shape), _KINDS[rec.kind], float(np.float32(t.scale)), int(t.zero_point))

    return [OpInfo(op.op_type, tuple(None if n is None else info(n) for n in op.inputs), tuple(info(n) for n in op.outputs),
                   dict(op.attrs)) for op in b.ops]


def _section(data: bytes, wanted: int, source: str) -> memoryview:
    count, table = fmt.HEADER.unpack_from(data, 0)[5:7]
    for i in range(count):
        kind, _, off, size, _ = fmt.SECTION.unpack_from(data, table + fmt.SECTION.size * i)
        if kind == wanted:
            return memoryview(data)[off:off + size]
    raise InvalidArgumentError(f"{source}: no section of kind {wanted}")


def _graph_values(data: bytes, source: str) -> tuple[memoryview, list[tuple[ValueInfo, int, int]]]:
    """The graph section and each value with its constant blob (offset, size) in the tensors section."""
    g = _section(data, fmt.SECTION_GRAPH, source)
    nv, nop, _, _, nattr, nidx, nstr, _ = fmt.GRAPH_HEADER.unpack_from(g, 0)
    strings_at = fmt.GRAPH_HEADER.size + fmt.VALUE.size * nv + fmt.OP.size * nop + fmt.ATTR_INT_REC.size * nattr + 4 * nidx
    strings = bytes(g[strings_at:strings_at + nstr])
    out = []
    for i in range(nv):
        no, nl, dtype, rank, kind, _, _, *rest = fmt.VALUE.unpack_from(g, fmt.GRAPH_HEADER.size + fmt.VALUE.size * i)
        dims, scale, zero, d_off, d_size = rest[:6], rest[6], rest[7], rest[8], rest[9]
        info = ValueInfo(strings[no:no + nl].decode("utf-8"), fmt.DTYPE_NAMES[dtype], tuple(int(d) for d in dims[:rank]),
                         _KINDS[kind], float(scale), int(zero))
        out.append((info, int(d_off), int(d_size)))
    return g, out


def read_constants(data: bytes, source: str = "engine") -> dict[str, np.ndarray]:
    """Every constant of a serialised engine as a read-only numpy view of ``data``, by value name."""
    _, values = _graph_values(data, source)
    blobs = _section(data, fmt.SECTION_TENSORS, source)
    out = {}
    for info, off, size in values:
        if info.kind == "constant":
            out[info.name] = np.frombuffer(blobs, dtype=np.dtype(info.dtype).newbyteorder("<"), count=info.elements,
                                           offset=off).reshape(info.shape)
    return out


def read_graph(data: bytes, source: str = "engine") -> list[OpInfo]:
    """Ops of a serialised engine (already validated by the runtime: only layout is read, nothing re-checked)."""
    g, value_recs = _graph_values(data, source)
    nv, nop, _, _, nattr, nidx, nstr, _ = fmt.GRAPH_HEADER.unpack_from(g, 0)
    values_at = fmt.GRAPH_HEADER.size
    ops_at = values_at + fmt.VALUE.size * nv
    attrs_at = ops_at + fmt.OP.size * nop
    index_at = attrs_at + fmt.ATTR_INT_REC.size * nattr
    strings_at = index_at + 4 * nidx
    strings = bytes(g[strings_at:strings_at + nstr])

    def text(off: int, length: int) -> str:
        return strings[off:off + length].decode("utf-8")

    values = [v for v, _, _ in value_recs]
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


def read_state_pairs(data: bytes, source: str = "engine") -> list[tuple[str, str]]:
    """``(state, update)`` value names of a serialised engine's recurrent state, in state-list order (the index
    pool entries after the graph inputs and outputs, docs/engine-format.md section 3.7)."""
    g, value_recs = _graph_values(data, source)
    nv, nop, nin, nout, nattr, nidx, _, nstate = fmt.GRAPH_HEADER.unpack_from(g, 0)
    index_at = fmt.GRAPH_HEADER.size + fmt.VALUE.size * nv + fmt.OP.size * nop + fmt.ATTR_INT_REC.size * nattr
    pairs = np.frombuffer(g, dtype="<u4", count=2 * nstate, offset=index_at + 4 * (nin + nout)).reshape(-1, 2)
    return [(value_recs[int(a)][0].name, value_recs[int(b)][0].name) for a, b in pairs]


def _engine_file(engine: Any) -> str | None:
    """The validated .wvrt path of ``engine`` (None for an EngineBuilder)."""
    if isinstance(engine, EngineBuilder):
        return None
    if isinstance(engine, wayvert.Engine):
        if not os.path.isfile(engine.source):
            raise InvalidArgumentError(f"engine from {engine.source!r} has no file to read its graph from; "
                                       "pass the EngineBuilder or the .wvrt path instead")
        return engine.source
    if isinstance(engine, (str, os.PathLike)):
        path = os.fspath(engine)
        wayvert.Engine.load(path)  # the runtime validates it (typed errors for a bad file)
        return path
    raise InvalidArgumentError(f"expected an EngineBuilder, a wayvert.Engine or a .wvrt path, got {type(engine).__name__}")


def engine_constants(engine: Any) -> dict[str, np.ndarray]:
    """Constants (weights, biases, multipliers, LUTs) of an ``EngineBuilder``, a loaded engine or a ``.wvrt`` path."""
    path = _engine_file(engine)
    if path is None:
        return {name: np.asarray(rec.data) for name, rec in engine.values.items() if rec.data is not None}
    with open(path, "rb") as f:
        return {k: v.copy() for k, v in read_constants(f.read(), path).items()}


def engine_ops(engine: Any) -> list[OpInfo]:
    """Ops of ``engine``: an ``EngineBuilder``, a ``wayvert.Engine`` loaded from a file, or a ``.wvrt`` path."""
    path = _engine_file(engine)
    if path is None:
        return _from_builder(engine)
    with open(path, "rb") as f:
        return read_graph(f.read(), path)


def engine_state_pairs(engine: Any) -> list[tuple[str, str]]:
    """``(state, update)`` value names of ``engine``'s recurrent state (an ``EngineBuilder``, a loaded engine or a
    ``.wvrt`` path); empty for an engine without state."""
    path = _engine_file(engine)
    if path is None:
        return list(engine.states)
    with open(path, "rb") as f:
        return read_state_pairs(f.read(), path)


def engine_meta(engine: Any) -> dict[str, Any]:
    """The meta section of ``engine`` (an ``EngineBuilder``: as it would be written; a loaded engine or a path: as
    stored)."""
    path = _engine_file(engine)
    if path is None:
        return dict(engine.meta_json())
    if isinstance(engine, wayvert.Engine):
        return dict(engine.meta)
    return dict(wayvert.Engine.load(path).meta)
