"""Convert your own drive log into an episode (docs/episode-format.md, section "Your own logs").

Input (a deliberately simple, documented layout that real logs are exported to first):

* a CSV of ego poses with your own column names and units (``--time-col``, ``--x-col``, ... below): time,
  position (world / odometry frame), yaw; optionally speed, yaw rate, acceleration, steering, route command;
* ``IMAGES/<camera name>/<timestamp>.npy``: one uint8 frame per file, in the rig camera's pixel format (the
  array shape of ``wayvert.sensors.pixel_formats.FRAME_SHAPES``), the file name its timestamp;
* the rig file of those cameras (``--rig``: a path, or the name of a shipped rig).

Frame sets are built on the reference camera's timestamps (``--reference-camera``, default the rig's first):
every other camera contributes its nearest frame within ``--sync-tolerance-s``; reference frames some camera
cannot match are dropped (and counted). Times become seconds since the first pose. Quantities the CSV lacks
are derived: speed from the positions, yaw rate from the yaw, acceleration from the speed (central
differences), steering from the kinematic bicycle, steering = atan(wheelbase * yaw_rate / max(speed, 1 m/s)).

    python -m wayvert.training.data.convert_log --poses log/poses.csv --images log/images --rig rig.json \
        --out episodes/my_drive --time-col timestamp_us --time-unit us --speed-col speed_kmh --speed-unit kmh \
        --yaw-col heading_deg --yaw-unit deg
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wayvert import schema
from wayvert.episodes.spec import TRAFFIC_SIDES, EpisodeError
from wayvert.episodes.writer import EpisodeWriter
from wayvert.errors import RigError
from wayvert.sensors import shipped_rig
from wayvert.sensors.rig import Rig

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
LENGTH_UNITS = {"m": 1.0, "cm": 0.01, "ft": 0.3048}
ANGLE_UNITS = {"rad": 1.0, "deg": np.pi / 180.0}
SPEED_UNITS = {"mps": 1.0, "kmh": 1.0 / 3.6, "mph": 0.44704}
DEFAULT_WHEELBASE_M = 2.79
MIN_STEERING_SPEED_MPS = 1.0


@dataclass(frozen=True)
class PoseColumns:
    """Which CSV column holds what, and in which unit (None: not in the CSV, derived)."""

    time: str = "t"
    time_unit: str = "s"
    x: str = "x"
    y: str = "y"
    length_unit: str = "m"
    yaw: str = "yaw"
    angle_unit: str = "rad"          # yaw, yaw rate (per second) and steering
    speed: str | None = None
    speed_unit: str = "mps"
    yaw_rate: str | None = None
    accel: str | None = None         # m/s^2
    steering: str | None = None
    command: str | None = None       # values: names of schema.COMMANDS
    pose_ahead_of_rear_axle_m: float = 0.0


def read_poses(path: str | os.PathLike[str], cols: PoseColumns, wheelbase_m: float = DEFAULT_WHEELBASE_M) -> dict:
    """The pose CSV as ego.csv columns (SI units, rear axle, sorted by time; t_s still absolute)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise EpisodeError(f"{path}: no pose rows")
    header = list(rows[0])

    def column(name: str, scale: float) -> np.ndarray:
        if name not in header:
            raise EpisodeError(f"{path}: no column {name!r}; the columns are {header}")
        try:
            v = np.array([float(r[name]) for r in rows]) * scale
        except ValueError as e:
            raise EpisodeError(f"{path}: column {name!r}: {e}") from None
        if not np.isfinite(v).all():
            raise EpisodeError(f"{path}: column {name!r}: non-finite value on line {int(np.argmin(np.isfinite(v))) + 2}")
        return v

    ang = ANGLE_UNITS[cols.angle_unit]
    t = column(cols.time, TIME_UNITS[cols.time_unit])
    order = np.argsort(t, kind="stable")
    t = t[order]
    if (np.diff(t) <= 0).any():
        raise EpisodeError(f"{path}: two poses share the time {t[1:][np.diff(t) <= 0][0]!r} s")
    pick = lambda name, scale: column(name, scale)[order]  # noqa: E731
    x, y = pick(cols.x, LENGTH_UNITS[cols.length_unit]), pick(cols.y, LENGTH_UNITS[cols.length_unit])
    yaw = np.unwrap(pick(cols.yaw, ang))
    x, y = x - cols.pose_ahead_of_rear_axle_m * np.cos(yaw), y - cols.pose_ahead_of_rear_axle_m * np.sin(yaw)
    speed = pick(cols.speed, SPEED_UNITS[cols.speed_unit]) if cols.speed else \
        np.hypot(np.gradient(x, t), np.gradient(y, t))
    yaw_rate = pick(cols.yaw_rate, ang) if cols.yaw_rate else np.gradient(yaw, t)
    accel = pick(cols.accel, 1.0) if cols.accel else np.gradient(speed, t)
    steering = pick(cols.steering, ang) if cols.steering else \
        np.arctan(wheelbase_m * yaw_rate / np.maximum(speed, MIN_STEERING_SPEED_MPS))
    if cols.command:
        if cols.command not in header:
            raise EpisodeError(f"{path}: no column {cols.command!r}; the columns are {header}")
        command = [rows[i][cols.command].strip() for i in order]
    else:
        command = ["follow"] * len(t)
    bad = [c for c in command if c not in schema.COMMANDS]
    if bad:
        raise EpisodeError(f"{path}: command {bad[0]!r} is not one of {schema.COMMANDS}")
    return {"t_s": t, "x_m": x, "y_m": y, "yaw_rad": yaw, "speed_mps": speed, "accel_mps2": accel,
            "yaw_rate_rps": yaw_rate, "steering_rad": steering, "command": command}


def _timestamp(p: Path) -> float:
    try:
        return float(p.stem)
    except ValueError:
        raise EpisodeError(f"{p}: a frame file is named <timestamp>.npy") from None


def frame_sets(images: Path, rig: Rig, time_unit: str, tolerance_s: float,
               reference: str | None = None) -> tuple[list[tuple[float, dict[str, Path]]], int]:
    """([(time s, {camera: frame file})] on the reference camera's clock, number of dropped reference frames)."""
    files = {}
    for cam in rig.cameras:
        folder = images / cam.name
        found = sorted(folder.glob("*.npy")) if folder.is_dir() else []
        if not found:
            raise EpisodeError(f"{folder}: no frames (*.npy) for camera {cam.name!r}")
        stamps = np.array([_timestamp(p) for p in found]) * TIME_UNITS[time_unit]
        order = np.argsort(stamps)
        files[cam.name] = (stamps[order], [found[i] for i in order])
    ref = reference or rig.cameras[0].name
    if ref not in files:
        raise EpisodeError(f"reference camera {ref!r} is not in the rig: {list(files)}")
    sets, dropped = [], 0
    for t, p in zip(*files[ref]):
        chosen = {}
        for name, (stamps, paths) in files.items():
            j = int(np.argmin(np.abs(stamps - t)))
            if abs(stamps[j] - t) <= tolerance_s:
                chosen[name] = paths[j]
        if len(chosen) == len(files):
            sets.append((float(t), chosen))
        else:
            dropped += 1
    return sets, dropped


def convert_log(poses: str | os.PathLike[str], images: str | os.PathLike[str], rig: Rig,
                out: str | os.PathLike[str], cols: PoseColumns = PoseColumns(), *, frame_time_unit: str = "us",
                sync_tolerance_s: float = 0.05, reference_camera: str | None = None,
                wheelbase_m: float = DEFAULT_WHEELBASE_M, episode_id: str | None = None, source: str | None = None,
                traffic_side: str = "right", weather: str | None = None, lighting: str | None = None) -> dict:
    """Write the episode folder ``out`` from a pose CSV and per-camera frame files; returns a summary dict."""
    ego = read_poses(poses, cols, wheelbase_m)
    t0 = float(ego["t_s"][0])
    sets, dropped = frame_sets(Path(images), rig, frame_time_unit, sync_tolerance_s, reference_camera)
    writer = EpisodeWriter(out, rig, episode_id=episode_id or Path(out).name,
                           source=source or f"converted from {os.fspath(poses)}", traffic_side=traffic_side,
                           weather=weather, lighting=lighting)
    with writer:
        for i in range(len(ego["t_s"])):
            state = [ego[k][i] for k in ("x_m", "y_m", "yaw_rad", "speed_mps", "accel_mps2", "yaw_rate_rps",
                                         "steering_rad")]
            writer.add_ego(ego["t_s"][i] - t0, state, ego["command"][i])
        for t, chosen in sets:
            frames = {}
            for name, p in chosen.items():
                try:
                    frames[name] = np.load(p, allow_pickle=False)
                except (OSError, ValueError) as e:
                    raise EpisodeError(f"{p}: not a readable .npy frame: {e}") from None
            writer.add_frames(t - t0, frames)
    return {"episode": str(out), "ego_rows": len(ego["t_s"]), "frames": len(sets), "dropped_frames": dropped}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m wayvert.training.data.convert_log",
                                description="Convert a pose CSV and per-camera .npy frames into a wayvert episode "
                                            "(docs/episode-format.md).")
    io = p.add_argument_group("input and output")
    io.add_argument("--poses", required=True, help="CSV of ego poses (one row per pose, a header line)")
    io.add_argument("--images", required=True, help="folder with one sub-folder per camera of <timestamp>.npy frames")
    io.add_argument("--rig", required=True, help="rig file (JSON, docs/rig-file.md) or the name of a shipped rig")
    io.add_argument("--out", required=True, help="episode folder to write")
    d = PoseColumns()
    cm = p.add_argument_group("pose columns and units")
    cm.add_argument("--time-col", default=d.time)
    cm.add_argument("--time-unit", default=d.time_unit, choices=TIME_UNITS)
    cm.add_argument("--x-col", default=d.x)
    cm.add_argument("--y-col", default=d.y)
    cm.add_argument("--length-unit", default=d.length_unit, choices=LENGTH_UNITS, help="of x and y")
    cm.add_argument("--yaw-col", default=d.yaw, help="heading, counter-clockwise from the world x axis")
    cm.add_argument("--angle-unit", default=d.angle_unit, choices=ANGLE_UNITS,
                    help="of yaw, yaw rate (per second) and steering")
    cm.add_argument("--speed-col", help="default: derived from the positions")
    cm.add_argument("--speed-unit", default=d.speed_unit, choices=SPEED_UNITS)
    cm.add_argument("--yaw-rate-col", help="default: derived from the yaw")
    cm.add_argument("--accel-col", help="m/s^2; default: derived from the speed")
    cm.add_argument("--steering-col", help="road-wheel angle; default: from the kinematic bicycle")
    cm.add_argument("--command-col", help=f"route command, one of {schema.COMMANDS}; default: follow")
    cm.add_argument("--pose-ahead-of-rear-axle-m", type=float, default=0.0,
                    help="the poses' origin lies this far ahead of the rear axle (m); shifted back")
    cm.add_argument("--wheelbase-m", type=float, default=DEFAULT_WHEELBASE_M)
    fr = p.add_argument_group("frames")
    fr.add_argument("--frame-time-unit", default="us", choices=TIME_UNITS, help="unit of the frame file names")
    fr.add_argument("--sync-tolerance-s", type=float, default=0.05)
    fr.add_argument("--reference-camera", help="camera whose frames define the frame sets (default: the rig's first)")
    meta = p.add_argument_group("episode.json")
    meta.add_argument("--id")
    meta.add_argument("--source")
    meta.add_argument("--traffic-side", default="right", choices=TRAFFIC_SIDES)
    meta.add_argument("--weather", choices=("dry", "rain"))
    meta.add_argument("--lighting", choices=("day", "dusk"))
    return p


def _load_rig(arg: str) -> Rig:
    return Rig.load(arg) if os.path.exists(arg) or arg.endswith(".json") else shipped_rig(arg)


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    cols = PoseColumns(time=a.time_col, time_unit=a.time_unit, x=a.x_col, y=a.y_col, length_unit=a.length_unit,
                       yaw=a.yaw_col, angle_unit=a.angle_unit, speed=a.speed_col, speed_unit=a.speed_unit,
                       yaw_rate=a.yaw_rate_col, accel=a.accel_col, steering=a.steering_col, command=a.command_col,
                       pose_ahead_of_rear_axle_m=a.pose_ahead_of_rear_axle_m)
    try:
        summary = convert_log(a.poses, a.images, _load_rig(a.rig), a.out, cols, frame_time_unit=a.frame_time_unit,
                              sync_tolerance_s=a.sync_tolerance_s, reference_camera=a.reference_camera,
                              wheelbase_m=a.wheelbase_m, episode_id=a.id, source=a.source,
                              traffic_side=a.traffic_side, weather=a.weather, lighting=a.lighting)
    except (EpisodeError, RigError, OSError) as e:
        print(f"convert_log: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {summary['episode']}: {summary['ego_rows']} ego rows, {summary['frames']} frame sets "
          f"({summary['dropped_frames']} reference frames dropped, unmatched)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
