"""Python API of the runtime: :class:`Engine` (immutable, shareable) and :class:`Session` (one execution context)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt

from wayvert import _core
from wayvert.errors import EngineFormatError, InputError, InvalidArgumentError


def _cuda_index(device: str) -> int:
    """-1 for "cpu", N for "cuda" (0) or "cuda:N"; InvalidArgumentError for anything else."""
    if not isinstance(device, str):
        raise InvalidArgumentError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device == "cpu":
        return -1
    if device == "cuda":
        return 0
    head, _, tail = device.partition(":")
    if head == "cuda" and tail.isdigit() and len(tail) <= 3:
        return int(tail)
    raise InvalidArgumentError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


@dataclass(frozen=True)
class TensorSpec:
    """One engine input or output: name, dtype, shape and (for int8) quantization."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class OpTime:
    """Wall time one op of the plan took over the profiled runs of a session."""

    index: int
    op: str
    total_ms: float
    runs: int

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.runs if self.runs else 0.0


def _specs(raw: list[dict[str, Any]]) -> tuple[TensorSpec, ...]:
    return tuple(TensorSpec(d["name"], d["dtype"], tuple(d["shape"]), float(d["scale"]), int(d["zero_point"])) for d in raw)


class Engine:
    """A validated, memory-mapped engine. Immutable: share one between threads, give each its own Session."""

    def __init__(self, handle: Any, source: str) -> None:
        self._handle = handle
        self.source = source
        try:
            self.meta: dict[str, Any] = json.loads(handle.meta_json())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EngineFormatError(f"{source}: meta section is not valid UTF-8 JSON ({e})") from None
        if not isinstance(self.meta, dict):
            raise EngineFormatError(f"{source}: meta section must be a JSON object")
        self.inputs: tuple[TensorSpec, ...] = _specs(handle.specs(True))
        self.outputs: tuple[TensorSpec, ...] = _specs(handle.specs(False))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Engine":
        """Map and validate an engine file (raises EngineFormatError, UnsupportedEngineError, EngineIOError)."""
        p = os.fspath(path)
        return cls(_core.load_engine(p), p)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Engine":
        """Validate an engine held in memory (the bytes are copied)."""
        return cls(_core.load_engine_bytes(bytes(data)), "engine buffer")

    @property
    def arena_bytes(self) -> int:
        """Bytes of one session's planned arena (activations and scratch)."""
        return int(self._handle.arena_bytes()[0])

    @property
    def naive_arena_bytes(self) -> int:
        """Bytes the activations and scratch would take if no two shared memory."""
        return int(self._handle.arena_bytes()[1])

    @property
    def packed_weight_bytes(self) -> int:
        """Bytes of weights repacked at load for the CPU micro-kernels: held once, shared by every session."""
        return int(self._handle.packed_weight_bytes())

    @property
    def op_types(self) -> list[str]:
        """Op type of each step of the execution plan, in order."""
        return list(self._handle.op_names())

    def session(self, threads: int = 1, device: str = "cpu") -> "Session":
        """A new execution context with its own arena and ``threads`` intra-op threads (the caller's included).

        The default, 1, keeps each run on the calling thread. More threads split every convolution and linear
        layer of one run (lower latency per frame); outputs are bit-identical for every thread count. See
        docs/threads.md for how to choose.

        ``device="cuda"`` (or ``"cuda:N"``) runs the whole plan on an NVIDIA GPU as one CUDA Graph per run, with
        the engine's weights uploaded once per device (docs/cuda.md); ``threads`` is then ignored. Without a CUDA
        device, driver or a CUDA build it raises :class:`DeviceError`; an engine with ops the CUDA executor lacks
        raises :class:`UnsupportedEngineError` (``cuda_coverage()`` lists them first).
        """
        return Session(self, threads, device)

    def cuda_coverage(self) -> dict[str, Any]:
        """Which ops the CUDA executor runs, answered without a GPU: ``{"built": bool, "unsupported_ops":
        [{"index", "op", "reason"}, ...]}`` (empty list: the whole plan runs on CUDA)."""
        types = self.op_types
        gaps = [{"index": int(i), "op": types[i], "reason": str(r)} for i, r in self._handle.cuda_gaps()]
        return {"built": bool(_core.cuda_built()), "unsupported_ops": gaps}

    def __repr__(self) -> str:
        model = self.meta.get("model", {})
        return f"<wayvert.Engine {model.get('name', '?')} v{model.get('version', '?')} from {self.source}>"


class Session:
    """One execution context of an Engine: owns its arena; use from one thread at a time."""

    def __init__(self, engine: Engine, threads: int = 1, device: str = "cpu") -> None:
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
            raise InvalidArgumentError(f"threads must be an integer, got {threads!r}")
        cuda_index = _cuda_index(device)
        self.engine = engine
        self.device = "cpu" if cuda_index < 0 else f"cuda:{cuda_index}"
        self._handle = _core.SessionHandle(engine._handle, int(threads), cuda_index)
        self._index = {s.name: i for i, s in enumerate(engine.inputs)}

    def run(self, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, npt.NDArray[Any]]:
        """Run once on ``{input name: array}`` (every input, exact dtype and shape); returns ``{output name: array}``."""
        specs = self.engine.inputs
        unknown = sorted(set(inputs) - set(self._index))
        if unknown:
            raise InputError(f"unknown input(s) {unknown}; the engine takes {[s.name for s in specs]}")
        missing = [s.name for s in specs if s.name not in inputs]
        if missing:
            raise InputError(f"missing input(s) {missing}")
        for spec in specs:
            a = np.asarray(inputs[spec.name])
            if a.dtype != np.dtype(spec.dtype):
                raise InputError(f"input '{spec.name}' expects dtype {spec.dtype}, got {a.dtype}")
            if tuple(a.shape) != spec.shape:
                raise InputError(f"input '{spec.name}' expects shape {list(spec.shape)}, got {list(a.shape)}")
            self._handle.set_input(self._index[spec.name], np.ascontiguousarray(a))
        self._handle.run()
        return {s.name: self._handle.output(i) for i, s in enumerate(self.engine.outputs)}

    @property
    def threads(self) -> int:
        """Intra-op threads this session runs with (the caller's included)."""
        return int(self._handle.threads())

    def profile(self, enabled: bool = True) -> None:
        """Time every op of the runs that follow (``enabled=False`` stops); either way the totals restart at 0."""
        self._handle.set_profiling(bool(enabled))

    def op_times(self) -> list[OpTime]:
        """Per-op wall time over the runs since ``profile()``, in plan order (``op_types`` names the ops)."""
        types = self.engine.op_types
        return [OpTime(i, types[i], ns / 1e6, runs) for i, (ns, runs) in enumerate(self._handle.op_times())]

    def reset(self) -> None:
        """Forget recurrent state and inputs: the session is as new."""
        self._handle.reset()
