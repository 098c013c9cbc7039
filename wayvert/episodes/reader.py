"""Opening an episode (folder or .tar) and checking it against docs/episode-format.md.

``open_episode`` reads and validates everything but the camera pixels (episode.json, rig.json, ego.csv,
frames.csv, the .npy headers); pixels are memory-mapped and read on access; objects.jsonl is parsed on first use.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from wayvert.errors import RigError
from wayvert.sensors.pixel_formats import FRAME_SHAPES
from wayvert.sensors.rig import Camera, Rig

from .. import schema
from .csv_table import CsvTable
from .spec import (EGO_COLUMNS, EGO_FILE, FORMAT_NAME, FORMAT_VERSION, FRAME_COLUMNS, FRAME_LABEL_COLUMNS,
                   FRAMES_FILE, LIGHTINGS, META_FILE, OBJECT_FIELDS, OBJECTS_FILE, RIG_FILE, TRAFFIC_SIDES,
                   WEATHERS, EpisodeError, camera_file)
from .store import DirStore, TarStore, open_store

Store = DirStore | TarStore


@dataclass(frozen=True)
class EgoLog:
    """ego.csv as arrays [M] (float64, world/odometry frame, rear axle); ``command``: index into schema.COMMANDS."""

    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    accel_mps2: np.ndarray
    yaw_rate_rps: np.ndarray
    steering_rad: np.ndarray
    command: np.ndarray


@dataclass(frozen=True)
class FrameTable:
    """frames.csv as arrays [N]: time of each frame set (s); labels with -1 / NaN where unknown."""

    t_s: np.ndarray
    scenario: np.ndarray      # int64 index into schema.SCENARIOS, -1 = unknown
    lead_gap_m: np.ndarray    # float64 bumper gap to the lead vehicle, NaN = unknown


def _require(meta: dict[str, Any], key: str, types: tuple[type, ...], where: str, optional: bool = False) -> Any:
    if key not in meta:
        if optional:
            return None
        raise EpisodeError(f"{where}: missing key {key!r}")
    v = meta[key]
    if v is None and optional:
        return None
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
        raise EpisodeError(f"{where}: {key!r} must be {' or '.join(t.__name__ for t in types)}, got {v!r}")
    return v


def _read_meta(store: Store) -> dict[str, Any]:
    where = f"{store}/{META_FILE}"
    try:
        meta = json.loads(store.read_text(META_FILE))
    except json.JSONDecodeError as e:
        raise EpisodeError(f"{where}: line {e.lineno}, column {e.colno}: invalid JSON: {e.msg}") from None
    if not isinstance(meta, dict):
        raise EpisodeError(f"{where}: must be a JSON object")
    if meta.get("format") != FORMAT_NAME:
        raise EpisodeError(f"{where}: 'format' must be {FORMAT_NAME!r}, got {meta.get('format')!r}")
    version = _require(meta, "version", (int,), where)
    if version != FORMAT_VERSION:
        raise EpisodeError(f"{where}: format version {version} is not supported (this reader reads {FORMAT_VERSION})")
    for key in ("id", "rig", "source"):
        _require(meta, key, (str,), where)
    for key, choices, optional in (("traffic_side", TRAFFIC_SIDES, False), ("weather", WEATHERS, True),
                                   ("lighting", LIGHTINGS, True)):
        v = _require(meta, key, (str,), where, optional)
        if v is not None and v not in choices:
            raise EpisodeError(f"{where}: {key!r} must be one of {list(choices)}, got {v!r}")
    n = _require(meta, "frame_count", (int,), where)
    if n < 0:
        raise EpisodeError(f"{where}: 'frame_count' must be >= 0, got {n}")
    cams = _require(meta, "cameras", (list,), where)
    if not cams or not all(isinstance(c, str) for c in cams) or len(set(cams)) != len(cams):
        raise EpisodeError(f"{where}: 'cameras' must be a non-empty list of distinct camera names, got {cams!r}")
    meta.setdefault("bad_dreams", False)
    _require(meta, "bad_dreams", (bool,), where)
    meta.setdefault("weather", None)
    meta.setdefault("lighting", None)
    return meta


def _read_rig(store: Store, meta: dict[str, Any]) -> Rig:
    where = f"{store}/{RIG_FILE}"
    try:
        rig = Rig.from_dict(json.loads(store.read_text(RIG_FILE)))
    except json.JSONDecodeError as e:
        raise EpisodeError(f"{where}: line {e.lineno}, column {e.colno}: invalid JSON: {e.msg}") from None
    except RigError as e:
        raise EpisodeError(f"{where}: {e}") from None
    if rig.name != meta["rig"]:
        raise EpisodeError(f"{store}/{META_FILE}: 'rig' is {meta['rig']!r} but {RIG_FILE} is rig {rig.name!r}")
    names = {c.name for c in rig.cameras}
    if set(meta["cameras"]) != names:
        raise EpisodeError(f"{store}/{META_FILE}: 'cameras' {meta['cameras']} differ from the cameras of "
                           f"{RIG_FILE}: {sorted(names)}")
    return rig


def _read_ego(store: Store) -> EgoLog:
    t = CsvTable(store.read_text(EGO_FILE), f"{store}/{EGO_FILE}", EGO_COLUMNS)
    if t.n_rows == 0:
        raise EpisodeError(f"{store}/{EGO_FILE}: no rows")
    cols = {c: t.floats(c) for c in EGO_COLUMNS if c != "command"}
    t.strictly_increasing("t_s", cols["t_s"])
    return EgoLog(**cols, command=t.names("command", schema.COMMANDS))


def _read_frames(store: Store, n: int) -> FrameTable:
    t = CsvTable(store.read_text(FRAMES_FILE), f"{store}/{FRAMES_FILE}", FRAME_COLUMNS, FRAME_LABEL_COLUMNS)
    if t.n_rows != n:
        raise EpisodeError(f"{store}/{FRAMES_FILE}: {t.n_rows} frame rows but {META_FILE} says frame_count {n}")
    index = t.floats("index")
    bad = np.nonzero(index != np.arange(n))[0]
    if len(bad):
        k = int(bad[0])
        raise EpisodeError(f"{store}/{FRAMES_FILE}: line {k + 2}, column index: expected {k}, got {index[k]:g}")
    ts = t.floats("t_s")
    t.strictly_increasing("t_s", ts)
    scen = t.names("scenario", schema.SCENARIOS, allow_empty=True) if t.has("scenario") else np.full(n, -1)
    gap = t.floats("lead_gap_m", allow_empty=True) if t.has("lead_gap_m") else np.full(n, np.nan)
    if (gap < 0).any():
        k = int(np.nonzero(gap < 0)[0][0])
        raise EpisodeError(f"{store}/{FRAMES_FILE}: line {k + 2}, column lead_gap_m: negative gap {gap[k]}")
    return FrameTable(ts, scen.astype(np.int64), gap)


def _check_camera(store: Store, cam: Camera, n: int) -> np.ndarray:
    name = camera_file(cam.name)
    a = store.open_npy(name)
    if a.dtype != np.uint8:
        raise EpisodeError(f"{store}/{name}: dtype must be uint8, got {a.dtype}")
    shape_of = FRAME_SHAPES.get(cam.pixel_format)
    want = (n, *shape_of(cam.width, cam.height)) if shape_of else None
    if want is not None and tuple(a.shape) != want:
        raise EpisodeError(f"{store}/{name}: shape must be {list(want)} ({n} frames of {cam.width}x{cam.height} "
                           f"{cam.pixel_format}), got {list(a.shape)}")
    if want is None and (a.ndim < 2 or a.shape[0] != n):
        raise EpisodeError(f"{store}/{name}: expected {n} frames along axis 0, got shape {list(a.shape)}")
    return a


class Episode:
    """A validated episode. ``len(ep)`` frame sets; ``ep.camera(name)`` [N, *frame shape] uint8 (memory-mapped)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.store = open_store(path)
        self.meta = _read_meta(self.store)
        self.rig = _read_rig(self.store, self.meta)
        self.ego = _read_ego(self.store)
        self.frames = _read_frames(self.store, self.meta["frame_count"])
        self._cameras = {c.name: _check_camera(self.store, c, len(self)) for c in self.rig.cameras}
        self._objects: list[np.ndarray | None] | None = None

    def __len__(self) -> int:
        return int(self.meta["frame_count"])

    def __repr__(self) -> str:
        return f"Episode({str(self.path)!r}, id={self.meta['id']!r}, frames={len(self)})"

    def __reduce__(self) -> tuple[type[Episode], tuple[str]]:
        # Memory maps do not travel between processes: a copy re-opens the episode from its path.
        return (Episode, (str(self.path),))

    @property
    def camera_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.rig.cameras)

    def camera(self, name: str) -> np.ndarray:
        """All frames of camera ``name``: uint8 [N, *frame shape], read-only memory map."""
        if name not in self._cameras:
            raise EpisodeError(f"{self.store}: no camera {name!r}; cameras: {list(self._cameras)}")
        return self._cameras[name]

    def frame_set(self, index: int) -> dict[str, np.ndarray]:
        """``{camera name: frame}`` of frame set ``index`` (views into the memory maps)."""
        return {name: a[index] for name, a in self._cameras.items()}

    def has_objects(self) -> bool:
        return self.store.exists(OBJECTS_FILE)

    def objects(self, index: int) -> np.ndarray | None:
        """Objects of frame set ``index`` as float64 [M, 7] (spec.OBJECT_FIELDS, ego frame), None if unknown."""
        if self._objects is None:
            self._objects = _read_objects(self.store, len(self))
        return self._objects[index]


def _read_objects(store: Store, n: int) -> list[np.ndarray | None]:
    where = f"{store}/{OBJECTS_FILE}"
    if not store.exists(OBJECTS_FILE):
        return [None] * n
    lines = [ln for ln in store.read_text(OBJECTS_FILE).splitlines() if ln.strip()]
    if len(lines) != n:
        raise EpisodeError(f"{where}: {len(lines)} lines but the episode has {n} frames")
    out: list[np.ndarray | None] = []
    for k, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise EpisodeError(f"{where}: line {k + 1}: invalid JSON: {e.msg}") from None
        if not isinstance(rec, dict) or rec.get("index") != k or "objects" not in rec:
            raise EpisodeError(f"{where}: line {k + 1}: expected {{\"index\": {k}, \"objects\": [...]}}")
        objs = rec["objects"]
        if objs is None:
            out.append(None)
            continue
        shape_ok = isinstance(objs, list) and all(isinstance(o, list) and len(o) == len(OBJECT_FIELDS) for o in objs)
        try:
            a = np.asarray(objs, np.float64).reshape(-1, len(OBJECT_FIELDS)) if shape_ok else None
        except (ValueError, TypeError):
            a = None
        if a is None or not np.isfinite(a).all():
            raise EpisodeError(f"{where}: line {k + 1}: each object is a list of {len(OBJECT_FIELDS)} finite "
                               f"numbers {list(OBJECT_FIELDS)}")
        out.append(a)
    return out


def open_episode(path: str | os.PathLike[str]) -> Episode:
    """Open and validate the episode folder or .tar at ``path`` (EpisodeError if it is malformed)."""
    return Episode(path)


def find_episodes(root: str | os.PathLike[str]) -> list[Path]:
    """Episode paths under ``root``, sorted by name: ``root`` itself if it is an episode, else its child folders
    holding an episode.json and its child .tar files."""
    root = Path(root)
    if root.is_file() or (root / META_FILE).is_file():
        return [root]
    if not root.is_dir():
        raise EpisodeError(f"{root}: no such episode or folder of episodes")
    return sorted(p for p in root.iterdir() if (p.is_dir() and (p / META_FILE).is_file()) or
                  (p.is_file() and p.suffix == ".tar"))


def iter_episodes(root: str | os.PathLike[str]) -> Iterator[Episode]:
    """Open every episode under ``root`` in order (see ``find_episodes``)."""
    for p in find_episodes(root):
        yield Episode(p)
