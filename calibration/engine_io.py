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


def _image_spec(engine: wayvert.Engine | EngineBuilder) -> tuple[float, int]:
    if isinstance(engine, EngineBuilder):
        t = engine.values["image"].tensor
        return t.scale, t.zero_point
    spec = next(s for s in engine.inputs if s.name == "image")
    return spec.scale, spec.zero_point


def engine_inputs(engine: wayvert.Engine | EngineBuilder, sample: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """One sample's engine inputs: the image quantized at the engine's input parameters unless already int8
    ([V, 3, H, W]), ego [1, 2] and command [1, 4] as float32."""
    image = np.asarray(sample["image"])
    if image.dtype != np.int8:
        scale, zero = _image_spec(engine)
        image = quant.quantize(image.astype(np.float32), scale, zero)
    return {"image": image, "ego": np.asarray(sample["ego"], np.float32).reshape(1, -1),
            "command": np.asarray(sample["command"], np.float32).reshape(1, -1)}


def run_engine(engine: wayvert.Engine | EngineBuilder, image: Any, ego: Any, command: Any) -> dict[str, np.ndarray]:
    """Outputs for a batch: ``image`` [B, V, 3, H, W] float normalised or int8 (the sensor adapter's tensor),
    ``ego`` [B, 2] (m/s, rad/s), ``command`` [B, 4] one-hot -> ``{output: array [B, ...]}`` like the model's.

    A ``wayvert.Engine`` runs in the C++ runtime; an ``EngineBuilder`` in the numpy reference."""
    to_np = lambda a: a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)  # noqa: E731
    image, ego, command = to_np(image), to_np(ego), to_np(command)
    session = engine.session() if isinstance(engine, wayvert.Engine) else None
    per_sample: list[dict[str, np.ndarray]] = []
    for i in range(image.shape[0]):
        inputs = engine_inputs(engine, {"image": image[i], "ego": ego[i], "command": command[i]})
        out = session.run(inputs) if session is not None else reference.run(engine, inputs)  # type: ignore[arg-type]
        per_sample.append({k: np.asarray(v) for k, v in out.items()})
    return {k: np.concatenate([o[k] for o in per_sample], axis=0) for k in per_sample[0]}
