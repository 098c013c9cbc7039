"""Choose a balanced curriculum from an index (docs/curation.md, "How frames are chosen").

1. Every candidate gets a place in one seeded random order, so equal frames are taken without bias and the same
   index, curriculum and seed give the same selection.
2. Named conditions first, scarcest first: frames matching one are taken, rarest class first, until it has its
   ``min_frames``.
3. Per-class quotas, rarest class first: each class gets an equal share of what is left, at least its minimum and
   at most what the index has (water-filling, so a class short of frames leaves its share to the others).
4. If near-duplicates left the selection short, the remaining frames fill it in the seeded order.

With ``balance = "none"`` steps 2 and 3 are skipped: a uniform sample in the seeded order (the baseline a
curriculum is measured against).

Every frame is taken only if its trunk embedding is at least ``min_distance`` (cosine distance) from every frame
already taken: consecutive frames of a standing car are one frame, not fifty. numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.index.table import Index

from .spec import Curriculum


@dataclass
class Requirement:
    """One line of the coverage report: a class or condition, the frames it needs, has in the index, got."""

    kind: str           # "scenario" or "condition"
    name: str
    required: int
    available: int
    selected: int = 0

    @property
    def missing(self) -> int:
        """Frames the selection lacks to meet the minimum."""
        return max(0, self.required - self.selected)

    @property
    def short_in_index(self) -> int:
        """Frames the index itself lacks: record (or generate) at least this many more."""
        return max(0, self.required - self.available)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "required": self.required, "available": self.available,
                "selected": self.selected, "missing": self.missing, "short_in_index": self.short_in_index}


@dataclass
class Selection:
    """The chosen rows of the index (in the order taken), why each was taken, and the coverage report."""

    rows: npt.NDArray[np.int64]
    why: list[str]
    requirements: list[Requirement]
    requested: int
    duplicates_skipped: int
    class_counts: dict[str, int] = field(default_factory=dict)

    @property
    def covered(self) -> bool:
        return len(self.rows) >= self.requested and all(r.missing == 0 for r in self.requirements)


class _NearDuplicates:
    """Kept embeddings (L2-normalised); ``admit(i)`` keeps row i unless it is within the radius of a kept one."""

    def __init__(self, embedding: npt.NDArray[np.float32], capacity: int, min_distance: float):
        norms = np.linalg.norm(embedding, axis=1, keepdims=True)
        self.unit = (embedding / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        self.kept = np.zeros((max(capacity, 1), embedding.shape[1]), np.float32)
        self.n, self.min_similarity, self.on = 0, 1.0 - min_distance, min_distance > 0
        self.skipped = 0

    def admit(self, i: int) -> bool:
        u = self.unit[i]
        if self.on and self.n and float(np.max(self.kept[:self.n] @ u)) > self.min_similarity:
            self.skipped += 1
            return False
        if self.n == len(self.kept):
            self.kept = np.concatenate([self.kept, np.zeros_like(self.kept)])
        self.kept[self.n] = u
        self.n += 1
        return True


def class_quotas(available: dict[str, int], minimum: dict[str, int], frames: int) -> dict[str, int]:
    """Frames per class: equal shares of ``frames``, rarest class first, each at least its minimum and at most what
    is available; a class that cannot fill its share leaves the rest to the classes after it."""
    quotas: dict[str, int] = {}
    order = sorted(available, key=lambda c: (available[c], c))
    remaining = frames
    for k, c in enumerate(order):
        share = int(round(remaining / (len(order) - k)))
        quotas[c] = max(0, min(available[c], max(minimum.get(c, 0), share)))
        remaining -= quotas[c]
    return quotas


def select_frames(index: Index, cur: Curriculum) -> Selection:
    """The curriculum's selection from ``index`` (see the module's steps)."""
    n = len(index)
    classes = np.asarray(index[cur.by], dtype=object)
    known = np.array([c in schema.SCENARIOS for c in classes], bool)
    order = np.random.default_rng(cur.seed).permutation(n)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    available = {c: int(np.sum(classes == c)) for c in schema.SCENARIOS}
    rarity = {c: k for k, c in enumerate(sorted(schema.SCENARIOS, key=lambda c: (available[c], c)))}
    class_rank = np.array([rarity.get(c, len(rarity)) for c in classes], np.int64)
    dedup = _NearDuplicates(index.embedding, cur.frames, cur.min_distance)
    taken = np.zeros(n, bool)
    rows: list[int] = []
    why: list[str] = []

    def take(candidates: npt.NDArray[np.int64], reason: str, count_in: npt.NDArray[np.bool_], need: int) -> None:
        have = int(np.sum(taken & count_in))
        for i in candidates:
            if have >= need or len(rows) >= cur.frames:
                return
            if taken[i] or not dedup.admit(int(i)):
                continue
            taken[i] = True
            rows.append(int(i))
            why.append(reason)
            have += 1

    cond_masks = {c.name: c.mask(index.columns) for c in cur.conditions}
    reqs = [Requirement("condition", c.name, c.min_frames, int(cond_masks[c.name].sum())) for c in cur.conditions]
    for cond in sorted(cur.conditions if cur.balance == "classes" else (),
                       key=lambda x: (int(cond_masks[x.name].sum()), x.name)):
        m = cond_masks[cond.name]
        idx = np.nonzero(m)[0]
        idx = idx[np.lexsort((rank[idx], class_rank[idx]))]
        take(idx, f"condition:{cond.name}", m, cond.min_frames)
    quotas = class_quotas(available, cur.scenario, cur.frames)
    for c in sorted(schema.SCENARIOS if cur.balance == "classes" else (), key=lambda c: rarity[c]):
        m = classes == c
        idx = np.nonzero(m)[0]
        take(idx[np.argsort(rank[idx], kind="stable")], f"class:{c}", m, quotas[c])
    if len(rows) < cur.frames:
        take(order[known[order]], "fill", np.zeros(n, bool), cur.frames)
    picked = np.array(rows, np.int64)
    counts = {c: int(np.sum(classes[picked] == c)) if len(picked) else 0 for c in schema.SCENARIOS}
    for c in schema.SCENARIOS:
        reqs.append(Requirement("scenario", c, cur.scenario.get(c, 0), available[c], counts[c]))
    for r in reqs:
        if r.kind == "condition":
            r.selected = int(np.sum(cond_masks[r.name][picked])) if len(picked) else 0
    return Selection(picked, why, reqs, cur.frames, dedup.skipped, counts)


def nearest(index: Index, row: int, k: int = 10) -> list[tuple[int, float]]:
    """The ``k`` rows nearest to ``row`` by cosine distance of the trunk embedding (itself excluded), nearest first."""
    e = index.embedding.astype(np.float64)
    norms = np.linalg.norm(e, axis=1)
    norms[norms == 0] = 1.0
    sims = (e @ e[row]) / (norms * norms[row])
    sims[row] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return [(int(i), float(1.0 - sims[i])) for i in top]


__all__ = ["Requirement", "Selection", "class_quotas", "nearest", "select_frames"]
