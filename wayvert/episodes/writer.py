"""``EpisodeWriter``: writes an episode folder (docs/episode-format.md) one ego state and one frame set at a time.

Nothing accumulates in memory: ego.csv, frames.csv and objects.jsonl are appended line by line and each camera's
frames stream into its .npy (``NpyAppender``). episode.json is written last, by ``close()``: a folder without it
is an unfinished (or aborted) episode and readers refuse it.
"""
from __future__ import annotations

import csv
import json
import os
import tarfile
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Sequence, TextIO

import numpy as np

from wayvert.sensors.pixel_formats import FRAME_SHAPES
from wayvert.sensors.rig import Rig

from .. import schema
from .npy_stream import NpyAppender
from .spec import (CAMERAS_DIR, EGO_COLUMNS, EGO_FILE, FORMAT_NAME, FORMAT_VERSION, FRAME_COLUMNS,
                   FRAME_LABEL_COLUMNS, FRAMES_FILE, LIGHTINGS, META_FILE, OBJECT_FIELDS, OBJECTS_FILE, RIG_FILE,
                   TRAFFIC_SIDES, WEATHERS, EpisodeError, camera_file)

_STATE_FIELDS = ("x", "y", "yaw", "speed", "accel", "yaw_rate", "steering")


def _number(v: float) -> str:
    """Shortest text that reads back as the same float64 (so a write/read round trip is bit exact)."""
    return repr(float(v))


def _state_values(state: Any) -> list[float]:
    if all(hasattr(state, f) for f in _STATE_FIELDS):
        return [float(getattr(state, f)) for f in _STATE_FIELDS]
    vals = [float(v) for v in state]
    if len(vals) != len(_STATE_FIELDS):
        raise EpisodeError(f"an ego state is {_STATE_FIELDS} (an EgoState or 7 numbers), got {len(vals)} values")
    return vals


class EpisodeWriter:
    """Write an episode recorded with ``rig`` (a Rig) into the folder ``path`` (created if needed).

    ``traffic_side`` "right" | "left"; ``weather`` "dry" | "rain" | None; ``lighting`` "day" | "dusk" | None;
    ``extra``: further JSON-ready keys for episode.json (e.g. the generator's parameters).
    """

    def __init__(self, path: str | os.PathLike[str], rig: Rig, *, episode_id: str, source: str,
                 traffic_side: str = "right", weather: str | None = None, lighting: str | None = None,
                 bad_dreams: bool = False, extra: Mapping[str, Any] | None = None):
        for key, v, choices in (("traffic_side", traffic_side, TRAFFIC_SIDES), ("weather", weather, WEATHERS),
                                ("lighting", lighting, LIGHTINGS)):
            if v is not None and v not in choices:
                raise EpisodeError(f"episode writer: {key} must be one of {list(choices)}, got {v!r}")
        self.path = Path(path)
        self.rig = rig
        self.meta: dict[str, Any] = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "id": str(episode_id), "rig": rig.name,
            "weather": weather, "lighting": lighting, "traffic_side": traffic_side, "source": str(source),
            "bad_dreams": bool(bad_dreams), "frame_count": 0, "cameras": [c.name for c in rig.cameras],
        }
        for k, v in (extra or {}).items():
            if k in self.meta:
                raise EpisodeError(f"episode writer: extra key {k!r} would overwrite a format key")
            self.meta[k] = v
        (self.path / CAMERAS_DIR).mkdir(parents=True, exist_ok=True)
        (self.path / META_FILE).unlink(missing_ok=True)
        (self.path / OBJECTS_FILE).unlink(missing_ok=True)
        (self.path / RIG_FILE).write_text(json.dumps(rig.to_dict(), indent=2) + "\n", encoding="utf-8")
        self._cams = {c.name: NpyAppender(self.path / camera_file(c.name),
                                          FRAME_SHAPES[c.pixel_format](c.width, c.height)) for c in rig.cameras}
        self._ego_file = open(self.path / EGO_FILE, "w", newline="", encoding="utf-8")
        self._ego = csv.writer(self._ego_file, lineterminator="\n")
        self._ego.writerow(EGO_COLUMNS)
        self._frames_file = open(self.path / FRAMES_FILE, "w", newline="", encoding="utf-8")
        self._frames = csv.writer(self._frames_file, lineterminator="\n")
        self._frames.writerow(FRAME_COLUMNS + FRAME_LABEL_COLUMNS)
        self._objects_file: TextIO | None = None
        self._t_ego: float | None = None
        self._t_frame: float | None = None
        self.frame_count = 0

    def __enter__(self) -> "EpisodeWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add_ego(self, t_s: float, state: Any, command: str = "follow") -> None:
        """Log the ego state at time ``t_s`` (s): an EgoState (x, y, yaw, speed, accel, yaw_rate, steering, rear
        axle, world frame) or those 7 numbers; ``command`` one of schema.COMMANDS."""
        vals = _state_values(state)
        t_s = float(t_s)
        if not np.isfinite([t_s, *vals]).all():
            raise EpisodeError(f"{self.path / EGO_FILE}: non-finite ego state at t={t_s}: {vals}")
        if self._t_ego is not None and t_s <= self._t_ego:
            raise EpisodeError(f"{self.path / EGO_FILE}: ego time {t_s} s does not follow {self._t_ego} s")
        if command not in schema.COMMANDS:
            raise EpisodeError(f"{self.path / EGO_FILE}: command {command!r} is not one of {schema.COMMANDS}")
        self._t_ego = t_s
        self._ego.writerow([_number(t_s), *map(_number, vals), command])

    def add_frames(self, t_s: float, frames: Mapping[str, np.ndarray], scenario: str | None = None,
                   lead_gap: float | None = None, objects: np.ndarray | Sequence[Sequence[float]] | None = None) -> None:
        """Append the frame set taken at ``t_s`` (s): one uint8 frame per rig camera, in its pixel format.
        Labels (None = unknown): ``scenario`` (schema.SCENARIOS), ``lead_gap`` (m), ``objects`` [M, 7]."""
        t_s = float(t_s)
        if not np.isfinite(t_s) or (self._t_frame is not None and t_s <= self._t_frame):
            raise EpisodeError(f"{self.path / FRAMES_FILE}: frame time {t_s} s does not follow {self._t_frame} s")
        if set(frames) != set(self._cams):
            raise EpisodeError(f"{self.path}: a frame set needs exactly the rig's cameras {sorted(self._cams)}, "
                               f"got {sorted(frames)}")
        if scenario is not None and scenario not in schema.SCENARIOS:
            raise EpisodeError(f"{self.path / FRAMES_FILE}: scenario {scenario!r} is not one of {schema.SCENARIOS}")
        if lead_gap is not None and not (np.isfinite(lead_gap) and lead_gap >= 0):
            raise EpisodeError(f"{self.path / FRAMES_FILE}: lead gap must be finite and >= 0, got {lead_gap}")
        for name, a in frames.items():
            a = np.asarray(a)
            app = self._cams[name]
            if a.dtype != np.uint8 or a.shape != app.frame_shape:
                raise EpisodeError(f"{self.path / camera_file(name)}: frames must be uint8 {list(app.frame_shape)}, "
                                   f"got {a.dtype} {list(a.shape)}")
        for name, a in frames.items():
            self._cams[name].append(np.asarray(a))
        self._frames.writerow([self.frame_count, _number(t_s), scenario or "",
                               "" if lead_gap is None else _number(lead_gap)])
        self._write_objects(objects)
        self._t_frame = t_s
        self.frame_count += 1

    def _write_objects(self, objects: np.ndarray | Sequence[Sequence[float]] | None) -> None:
        if objects is None and self._objects_file is None:
            return
        if self._objects_file is None:  # first known objects: earlier frames' objects are unknown (null)
            self._objects_file = open(self.path / OBJECTS_FILE, "w", encoding="utf-8")
            for k in range(self.frame_count):
                self._objects_file.write(json.dumps({"index": k, "objects": None}) + "\n")
        rows = None
        if objects is not None:
            a = np.asarray(objects, np.float64).reshape(-1, len(OBJECT_FIELDS))
            if not np.isfinite(a).all():
                raise EpisodeError(f"{self.path / OBJECTS_FILE}: non-finite object values at frame {self.frame_count}")
            rows = [[float(v) for v in r] for r in a]
        self._objects_file.write(json.dumps({"index": self.frame_count, "objects": rows}) + "\n")

    def _close_files(self) -> None:
        for app in self._cams.values():
            app.close()
        for f in (self._ego_file, self._frames_file, self._objects_file):
            if f is not None:
                f.close()

    def close(self) -> Path:
        """Finish the episode (fix the .npy headers, write episode.json); returns its folder."""
        if self._t_ego is None:
            self.abort()
            raise EpisodeError(f"{self.path / EGO_FILE}: an episode needs at least one ego state")
        self._close_files()
        self.meta["frame_count"] = self.frame_count
        (self.path / META_FILE).write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")
        return self.path

    def abort(self) -> None:
        """Close the files without writing episode.json (the folder stays an unfinished episode)."""
        self._close_files()


def pack_tar(folder: str | os.PathLike[str], tar_path: str | os.PathLike[str] | None = None) -> Path:
    """Pack an episode folder into a plain .tar (default: beside it, ``<folder>.tar``) that readers open in place."""
    folder = Path(folder)
    out = Path(tar_path) if tar_path is not None else folder.with_name(folder.name + ".tar")
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(folder, arcname=folder.name)
    return out
