"""What one step of a replay consumes: a recorded frame set with the ego state and the objects at its time, read
from an episode (docs/episode-format.md). numpy only."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

from wayvert.errors import InputError, RigError
from wayvert.safety import EgoState
from wayvert.sensors.pixel_formats import FRAME_SHAPES
from wayvert.sensors.rig import Rig

# Timestamps written as decimal text may miss the ego log's ends by rounding (the episode targets use the same).
_TIME_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class FrameSet:
    """One frame set to replay: its cameras' frames (None = missing), the ego state and route command at its time,
    and the other road users in its ego frame."""

    index: int                                          #: frame-set index in the episode
    t_s: float                                          #: time (s) on the episode's clock
    frames: Mapping[str, npt.NDArray[np.uint8] | None]  #: {camera name: frame in the camera's pixel format}
    ego: EgoState                                       #: speed m/s, accel m/s², yaw rate rad/s, steering rad at t_s
    command: int                                        #: route command, index into schema.COMMANDS
    objects: npt.NDArray[np.float64] | None             #: [M, 7] verifier layout, ego frame; None = unknown
    ego_in_log: bool = True                             #: False: t_s lies outside ego.csv (values held at its ends)
    pose: tuple[float, float, float] | None = None      #: (x m, y m, yaw rad) in the log's world/odometry frame


def ego_at(ego_log: Any, t_s: float) -> tuple[EgoState, int, bool]:
    """(ego state, command index, t_s within the log) at ``t_s`` from an ``EgoLog``: values interpolated linearly
    in time, the command of the last row at or before t_s (docs/episode-format.md section 8)."""
    t = np.asarray(ego_log.t_s, np.float64)
    state = EgoState(speed=float(np.interp(t_s, t, ego_log.speed_mps)),
                     accel=float(np.interp(t_s, t, ego_log.accel_mps2)),
                     yaw_rate=float(np.interp(t_s, t, ego_log.yaw_rate_rps)),
                     steering=float(np.interp(t_s, t, ego_log.steering_rad)))
    row = int(np.clip(np.searchsorted(t, t_s + _TIME_TOLERANCE_S, side="right") - 1, 0, len(t) - 1))
    inside = bool(t[0] - _TIME_TOLERANCE_S <= t_s <= t[-1] + _TIME_TOLERANCE_S)
    return state, int(ego_log.command[row]), inside


def pose_at(ego_log: Any, t_s: float) -> tuple[float, float, float]:
    """(x, y, yaw) interpolated linearly at ``t_s`` (yaw unwrapped first, so a wrap at +-pi is not a spin)."""
    t = np.asarray(ego_log.t_s, np.float64)
    yaw = np.unwrap(np.asarray(ego_log.yaw_rad, np.float64))
    return (float(np.interp(t_s, t, ego_log.x_m)), float(np.interp(t_s, t, ego_log.y_m)),
            float(math.remainder(float(np.interp(t_s, t, yaw)), 2 * math.pi)))


def resolve_rig(rig: str | Rig | None, episode: Any) -> Rig:
    """The rig to read the episode's frames with: the episode's own (None), or an override (a Rig, a shipped rig
    name or a rig JSON path) that must have the episode's cameras with the episode's frame shapes."""
    if rig is None:
        episode_rig: Rig = episode.rig
        return episode_rig
    if isinstance(rig, Rig):
        override = rig
    elif rig.endswith(".json"):
        override = Rig.load(rig)
    else:
        from wayvert.sensors import shipped_rig

        try:
            override = shipped_rig(rig)
        except RigError:
            raise InputError(f"--rig {rig!r} is neither a shipped rig name nor a rig file (*.json)") from None
    recorded = {c.name: c for c in episode.rig.cameras}
    given = {c.name for c in override.cameras}
    if given != set(recorded):
        raise InputError(f"rig {override.name!r} has cameras {sorted(given)} but the episode {episode.path} recorded "
                         f"{sorted(recorded)}")
    for cam in override.cameras:
        shape_of = FRAME_SHAPES.get(cam.pixel_format)
        stored = tuple(episode.camera(cam.name).shape[1:])
        want = tuple(shape_of(cam.width, cam.height)) if shape_of else None
        old = recorded[cam.name]
        if (want is not None and want != stored) or (want is None and (cam.pixel_format, cam.width, cam.height)
                                                     != (old.pixel_format, old.width, old.height)):
            raise InputError(f"rig {override.name!r}: camera {cam.name!r} is {cam.width}x{cam.height} "
                             f"{cam.pixel_format}, but the episode's frames of it have shape {list(stored)} "
                             f"({old.width}x{old.height} {old.pixel_format})")
    return override


def episode_frame_sets(episode: Any, *, frames: int | None = None,
                       drop_cameras: Iterable[str] = ()) -> Iterator[FrameSet]:
    """The episode's frame sets in order (the first ``frames`` of them); ``drop_cameras`` are passed as missing,
    as if those cameras had failed. Frames stay memory-mapped until the replay reads them."""
    dropped = set(drop_cameras)
    unknown = sorted(dropped - set(episode.camera_names))
    if unknown:
        raise InputError(f"cannot drop camera(s) {unknown}: the episode's cameras are {list(episode.camera_names)}")
    n = len(episode) if frames is None else max(0, min(frames, len(episode)))
    return _frame_sets(episode, n, dropped)


def _frame_sets(episode: Any, n: int, dropped: set[str]) -> Iterator[FrameSet]:
    with_objects = bool(episode.has_objects())
    for k in range(n):
        t_s = float(episode.frames.t_s[k])
        state, command, inside = ego_at(episode.ego, t_s)
        recorded = episode.frame_set(k)
        yield FrameSet(index=k, t_s=t_s,
                       frames={name: None if name in dropped else recorded[name] for name in episode.camera_names},
                       ego=state, command=command, objects=episode.objects(k) if with_objects else None,
                       ego_in_log=inside, pose=pose_at(episode.ego, t_s))


def ego_is_finite(ego: EgoState) -> bool:
    """Every field of the ego state is a finite number."""
    return all(math.isfinite(v) for v in (ego.speed, ego.accel, ego.yaw_rate, ego.steering))
