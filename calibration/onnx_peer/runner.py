"""``OrtRunner``: one ONNX Runtime CPU session of an exported student, batch in, dict of numpy out."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from wayvert.errors import InputError

from .export import INPUT_NAMES


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.ascontiguousarray(value, dtype=np.float32)


class OrtRunner:
    """An ONNX Runtime session on ``threads`` intra-op threads, sequential execution, every graph optimization.

    ``run`` takes the engine's inputs for a batch and returns the model's outputs ``{name: float32 [B, ...]}``.
    A model exported at batch 1 runs a larger batch one sample at a time.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 1) -> None:
        from wayvert.benchmark.peers.onnx_model import cpu_inference_session

        self.path = os.fspath(path)
        self.threads = int(threads)
        self.session = cpu_inference_session(self.path, threads)
        inputs = {i.name: i for i in self.session.get_inputs()}
        if set(inputs) != set(INPUT_NAMES):
            raise InputError(f"{self.path}: inputs {sorted(inputs)} are not the student's {list(INPUT_NAMES)}")
        # Per input, the shape after the batch axis and whether the batch axis is free (a name, not a number).
        self.shapes = {n: tuple(inputs[n].shape[1:]) for n in INPUT_NAMES}
        self.fixed_batch = {n: inputs[n].shape[0] for n in INPUT_NAMES if isinstance(inputs[n].shape[0], int)}
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _check(self, feeds: dict[str, np.ndarray]) -> int:
        batch = {n: a.shape[0] if a.ndim else None for n, a in feeds.items()}
        for name, a in feeds.items():
            want = self.shapes[name]
            if a.ndim != len(want) + 1 or any(isinstance(w, int) and w != g for w, g in zip(want, a.shape[1:])):
                dims = ", ".join(map(str, want))
                raise InputError(f"input {name!r}: expected shape [B, {dims}], got {list(a.shape)}")
            if not np.all(np.isfinite(a)):
                raise InputError(f"input {name!r} holds NaN or inf")
        if len(set(batch.values())) != 1:
            raise InputError(f"inputs disagree on the batch size: {batch}")
        return int(feeds[INPUT_NAMES[0]].shape[0])

    def run(self, image: Any, ego: Any, command: Any) -> dict[str, np.ndarray]:
        """``image`` float normalised [B, V, 3, H, W], ``ego`` [B, 2] (m/s, rad/s), ``command`` [B, 4] one-hot
        -> ``{output: float32 [B, ...]}``; a wrong shape, mismatched batch or non-finite value raises InputError."""
        feeds = dict(zip(INPUT_NAMES, (_numpy(image), _numpy(ego), _numpy(command))))
        b = self._check(feeds)
        if not self.fixed_batch or b == 1:
            return dict(zip(self.output_names, self.session.run(self.output_names, feeds)))
        parts = [self.session.run(self.output_names, {n: a[i:i + 1] for n, a in feeds.items()}) for i in range(b)]
        return {n: np.concatenate([p[k] for p in parts], axis=0) for k, n in enumerate(self.output_names)}


__all__ = ["OrtRunner"]
