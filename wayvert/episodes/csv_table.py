"""Reading the episode's small CSV tables (ego.csv, frames.csv) into columns, with errors that name the line."""
from __future__ import annotations

import csv
import io
from typing import Sequence

import numpy as np

from .spec import EpisodeError


class CsvTable:
    """A CSV file as named string columns; ``where`` (file path for messages) prefixes every error."""

    def __init__(self, text: str, where: str, required: Sequence[str], optional: Sequence[str] = ()):
        self.where = where
        rows = list(csv.reader(io.StringIO(text)))
        rows = [r for r in rows if r]  # a trailing newline or blank lines are not rows
        if not rows:
            raise EpisodeError(f"{where}: empty file, expected a header line {','.join(required)}")
        header = [h.strip() for h in rows[0]]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise EpisodeError(f"{where}: column(s) {dup} appear twice in the header")
        missing = [c for c in required if c not in header]
        if missing:
            raise EpisodeError(f"{where}: missing column(s) {missing}; the header is {header}")
        for k, r in enumerate(rows[1:], start=2):
            if len(r) != len(header):
                raise EpisodeError(f"{where}: line {k}: {len(r)} fields, the header has {len(header)}")
        self.n_rows = len(rows) - 1
        self.columns = {h: [r[i].strip() for r in rows[1:]] for i, h in enumerate(header)
                        if h in required or h in optional}

    def has(self, name: str) -> bool:
        return name in self.columns

    def floats(self, name: str, allow_empty: bool = False) -> np.ndarray:
        """Column ``name`` as float64; an empty cell is NaN if ``allow_empty``; any other non-finite value fails."""
        out = np.empty(self.n_rows, np.float64)
        for k, cell in enumerate(self.columns[name]):
            if cell == "" and allow_empty:
                out[k] = np.nan
                continue
            try:
                v = float(cell)
            except ValueError:
                raise EpisodeError(f"{self.where}: line {k + 2}, column {name}: {cell!r} is not a number") from None
            if not np.isfinite(v):
                raise EpisodeError(f"{self.where}: line {k + 2}, column {name}: {cell} is not finite")
            out[k] = v
        return out

    def names(self, name: str, choices: Sequence[str], allow_empty: bool = False) -> np.ndarray:
        """Column ``name`` as indices into ``choices`` (int64; -1 for an empty cell if ``allow_empty``)."""
        out = np.empty(self.n_rows, np.int64)
        for k, cell in enumerate(self.columns[name]):
            if cell == "" and allow_empty:
                out[k] = -1
            elif cell in choices:
                out[k] = choices.index(cell)
            else:
                raise EpisodeError(f"{self.where}: line {k + 2}, column {name}: unknown value {cell!r}; "
                                   f"expected one of {list(choices)}")
        return out

    def strictly_increasing(self, name: str, values: np.ndarray) -> None:
        bad = np.nonzero(np.diff(values) <= 0)[0]
        if len(bad):
            k = int(bad[0]) + 1
            raise EpisodeError(f"{self.where}: line {k + 2}, column {name}: timestamps must increase strictly; "
                               f"{values[k]!r} follows {values[k - 1]!r}")
