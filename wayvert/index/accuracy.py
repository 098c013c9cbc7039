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

    def markdown(self) -> str:
        names = schema.SCENARIOS
        lines = ["| label \\ engine | " + " | ".join(names) + " | frames | recall |",
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


__all__ = ["Confusion", "confusion_of", "scenario_confusion"]
