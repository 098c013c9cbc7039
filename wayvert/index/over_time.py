"""The scenario over time (docs/curation.md, "The scenario over time"): a linear filter over a window of the
engine's own per-frame outputs in an index, fitted on labelled episodes, that says each frame's scenario from its
neighbours as well as itself.

One frame set cannot show motion: a car merging into the ego lane and one leaving it look alike, 0.5 s apart
they do not. An index is offline, so the window may reach ``after`` steps past the frame it classifies (a causal
filter for on-line use has ``after = 0``). A step is the frame period of the indexes it was fitted on (version 2):
applied to a denser index, the window takes the frame sets nearest those times, so it spans the same seconds; an
index whose frame sets are further apart than a step (by more than MAX_PERIOD_RATIO) is refused.

Its inputs are columns the index already holds: the scenario log-probabilities, lead distance, target speed,
curvature and ego speed of each frame set in the window, and (from version 2) the route command the engine was
given, one indicator per command but "follow" (the episode's first or last frame set repeated at its ends). The
command is an input of the engine, not a label: navigation gives "straight" within 60 m of an X junction, which a
camera 60 m out sees as a few pixels. The fit is a class-balanced multinomial logistic regression with an L2
penalty, solved by Newton's method in float64: numpy only, deterministic, a few seconds for tens of thousands of
frames. A filter is a small JSON file; it belongs to the engine whose outputs it was fitted on, and refuses an
index written by another.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.errors import InputError, InvalidArgumentError

from .table import Index, IndexFileError

FORMAT_NAME = "wayvert-scenario-filter"
FORMAT_VERSION = 2
#: Versions ``load_filter`` reads: 1 had no command inputs and counted its window in frame sets without recording
#: their period (every version-1 file was fitted at 2 Hz, so it reads 2 Hz indexes only); 2 counts it in time
#: (``frame_period_s``), so a filter fitted at 2 Hz reads a 10 Hz index.
READABLE_VERSIONS = (1, 2)
#: Per-frame inputs besides the scenario log-probabilities, with the divisor that brings each near unit scale
#: before standardisation (standardisation alone would do; the divisors keep the stored means readable).
FRAME_COLUMNS: dict[str, float] = {"lead_distance_m": 50.0, "target_speed_mps": 30.0, "curvature_per_m": 0.02,
                                   "speed_mps": 30.0}
#: An episode whose frame sets are more than this many filter steps apart is refused (its window would repeat
#: frame sets); a denser one is read at the filter's step. Indexes fitted together agree within it too.
MAX_PERIOD_RATIO = 1.1
#: The period a version-1 filter was fitted at (it did not record one).
VERSION_1_PERIOD_S = 0.5
#: The route commands a filter fitted by this wayvert reads, one indicator each ("follow" is the baseline).
COMMAND_INPUTS: tuple[str, ...] = tuple(c for c in schema.COMMANDS if c != "follow")
_LOG_FLOOR = 1e-6


class ScenarioFilterError(InputError):
    """A filter file is malformed, of another version, or belongs to another engine than the index's."""


def frame_features(index: Index, commands: tuple[str, ...] = ()) -> npt.NDArray[np.float64]:
    """[N, F] per frame set: log p of each scenario, then FRAME_COLUMNS scaled (NaN, an engine without a lead
    head, becomes 0, the distance clipped to 0-100 m first), then 1.0 where the route command is each of
    ``commands``."""
    p = np.clip(index.probabilities().astype(np.float64), _LOG_FLOOR, 1.0)
    cols = [np.log(p)]
    for name, div in FRAME_COLUMNS.items():
        v = np.asarray(index[name], np.float64)
        if name == "lead_distance_m":
            v = np.clip(v, 0.0, 100.0)
        cols.append(np.nan_to_num(v / div, nan=0.0, posinf=0.0, neginf=0.0)[:, None])
    if commands:
        given = np.asarray(index["command"], dtype=object)
        cols.append(np.stack([(given == c).astype(np.float64) for c in commands], axis=1))
    return np.concatenate(cols, axis=1)


def episode_runs(index: Index) -> list[npt.NDArray[np.int64]]:
    """Row numbers of each episode in frame order (rows are stored episode by episode, frames in order; sorted
    here anyway, so an index assembled another way still windows correctly)."""
    episodes = np.asarray(index["episode"], dtype=object)
    frames = np.asarray(index["frame"], np.int64)
    runs = []
    for name in dict.fromkeys(episodes.tolist()):
        rows = np.flatnonzero(episodes == name)
        runs.append(rows[np.argsort(frames[rows], kind="stable")])
    return runs


def _episode_clock(index: Index, rows: npt.NDArray[np.int64],
                   t_all: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The times of one episode's frame sets (``rows`` in frame order); ``IndexFileError`` unless they increase."""
    t = t_all[rows]
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise IndexFileError(f"episode {index['episode'][rows[0]]!r}: t_s does not increase with the frame number; a "
                             "window in time needs the episode's clock")
    return t


def episode_periods_s(index: Index) -> dict[str, float]:
    """Each episode's median time between consecutive frame sets (s), episodes of two or more frame sets only.
    Raises ``IndexFileError`` for an episode whose clock does not increase with the frame number."""
    t_all = np.asarray(index["t_s"], np.float64)
    return {str(index["episode"][rows[0]]): float(np.median(np.diff(_episode_clock(index, rows, t_all))))
            for rows in episode_runs(index) if len(rows) > 1}


def _distinct_route_commands(commands: tuple[str, ...]) -> bool:
    return all(c in schema.COMMANDS for c in commands) and len(set(commands)) == len(commands)


def window_rows(index: Index, before: int, after: int, period_s: float | None = None) -> npt.NDArray[np.int64]:
    """[N, before + 1 + after] row numbers of each frame set's window in its episode, offsets -before..after,
    clamped at the episode's ends. With ``period_s`` the offsets are times, k * period_s, and each picks the frame
    set nearest that time (the earlier on a tie): a filter fitted at 2 Hz reads a 10 Hz index every fifth frame
    set. Without it, the offsets count frame sets (version-1 filters)."""
    if before < 0 or after < 0:
        raise InvalidArgumentError(f"before and after must be >= 0, got {before} and {after}")
    offsets = np.arange(-before, after + 1)
    out = np.zeros((len(index), len(offsets)), np.int64)
    t_all = np.asarray(index["t_s"] if period_s is not None else [], np.float64)     # frame-set steps need no clock
    for rows in episode_runs(index):
        n = len(rows)
        if period_s is None:
            pos = np.clip(np.arange(n)[:, None] + offsets[None, :], 0, n - 1)
        else:
            t = _episode_clock(index, rows, t_all)
            want = t[:, None] + offsets[None, :] * period_s
            right = np.clip(np.searchsorted(t, want, side="left"), 0, n - 1)
            left = np.clip(right - 1, 0, n - 1)
            pos = np.where(np.abs(t[left] - want) <= np.abs(t[right] - want), left, right)
        out[rows] = rows[pos]
    return out


def window_features(index: Index, before: int, after: int, commands: tuple[str, ...] = (),
                    period_s: float | None = None) -> npt.NDArray[np.float64]:
    """[N, (before + 1 + after) * F]: the features of each frame set's window (``window_rows``), in offset
    order."""
    rows = window_rows(index, before, after, period_s)
    f = frame_features(index, commands)
    return f[rows].reshape(len(f), -1)


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class ScenarioFilter:
    """``probabilities(index)``: softmax(standardised window features @ weights + bias) over ``scenarios``."""

    before: int
    after: int
    scenarios: tuple[str, ...]
    mean: npt.NDArray[np.float64]        # [D] standardisation of the window features
    scale: npt.NDArray[np.float64]       # [D]
    weights: npt.NDArray[np.float64]     # [D, C]
    bias: npt.NDArray[np.float64]        # [C]
    engine: dict[str, Any]               # the index manifest's engine record it was fitted on
    commands: tuple[str, ...] = ()       # route commands read as inputs (none in a version-1 file)
    frame_period_s: float | None = None  # the window's step in time (None in a version-1 file: frame sets)

    def check(self, index: Index) -> None:
        if tuple(index.manifest["scenarios"]) != self.scenarios:
            raise ScenarioFilterError(f"the index's scenarios {index.manifest['scenarios']} are not the filter's "
                                      f"{list(self.scenarios)}")
        mine, theirs = self.engine.get("sha256"), index.manifest["engine"].get("sha256")
        if mine != theirs:
            raise ScenarioFilterError(f"the filter was fitted on the outputs of engine {mine}, the index was written "
                                      f"by {theirs}: fit a filter for this engine (wayvert scenario-filter fit)")
        periods = episode_periods_s(index)
        if self.frame_period_s is not None:
            sparse = {e: p for e, p in periods.items() if p > MAX_PERIOD_RATIO * self.frame_period_s}
            if sparse:
                e, p = next(iter(sparse.items()))
                raise ScenarioFilterError(f"{len(sparse)} episode(s) of the index, {e!r} first, have frame sets "
                                          f"{p:g} s apart; the filter's window steps {self.frame_period_s:g} s: fit a "
                                          "filter at that rate (or index a denser store)")
        else:
            other = {e: p for e, p in periods.items()
                     if not (VERSION_1_PERIOD_S / MAX_PERIOD_RATIO <= p <= VERSION_1_PERIOD_S * MAX_PERIOD_RATIO)}
            if other:
                e, p = next(iter(other.items()))
                raise ScenarioFilterError(f"a version-1 filter counts its window in frame sets of "
                                          f"{VERSION_1_PERIOD_S:g} s; episode {e!r} of the index has them {p:g} s "
                                          "apart: fit a version-2 filter (wayvert scenario-filter fit), whose window "
                                          "steps in time")

    def probabilities(self, index: Index) -> npt.NDArray[np.float32]:
        """[N, C] the filtered scenario probabilities of every frame set of ``index``."""
        self.check(index)
        x = (window_features(index, self.before, self.after, self.commands, self.frame_period_s) - self.mean) \
            / self.scale
        return _softmax(x @ self.weights + self.bias).astype(np.float32)

    def classes(self, index: Index) -> npt.NDArray[np.object_]:
        """The most probable filtered scenario of every frame set."""
        names: npt.NDArray[np.object_] = np.array(self.scenarios, dtype=object)
        picked: npt.NDArray[np.object_] = names[np.argmax(self.probabilities(index), axis=1)]
        return picked

    def to_json(self) -> dict[str, Any]:
        """Version 2; a filter read from a version-1 file (no step in time) is written as version 1 again."""
        d: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "before": self.before,
                             "after": self.after, "scenarios": list(self.scenarios), "frame_columns": FRAME_COLUMNS,
                             "commands": list(self.commands), "frame_period_s": self.frame_period_s,
                             "engine": self.engine, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                             "weights": self.weights.tolist(), "bias": self.bias.tolist()}
        if self.frame_period_s is None:
            if self.commands:
                raise InvalidArgumentError("a filter with command inputs steps in time: it needs frame_period_s")
            d["version"] = 1
            del d["commands"], d["frame_period_s"]
        return d

    def save(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")
        os.replace(tmp, p)


def reference_filter_path() -> str:
    """The filter fitted on the reference engine's outputs (``wayvert/data/reference.scenario-filter.json``;
    ``make reference-filter`` fits it again after the engine changes)."""
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "reference.scenario-filter.json")


def load_filter(path: str | os.PathLike[str]) -> ScenarioFilter:
    """Read a filter written by ``ScenarioFilter.save``; a ``ScenarioFilterError`` names what is wrong."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioFilterError(f"{path}: no such filter file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ScenarioFilterError(f"{path}: unreadable: {e}") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
        raise ScenarioFilterError(f"{path}: format is not {FORMAT_NAME!r}")
    if d.get("version") not in READABLE_VERSIONS:
        raise ScenarioFilterError(f"{path}: version {d.get('version')!r}; this wayvert reads versions "
                                  f"{', '.join(map(str, READABLE_VERSIONS))}")
    if d.get("frame_columns") != FRAME_COLUMNS:
        raise ScenarioFilterError(f"{path}: frame columns {d.get('frame_columns')!r} are not this wayvert's")
    try:
        before, after = int(d["before"]), int(d["after"])
        scenarios = tuple(str(s) for s in d["scenarios"])
        mean, scale = (np.asarray(d[k], np.float64) for k in ("mean", "scale"))
        weights, bias = np.asarray(d["weights"], np.float64), np.asarray(d["bias"], np.float64)
        engine = dict(d["engine"])
        commands = tuple(str(c) for c in d["commands"]) if d["version"] >= 2 else ()
        period = float(d["frame_period_s"]) if d["version"] >= 2 else None
    except (KeyError, TypeError, ValueError) as e:
        raise ScenarioFilterError(f"{path}: field missing or of the wrong type: {e}") from None
    if not _distinct_route_commands(commands):
        raise ScenarioFilterError(f"{path}: commands {list(commands)} are not distinct route commands of "
                                  f"{list(schema.COMMANDS)}")
    dim = (before + 1 + after) * (len(scenarios) + len(FRAME_COLUMNS) + len(commands))
    c = len(scenarios)
    if before < 0 or after < 0 or mean.shape != (dim,) or scale.shape != (dim,) or weights.shape != (dim, c) \
            or bias.shape != (c,):
        raise ScenarioFilterError(f"{path}: shapes do not match a window of {before}+1+{after} frame sets of "
                                  f"{len(scenarios)} scenarios (mean {mean.shape}, weights {weights.shape})")
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(bias)) and np.all(np.isfinite(mean))
            and np.all(scale > 0)):
        raise ScenarioFilterError(f"{path}: non-finite weights or a scale that is not positive")
    if period is not None and not (math.isfinite(period) and period > 0):
        raise ScenarioFilterError(f"{path}: frame_period_s {period!r} is not a positive number of seconds")
    return ScenarioFilter(before, after, scenarios, mean, scale, weights, bias, engine, commands, period)


def fit_filter(indexes: list[Index], *, before: int = 4, after: int = 4, l2: float = 1e-2,
               commands: tuple[str, ...] = COMMAND_INPUTS, max_steps: int = 50) -> ScenarioFilter:
    """Fit a filter on the labelled frame sets of ``indexes`` (all written by one engine), reading the route
    ``commands`` as inputs beside the engine's outputs (``()``: the outputs alone). Each class weighs the same in
    total (balanced accuracy is what it is judged by; the sample weights sum to 1); ``l2`` penalises the squared
    weights against that mean loss. Newton's method with a halving step: deterministic for the same frames."""
    if not indexes:
        raise InvalidArgumentError("fit_filter needs at least one index")
    if not math.isfinite(l2) or l2 <= 0:
        raise InvalidArgumentError(f"l2 must be a positive number, got {l2}")
    if not _distinct_route_commands(commands):
        raise InvalidArgumentError(f"commands {list(commands)} are not distinct route commands of "
                                   f"{list(schema.COMMANDS)}")
    scen = tuple(indexes[0].manifest["scenarios"])
    digest = indexes[0].manifest["engine"].get("sha256")
    for ix in indexes[1:]:
        if tuple(ix.manifest["scenarios"]) != scen or ix.manifest["engine"].get("sha256") != digest:
            raise InvalidArgumentError("the indexes to fit on were written by different engines; fit one filter "
                                       "per engine")
    periods = [p for ix in indexes for p in episode_periods_s(ix).values()]
    if not periods:
        raise InvalidArgumentError("no episode of the indexes has two frame sets: a window over time needs them")
    period = float(np.median(periods))
    if max(periods) > MAX_PERIOD_RATIO * min(periods):
        raise InvalidArgumentError(f"the episodes' frame sets are {min(periods):g} to {max(periods):g} s apart; fit a "
                                   "filter on episodes of one frame rate")
    xs, ys = [], []
    pos = {c: i for i, c in enumerate(scen)}
    for ix in indexes:
        x = window_features(ix, before, after, commands, period)
        lab = np.asarray(ix["label_scenario"], dtype=object)
        keep = np.array([lab_i in pos for lab_i in lab], bool)
        xs.append(x[keep])
        ys.append(np.array([pos[v] for v in lab[keep]], np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    present = np.unique(y)
    if len(present) < 2:
        raise InvalidArgumentError(f"the indexes hold labelled frames of {len(present)} scenario(s); a filter "
                                   "needs at least two (index labelled episodes: wayvert generate records labels)")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    xa = np.concatenate([(x - mean) / scale, np.ones((len(x), 1))], axis=1)       # [N, D + 1], bias last
    n, d = xa.shape
    c = len(scen)
    counts = np.bincount(y, minlength=c).astype(np.float64)
    w_sample = (1.0 / (len(present) * counts[y]))                                  # sums to 1, each class 1/K
    onehot = np.eye(c)[y]
    penalty = np.full(d, l2)
    penalty[-1] = 0.0                                                             # the bias is not penalised

    def loss_of(theta: npt.NDArray[np.float64]) -> float:
        z = xa @ theta
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-(w_sample * (onehot * logp).sum(axis=1)).sum() + 0.5 * (penalty[:, None] * theta ** 2).sum())

    theta = np.zeros((d, c))
    loss = loss_of(theta)
    for _ in range(max_steps):
        p = _softmax(xa @ theta)
        grad = xa.T @ (w_sample[:, None] * (p - onehot)) + penalty[:, None] * theta              # [d, c]
        # Hessian over (class, feature): sum_i w_i (diag(p_i) - p_i p_i^T) (x) x_i x_i^T, plus the penalty
        wx = xa * w_sample[:, None]
        h = np.zeros((c, d, c, d))
        for a in range(c):
            for b in range(a, c):
                coef = p[:, a] * ((a == b) - p[:, b])
                block = (wx * coef[:, None]).T @ xa
                h[a, :, b, :] = block
                h[b, :, a, :] = block.T
        hm = h.reshape(c * d, c * d) + np.diag(np.tile(penalty, c)) + 1e-9 * np.eye(c * d)
        step = np.linalg.solve(hm, grad.T.reshape(-1)).reshape(c, d).T
        t = 1.0
        while True:
            cand = theta - t * step
            new = loss_of(cand)
            if new <= loss or t < 1e-4:
                break
            t *= 0.5
        done = loss - new < 1e-10
        theta, loss = cand, new
        if done:
            break
    return ScenarioFilter(before, after, scen, mean, scale, theta[:-1], theta[-1], dict(indexes[0].manifest["engine"]),
                          tuple(commands), period)


__all__ = ["COMMAND_INPUTS", "FRAME_COLUMNS", "MAX_PERIOD_RATIO", "ScenarioFilter", "ScenarioFilterError",
           "VERSION_1_PERIOD_S", "episode_periods_s", "fit_filter", "frame_features", "load_filter",
           "reference_filter_path", "window_features", "window_rows"]
