"""How well the engine's scenario head classifies, measured from an index of labelled episodes (docs/results.md):
the confusion table of recorded label against the engine's class, per-class recall and balanced accuracy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wayvert import schema

from .table import Index


@dataclass(frozen=True)
class Confusion:
    """``matrix[i, j]``: frames labelled SCENARIOS[i] that the engine called SCENARIOS[j]."""

    matrix: npt.NDArray[np.int64]

    @property
    def recall(self) -> dict[str, float]:
        """Per labelled class present: the share the engine got right."""
        rows = self.matrix.sum(axis=1)
        return {c: float(self.matrix[i, i] / rows[i]) for i, c in enumerate(schema.SCENARIOS) if rows[i]}

    @property
    def balanced_accuracy(self) -> float:
        """Mean recall over the classes present in the labels."""
        r = self.recall
        return float(np.mean(list(r.values()))) if r else float("nan")

    @property
    def accuracy(self) -> float:
        total = int(self.matrix.sum())
        return float(np.trace(self.matrix) / total) if total else float("nan")

    def markdown(self, by: str = "engine") -> str:
        """The table, labels in rows and ``by``'s classes (the engine's, or a filter's) in columns."""
        names = schema.SCENARIOS
        lines = [f"| label \\ {by} | " + " | ".join(names) + " | frames | recall |",
                 "|---" * (len(names) + 3) + "|"]
        rec = self.recall
        for i, c in enumerate(names):
            n = int(self.matrix[i].sum())
            lines.append(f"| {c} | " + " | ".join(str(int(v)) for v in self.matrix[i]) + f" | {n} | "
                         + (f"{rec[c]:.2f}" if c in rec else "-") + " |")
        return "\n".join(lines) + "\n"


def confusion_of(labels: npt.ArrayLike, predicted: npt.ArrayLike) -> Confusion:
    """The confusion of two sequences of class names; rows whose label is not a class (unknown) are left out."""
    m = np.zeros((len(schema.SCENARIOS), len(schema.SCENARIOS)), np.int64)
    pos = {c: i for i, c in enumerate(schema.SCENARIOS)}
    for t, p in zip(np.asarray(labels, dtype=object), np.asarray(predicted, dtype=object)):
        if t in pos and p in pos:
            m[pos[t], pos[p]] += 1
    return Confusion(m)


def scenario_confusion(index: Index) -> Confusion:
    """The engine's scenario head against the recorded labels of an index's frames."""
    return confusion_of(index["label_scenario"], index["scenario"])


def balanced_accuracy_interval(labels: npt.ArrayLike, predicted: npt.ArrayLike, groups: npt.ArrayLike, *,
                               level: float = 0.95, draws: int = 1000, seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap interval of the balanced accuracy that resamples whole ``groups`` (episodes) with
    replacement: frames of one episode are not independent (a merge spans several frame sets), so resampling
    frames would claim a precision the data does not have. Deterministic for a given ``seed``."""
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    lab, pred, grp = (np.asarray(a, dtype=object) for a in (labels, predicted, groups))
    if not (len(lab) == len(pred) == len(grp)):
        raise ValueError(f"labels, predicted and groups differ in length ({len(lab)}, {len(pred)}, {len(grp)})")
    names, code = np.unique(grp, return_inverse=True)
    # per group: frames per label (confusion rows) and right answers per label (its diagonal); a draw is a weighted
    # sum of them. confusion_of leaves out unknown labels and classes, as scenario_confusion does.
    per_group = [confusion_of(lab[code == g], pred[code == g]).matrix for g in range(len(names))]
    frames = np.stack([m.sum(axis=1) for m in per_group])          # [groups, classes]
    right = np.stack([np.diag(m) for m in per_group])
    counted = frames.sum(axis=1) > 0                               # groups with no labelled frame are left out
    frames, right = frames[counted], right[counted]
    n = len(frames)
    if not n:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                       for _ in range(draws)])                      # [draws, groups]
    f, r = counts @ frames, counts @ right                         # [draws, k]
    recall = np.where(f > 0, r / np.maximum(f, 1), np.nan)
    values = np.nanmean(recall, axis=1)
    tail = 100.0 * (1.0 - level) / 2.0
    return float(np.percentile(values, tail)), float(np.percentile(values, 100.0 - tail))


def scenario_interval(index: Index, *, level: float = 0.95, draws: int = 1000, seed: int = 0) -> tuple[float, float]:
    """``balanced_accuracy_interval`` of an index's frames, resampling its episodes."""
    return balanced_accuracy_interval(index["label_scenario"], index["scenario"], index["episode"], level=level,
                                      draws=draws, seed=seed)


__all__ = ["Confusion", "balanced_accuracy_interval", "confusion_of", "scenario_confusion", "scenario_interval"]
