"""Writing a calibrated engine, and running one (C++ runtime or numpy reference) on batches of model inputs."""
from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import torch

import wayvert
from wayvert import quant, reference
from wayvert.build import EngineBuilder
from wayvert.errors import BuildError, EngineIOError

#: Meta keys the builder computes from the graph itself (docs/engine-format.md section 6).
COMPUTED_META = ("format", "inputs", "outputs", "state", "ops")


def write_engine(builder: EngineBuilder, path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> int:
    """Write ``builder`` to ``path`` with ``meta`` merged into its meta JSON; returns the file size in bytes.

    Keys the builder computes (format, inputs, outputs, state, ops) cannot be given."""
    extra = dict(meta or {})
    clash = sorted(set(extra) & set(COMPUTED_META))
    if clash:
        raise BuildError(f"meta keys {clash} are computed from the graph and cannot be set")
    builder.meta.update(extra)
    try:
        return builder.write(path)
    except OSError as e:
        raise EngineIOError(f"cannot write the engine to {path}: {e.strerror}") from None


def _input_specs(engine: wayvert.Engine | EngineBuilder) -> list[tuple[str, str, tuple[int, ...], float, int]]:
    """(name, dtype, shape, scale, zero point) of each engine input, in order."""
    if isinstance(engine, EngineBuilder):
        ts = [engine.values[n].tensor for n in engine.inputs]
        return [(t.name, t.dtype, tuple(t.shape), t.scale, t.zero_point) for t in ts]
    return [(s.name, s.dtype, tuple(s.shape), s.scale, s.zero_point) for s in engine.inputs]


def engine_inputs(engine: wayvert.Engine | EngineBuilder, sample: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """One sample's engine inputs, by the engine's input specs: an int8 input given as float is quantized at the
    engine's parameters (the student's normalised image), float32 inputs are cast, every input is reshaped to
    its engine shape (the student's ego [2] -> [1, 2])."""
    out = {}
    for name, dtype, shape, scale, zero in _input_specs(engine):
        x = np.asarray(sample[name])
        if dtype == "int8" and x.dtype != np.int8:
            x = quant.quantize(x.astype(np.float32), scale, zero)
        elif dtype == "float32":
            x = x.astype(np.float32)
        elif dtype == "uint8":
            x = x.astype(np.uint8)
        out[name] = x.reshape(shape)
    return out


def run_engine(engine: wayvert.Engine | EngineBuilder, image: Any, ego: Any, command: Any) -> dict[str, np.ndarray]:
    """Outputs for a batch: ``image`` [B, V, 3, H, W] float normalised or int8 (the sensor adapter's tensor),
    ``ego`` [B, 2] (m/s, rad/s), ``command`` [B, 4] one-hot -> ``{output: array [B, ...]}`` like the model's.

    A ``wayvert.Engine`` runs in the C++ runtime; an ``EngineBuilder`` in the numpy reference. Samples are
    independent: an engine with recurrent state starts each one from a new session's state."""
    to_np = lambda a: a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)  # noqa: E731
    image, ego, command = to_np(image), to_np(ego), to_np(command)
    session = engine.session() if isinstance(engine, wayvert.Engine) else None
    per_sample: list[dict[str, np.ndarray]] = []
    for i in range(image.shape[0]):
        inputs = engine_inputs(engine, {"image": image[i], "ego": ego[i], "command": command[i]})
        if session is not None and i:
            session.reset()
        out = session.run(inputs) if session is not None else reference.run(engine, inputs)  # type: ignore[arg-type]
        per_sample.append({k: np.asarray(v) for k, v in out.items()})
    return {k: np.concatenate([o[k] for o in per_sample], axis=0) for k in per_sample[0]}
