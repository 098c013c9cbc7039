"""The peer's accuracy: open-loop figures like ``evaluate_open_loop``'s, and SQNR per output against the model."""
from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from wayvert.training.metrics import trajectory_metrics

from ..batches import model_inputs
from ..sqnr import sqnr_db
from .export import OUTPUT_NAMES
from .runner import OrtRunner


def _runner(model: str | os.PathLike[str] | OrtRunner, threads: int) -> OrtRunner:
    return model if isinstance(model, OrtRunner) else OrtRunner(model, threads=threads)


def evaluate_onnx_open_loop(path: str | os.PathLike[str] | OrtRunner, dataset: Dataset, batch_size: int = 64, *,
                            threads: int = 1) -> dict[str, Any]:
    """``evaluate_open_loop``'s figures (samples, ade_m, fde_m, miss_rate, min_ade_m, min_fde_m, min_miss_rate,
    scenario_accuracy) for the ONNX model at ``path`` (or a runner) on an EpisodeDataset (student inputs)."""
    runner = _runner(path, threads)
    sums: dict[str, float] = {}
    n = scen_ok = scen_n = 0
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        out = runner.run(*model_inputs(batch))
        gt = batch["trajectory"].float().numpy()
        m = trajectory_metrics(out["trajectories"], out["mode_logits"], gt)
        has = batch["has_scenario"].bool().numpy()
        scen_ok += int((out["scenario_logits"].argmax(1)[has] == batch["scenario"].numpy()[has]).sum())
        scen_n += int(has.sum())
        for k, v in m.items():
            sums[k] = sums.get(k, 0.0) + float(np.sum(v))
        n += len(gt)
    r: dict[str, Any] = {"samples": n, **{f"{k}_m" if "miss" not in k else f"{k}_rate": v / max(n, 1)
                                          for k, v in sums.items()}}
    if scen_n:
        r["scenario_accuracy"] = scen_ok / scen_n
    return r


def sqnr_vs_torch(path: str | os.PathLike[str] | OrtRunner, model: torch.nn.Module, batches: Iterable[Any], *,
                  threads: int = 1) -> dict[str, float]:
    """SQNR in dB per output, ``10 log10(sum ref^2 / sum (ref - onnx)^2)`` over every element of every batch,
    with ``ref`` the model's (eval mode) output on the same inputs."""
    runner = _runner(path, threads)
    model = model.eval()
    signal = {k: 0.0 for k in OUTPUT_NAMES}
    noise = dict(signal)
    for batch in batches:
        inputs = model_inputs(batch)
        got = runner.run(*inputs)
        with torch.no_grad():
            want = model(*inputs)
        for k in OUTPUT_NAMES:
            r = want[k].numpy().astype(np.float64)
            q = got[k].astype(np.float64).reshape(r.shape)
            signal[k] += float(np.sum(r * r))
            noise[k] += float(np.sum((r - q) ** 2))
    return {k: sqnr_db(signal[k], noise[k]) for k in OUTPUT_NAMES}


__all__ = ["evaluate_onnx_open_loop", "sqnr_vs_torch"]
