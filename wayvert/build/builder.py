"""``EngineBuilder``: the one writer of ``.wvrt`` engine files (numpy only).

It keeps the graph in memory as plain records (so :mod:`wayvert.reference` can interpret the same
graph) and serialises it to the byte layout of :mod:`wayvert.build.format`.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from wayvert.build import format as fmt
from wayvert.errors import BuildError


@dataclass(frozen=True)
class Tensor:
    """A value of the graph being built: graph input, constant or op output."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: float = 0.0
    zero_point: int = 0

    @property
    def quantized(self) -> bool:
        return self.dtype in ("int8", "uint8")


@dataclass
class ValueRecord:
    tensor: Tensor
    kind: int
    data: npt.NDArray[Any] | None = None


@dataclass
class OpRecord:
    op_type: str
    inputs: list[str | None]
    outputs: list[str]
    attrs: dict[str, int | float] = field(default_factory=dict)


_NUMPY_DTYPES = {"float32": np.float32, "int8": np.int8, "int32": np.int32, "uint8": np.uint8}


class EngineBuilder:
    """Build an engine graph op by op, then ``write()`` it.

    Ops must be added in execution order (each op's inputs exist already); the runtime
    executes them in that order.
    """

    def __init__(self, model_name: str = "model", model_version: str = "0") -> None:
        self.values: dict[str, ValueRecord] = {}
        self.ops: list[OpRecord] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.states: list[tuple[str, str]] = []  # (state value, value it takes after each run)
        self.meta: dict[str, Any] = {"model": {"name": model_name, "version": model_version}}
        self.profile: dict[str, Any] | None = None
        self._counter = 0

    # ---- graph construction -------------------------------------------------------------------
    def unique_name(self, stem: str) -> str:
        """A value name not used yet, derived from ``stem``."""
        if stem not in self.values:
            return stem
        while True:
            self._counter += 1
            name = f"{stem}_{self._counter}"
            if name not in self.values:
                return name

    def _add_value(self, t: Tensor, kind: int, data: npt.NDArray[Any] | None = None) -> Tensor:
        if not t.name:
            raise BuildError("value names must be non-empty")
        if t.name in self.values:
            raise BuildError(f"value name '{t.name}' is already used")
        if t.dtype not in fmt.DTYPE_CODES:
            raise BuildError(f"value '{t.name}': unknown dtype {t.dtype!r} (use one of {sorted(fmt.DTYPE_CODES)})")
        if len(t.shape) > fmt.MAX_RANK or any(int(d) < 1 for d in t.shape):
            raise BuildError(f"value '{t.name}': shape {t.shape} needs rank <= 6 and dims >= 1")
        if t.quantized and not (np.isfinite(t.scale) and t.scale > 0):
            raise BuildError(f"value '{t.name}': int8 tensors need a finite scale > 0, got {t.scale}")
        self.values[t.name] = ValueRecord(t, kind, data)
        return t

    def input(self, name: str, dtype: str, shape: Sequence[int], scale: float = 0.0, zero_point: int = 0) -> Tensor:
        """Declare a graph input."""
        t = self._add_value(Tensor(name, dtype, tuple(int(d) for d in shape), float(scale), int(zero_point)), fmt.KIND_INPUT)
        self.inputs.append(name)
        return t

    def constant(self, name: str, array: npt.ArrayLike, scale: float | None = None, zero_point: int = 0) -> Tensor:
        """Add a constant (weights, bias, tables); its dtype is the array's."""
        a = np.ascontiguousarray(array)
        dtype = str(a.dtype)
        if dtype not in _NUMPY_DTYPES:
            raise BuildError(f"constant '{name}': dtype {dtype} is not storable (float32, int8, int32, uint8)")
        if a.ndim == 0:
            a = a.reshape(1)
        if scale is None:
            scale = 1.0 if dtype in ("int8", "uint8") else 0.0
        t = Tensor(self.unique_name(name), dtype, tuple(a.shape), float(scale), int(zero_point))
        return self._add_value(t, fmt.KIND_CONSTANT, a)

    def op(
        self,
        op_type: str,
        inputs: Sequence[Tensor | None],
        outputs: Sequence[Tensor],
        attrs: Mapping[str, int | float] | None = None,
    ) -> list[Tensor]:
        """Append an op reading ``inputs`` (None for an absent optional input) and defining ``outputs``."""
        names: list[str | None] = []
        for t in inputs:
            if t is None:
                names.append(None)
                continue
            if t.name not in self.values:
                raise BuildError(f"{op_type}: input '{t.name}' is not a value of this graph")
            names.append(t.name)
        outs = []
        for t in outputs:
            outs.append(self._add_value(Tensor(self.unique_name(t.name), t.dtype, t.shape, t.scale, t.zero_point), fmt.KIND_ACTIVATION))
        self.ops.append(OpRecord(op_type, names, [t.name for t in outs], dict(attrs or {})))
        return outs

    def state(self, name: str, dtype: str, shape: Sequence[int], scale: float = 0.0, zero_point: int = 0) -> Tensor:
        """Declare recurrent state: read like an input, owned by each session, starting at its zero point.

        Give it its next value with :meth:`update_state` once the op computing that value is added.
        """
        return self._add_value(Tensor(name, dtype, tuple(int(d) for d in shape), float(scale), int(zero_point)), fmt.KIND_STATE)

    def update_state(self, state: Tensor, next_value: Tensor) -> None:
        """After every run, ``state`` takes the value of ``next_value`` (same dtype, shape and quantization)."""
        s, n = self.values[state.name].tensor, self.values[next_value.name].tensor
        if self.values[state.name].kind != fmt.KIND_STATE:
            raise BuildError(f"'{state.name}' is not a state value")
        if (s.dtype, s.shape, s.scale, s.zero_point) != (n.dtype, n.shape, n.scale, n.zero_point):
            raise BuildError(f"state '{s.name}' and its update '{n.name}' differ in dtype, shape or quantization")
        if any(st == state.name for st, _ in self.states):
            raise BuildError(f"state '{s.name}' already has an update")
        self.states.append((state.name, next_value.name))

    def output(self, *tensors: Tensor) -> None:
        """Mark values as graph outputs (in this order)."""
        for t in tensors:
            if t.name not in self.values:
                raise BuildError(f"output '{t.name}' is not a value of this graph")
            self.outputs.append(t.name)

    # ---- serialisation ------------------------------------------------------------------------
    def _spec(self, name: str) -> dict[str, Any]:
        t = self.values[name].tensor
        spec: dict[str, Any] = {"name": t.name, "dtype": t.dtype, "shape": list(t.shape)}
        if t.quantized:
            spec.update(scale=t.scale, zero_point=t.zero_point)
        return spec

    def meta_json(self) -> dict[str, Any]:
        """The meta section as written: user meta plus inputs, outputs, op counts and producer."""
        from wayvert import __version__

        meta = dict(self.meta)
        meta["format"] = {"major": fmt.MAJOR, "minor": fmt.MINOR}
        meta["inputs"] = [self._spec(n) for n in self.inputs]
        meta["outputs"] = [self._spec(n) for n in self.outputs]
        if self.states:
            meta["state"] = [self._spec(n) for n, _ in self.states]
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op.op_type] = counts.get(op.op_type, 0) + 1
        meta["ops"] = counts
        meta.setdefault("producer", {"name": "wayvert.build.EngineBuilder", "version": __version__})
        return meta

    def to_bytes(self) -> bytes:
        """Serialise to engine format v1 (deterministic: the same graph gives the same bytes)."""
        if not self.outputs:
            raise BuildError("the graph has no outputs; call output() first")
        strings = bytearray()
        string_at: dict[str, tuple[int, int]] = {}

        def intern(s: str) -> tuple[int, int]:
            if s not in string_at:
                b = s.encode("utf-8")
                string_at[s] = (len(strings), len(b))
                strings.extend(b)
            return string_at[s]

        names = list(self.values)
        index_of = {n: i for i, n in enumerate(names)}
        tensors = bytearray()
        value_recs = bytearray()
        for n in names:
            rec = self.values[n]
            t = rec.tensor
            off = size = 0
            if rec.kind == fmt.KIND_CONSTANT:
                assert rec.data is not None
                tensors.extend(b"\0" * (-len(tensors) % fmt.ALIGNMENT))
                off = len(tensors)
                blob = np.ascontiguousarray(rec.data, dtype=_NUMPY_DTYPES[t.dtype]).astype(
                    np.dtype(_NUMPY_DTYPES[t.dtype]).newbyteorder("<"), copy=False
                ).tobytes()
                size = len(blob)
                tensors.extend(blob)
            dims = list(t.shape) + [0] * (fmt.MAX_RANK - len(t.shape))
            no, nl = intern(n)
            value_recs += fmt.VALUE.pack(no, nl, fmt.DTYPE_CODES[t.dtype], len(t.shape), rec.kind, 0, 0, *dims,
                                         float(t.scale), int(t.zero_point), off, size)

        indices: list[int] = [index_of[n] for n in self.inputs] + [index_of[n] for n in self.outputs]
        for st, nxt in self.states:
            indices += [index_of[st], index_of[nxt]]
        op_recs = bytearray()
        attr_recs = bytearray()
        attr_count = 0
        for op in self.ops:
            in_first = len(indices)
            indices += [fmt.ABSENT if n is None else index_of[n] for n in op.inputs]
            out_first = len(indices)
            indices += [index_of[n] for n in op.outputs]
            a_first = attr_count
            for key in sorted(op.attrs):
                v = op.attrs[key]
                ko, kl = intern(key)
                if isinstance(v, (bool, int, np.integer)):
                    attr_recs += fmt.ATTR_INT_REC.pack(ko, kl, fmt.ATTR_INT, 0, int(v))
                else:
                    attr_recs += fmt.ATTR_FLOAT_REC.pack(ko, kl, fmt.ATTR_FLOAT, 0, float(v))
                attr_count += 1
            no, nl = intern(op.op_type)
            op_recs += fmt.OP.pack(no, nl, in_first, len(op.inputs), out_first, len(op.outputs), a_first, len(op.attrs))

        graph = (
            fmt.GRAPH_HEADER.pack(len(names), len(self.ops), len(self.inputs), len(self.outputs), attr_count,
                                  len(indices), len(strings), len(self.states))
            + bytes(value_recs) + bytes(op_recs) + bytes(attr_recs)
            + np.asarray(indices, dtype="<u4").tobytes() + bytes(strings)
        )
        meta = json.dumps(self.meta_json(), sort_keys=True, indent=1).encode("utf-8")
        sections: list[tuple[int, bytes]] = [(fmt.SECTION_META, meta), (fmt.SECTION_GRAPH, graph), (fmt.SECTION_TENSORS, bytes(tensors))]
        if self.profile is not None:
            sections.append((fmt.SECTION_PROFILE, json.dumps(self.profile, sort_keys=True).encode("utf-8")))
        return assemble(sections)

    def write(self, path: str | os.PathLike[str]) -> int:
        """Write the engine file; returns its size in bytes."""
        data = self.to_bytes()
        with open(path, "wb") as f:
            f.write(data)
        return len(data)


def assemble(sections: Sequence[tuple[int, bytes]], major: int = fmt.MAJOR, minor: int = fmt.MINOR, flags: int = 0) -> bytes:
    """Lay out header, section table and 64-byte aligned sections, and fill in size and CRC-32."""
    table_at = fmt.HEADER_SIZE
    body_at = table_at + fmt.SECTION.size * len(sections)
    out = bytearray(b"\0" * body_at)
    table = bytearray()
    for kind, payload in sections:
        out.extend(b"\0" * (-len(out) % fmt.ALIGNMENT))
        table += fmt.SECTION.pack(kind, 0, len(out), len(payload), 0)
        out.extend(payload)
    out[table_at:body_at] = table
    crc = zlib.crc32(bytes(out[fmt.HEADER_SIZE:])) & 0xFFFFFFFF
    out[: fmt.HEADER_SIZE] = fmt.HEADER.pack(fmt.MAGIC, major, minor, flags, fmt.HEADER_SIZE, len(sections), table_at,
                                             len(out), crc, 0)
    return bytes(out)
