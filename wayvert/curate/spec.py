"""A curriculum (``wayvert curate --require SPEC.toml``): how many frames to select, the minimum frames per scenario
class and per named condition, and the near-duplicate radius. docs/curation.md has the file format.

    [selection]
    frames = 4800          # frames to select (required)
    min_distance = 0.02    # near-duplicates: cosine distance of trunk embeddings below this (default 0.02; 0: off)
    by = "scenario"        # class column the quotas count: "scenario" (the engine's) or "label_scenario" (recorded)
    balance = "classes"    # "classes": conditions, then per-class quotas; "none": a uniform sample (the baseline)
    seed = 0

    [scenario]             # minimum frames per class (classes not named: 0)
    cut_in = 300

    [condition.rain]       # a named condition: every other key is an index column that must equal the value,
    weather = "rain"       # or lie in [lo, hi) for a two-number list
    min_frames = 500
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from wayvert import schema
from wayvert.errors import InvalidArgumentError
from wayvert.index.table import COLUMNS

CLASS_COLUMNS = ("scenario", "label_scenario")
_SELECTION_KEYS = {"frames", "min_distance", "by", "seed", "balance"}
BALANCES = ("classes", "none")


class CurriculumError(InvalidArgumentError):
    """A curriculum file is unreadable or breaks docs/curation.md's format; the message names the key."""


@dataclass(frozen=True)
class Condition:
    """Frames whose index columns match ``where`` (column -> value, or (lo, hi) for lo <= value < hi)."""

    name: str
    where: dict[str, Any]
    min_frames: int

    def mask(self, columns: dict[str, Any]) -> np.ndarray:
        n = len(next(iter(columns.values())))
        keep = np.ones(n, bool)
        for col, want in self.where.items():
            values = columns[col]
            if isinstance(want, tuple):
                v = np.asarray(values, np.float64)
                keep &= (v >= want[0]) & (v < want[1])
            else:
                keep &= np.array([x == want for x in values], bool)
        return keep


@dataclass(frozen=True)
class Curriculum:
    frames: int
    min_distance: float = 0.02
    by: str = "scenario"
    seed: int = 0
    balance: str = "classes"
    scenario: dict[str, int] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()


def _int(value: Any, key: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CurriculumError(f"{key} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def parse_curriculum(data: dict[str, Any], source: str = "curriculum") -> Curriculum:
    """A ``Curriculum`` from the TOML document's tables; ``CurriculumError`` names the first bad key."""
    unknown = sorted(set(data) - {"selection", "scenario", "condition"})
    if unknown:
        raise CurriculumError(f"{source}: unknown table(s) {unknown}; the tables are selection, scenario, condition")
    sel = data.get("selection")
    if not isinstance(sel, dict) or "frames" not in sel:
        raise CurriculumError(f"{source}: [selection] frames is required")
    bad = sorted(set(sel) - _SELECTION_KEYS)
    if bad:
        raise CurriculumError(f"{source}: unknown key(s) {bad} in [selection]; the keys are {sorted(_SELECTION_KEYS)}")
    frames = _int(sel["frames"], f"{source}: selection.frames", 1)
    dist = sel.get("min_distance", 0.02)
    if isinstance(dist, bool) or not isinstance(dist, (int, float)) or not (0.0 <= float(dist) <= 2.0):
        raise CurriculumError(f"{source}: selection.min_distance must be a number in [0, 2], got {dist!r}")
    by = sel.get("by", "scenario")
    if by not in CLASS_COLUMNS:
        raise CurriculumError(f"{source}: selection.by must be one of {list(CLASS_COLUMNS)}, got {by!r}")
    seed = _int(sel.get("seed", 0), f"{source}: selection.seed")
    balance = sel.get("balance", "classes")
    if balance not in BALANCES:
        raise CurriculumError(f"{source}: selection.balance must be one of {list(BALANCES)}, got {balance!r}")
    scen = data.get("scenario", {})
    if not isinstance(scen, dict):
        raise CurriculumError(f"{source}: [scenario] must be a table of class = minimum frames")
    for name in scen:
        if name not in schema.SCENARIOS:
            raise CurriculumError(f"{source}: [scenario] {name!r} is not a class; the classes are {list(schema.SCENARIOS)}")
    quotas = {name: _int(v, f"{source}: scenario.{name}") for name, v in scen.items()}
    conds = []
    raw = data.get("condition", {})
    if not isinstance(raw, dict):
        raise CurriculumError(f"{source}: [condition.NAME] tables expected")
    for name, table in raw.items():
        if not isinstance(table, dict) or "min_frames" not in table:
            raise CurriculumError(f"{source}: [condition.{name}] needs min_frames")
        where: dict[str, Any] = {}
        for col, want in table.items():
            if col == "min_frames":
                continue
            if col not in COLUMNS or col in ("embedding", "reasons"):
                raise CurriculumError(f"{source}: condition.{name}.{col}: not an index column; the columns are "
                                      f"{[c for c in COLUMNS if c not in ('embedding', 'reasons')]}")
            if isinstance(want, list):
                if (len(want) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in want)
                        or not (math.isfinite(want[0]) and want[0] < want[1])):
                    raise CurriculumError(f"{source}: condition.{name}.{col}: a range is [lo, hi] with lo < hi, "
                                          f"got {want!r}")
                where[col] = (float(want[0]), float(want[1]))
            elif isinstance(want, (str, bool, int, float)):
                where[col] = want
            else:
                raise CurriculumError(f"{source}: condition.{name}.{col}: expected a value or [lo, hi], got {want!r}")
        if not where:
            raise CurriculumError(f"{source}: [condition.{name}] names no column to match")
        conds.append(Condition(name, where, _int(table["min_frames"], f"{source}: condition.{name}.min_frames")))
    return Curriculum(frames, float(dist), by, seed, balance, quotas, tuple(conds))


def load_curriculum(path: str | Path) -> Curriculum:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise CurriculumError(f"{path}: no such curriculum file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CurriculumError(f"{path}: not readable TOML: {e}") from None
    return parse_curriculum(data, str(path))


__all__ = ["CLASS_COLUMNS", "Condition", "Curriculum", "CurriculumError", "load_curriculum", "parse_curriculum"]
