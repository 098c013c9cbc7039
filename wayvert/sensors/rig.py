"""Rig files: the cameras of a vehicle, their lenses, pixel formats and mounting (spec: docs/rig-file.md).

``Rig.load(path)`` / ``Rig.from_dict(d)`` validate everything and raise ``RigError`` naming the bad field by its
JSON path (``cameras[2].model.fx: must be a number > 0, got -3``); unknown keys are errors, so a typo cannot
pass silently. The dataclasses are frozen; their constructors do not validate (``Rig.from_dict(rig.to_dict())``
does). Frames: vehicle x forward, y left, z up (ISO 8855, origin at the rear-axle centre on the ground);
camera optical frame x right, y down, z forward (OpenCV). numpy only.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, NoReturn, Sequence

import numpy as np
import numpy.typing as npt

from wayvert.errors import InvalidArgumentError, RigError


#: Camera models and the key holding each one's coefficients (with its length).
MODEL_TYPES = ("pinhole", "kannala_brandt", "ftheta")
_COEFF_KEY = {"pinhole": ("distortion", 5), "kannala_brandt": ("k", 4), "ftheta": ("poly", 5)}
#: Pixel formats the built-in adapter reads; any other identifier is a plugin's own format.
BUILTIN_PIXEL_FORMATS = ("rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8")
YUV_PIXEL_FORMATS = ("nv12", "yuyv")
COLOR_MATRICES = ("bt601", "bt709")
COLOR_RANGES = ("full", "limited")
MAX_NAME_LEN = 31
MAX_IMAGE_SIDE = 65535
#: Sanity bounds that catch unit mistakes (millimetres for metres, degrees for radians).
MAX_TRANSLATION_M = 50.0
MAX_ANGLE_RAD = 2.0 * math.pi

_IDENT = re.compile(r"[A-Za-z0-9_]+\Z")

#: Rotation taking optical-frame vectors (x right, y down, z forward) to the camera body frame
#: (x forward along the optical axis, y left, z up): optical z -> body x, optical x -> body -y, optical y -> body -z.
R_BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
R_BODY_FROM_OPTICAL.setflags(write=False)


# --------------------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraModel:
    """A lens model. ``coeffs``: pinhole [k1 k2 p1 p2 k3] (OpenCV order), kannala_brandt [k1 k2 k3 k4],
    ftheta [a1 .. a5] (pixel radius r = a1 theta + ... + a5 theta^5). ``fx``/``fy`` are None for ftheta;
    ``fov_deg`` (full field of view) is None for pinhole."""

    type: str
    fx: float | None
    fy: float | None
    cx: float
    cy: float
    coeffs: tuple[float, ...]
    fov_deg: float | None


@dataclass(frozen=True)
class Extrinsics:
    """Mounting: camera centre in the vehicle frame (metres) and roll, pitch, yaw of the camera body frame
    (x optical axis, y left, z up) in radians; R_vehicle_from_body = Rz(yaw) Ry(pitch) Rx(roll), so positive
    pitch looks down and positive yaw looks left."""

    translation_m: tuple[float, float, float]
    rotation_rpy_rad: tuple[float, float, float]

    @property
    def R_vehicle_from_body(self) -> npt.NDArray[np.float64]:
        """3x3 rotation, body frame (x forward, y left, z up) -> vehicle frame."""
        roll, pitch, yaw = self.rotation_rpy_rad
        cr, sr = math.cos(roll), math.sin(roll)
        cp, sp = math.cos(pitch), math.sin(pitch)
        cy, sy = math.cos(yaw), math.sin(yaw)
        rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
        ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
        rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
        r: npt.NDArray[np.float64] = rz @ ry @ rx
        return r

    @property
    def R_vehicle_from_optical(self) -> npt.NDArray[np.float64]:
        """3x3 rotation, optical frame (x right, y down, z forward) -> vehicle frame; column 2 is the optical
        axis in the vehicle frame. A new array on every call."""
        r: npt.NDArray[np.float64] = self.R_vehicle_from_body @ R_BODY_FROM_OPTICAL
        return r


@dataclass(frozen=True)
class Camera:
    name: str
    width: int
    height: int
    pixel_format: str
    color_matrix: str  # "bt601" | "bt709"
    color_range: str  # "full" | "limited"
    fps: float
    model: CameraModel
    extrinsics: Extrinsics


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and std of RGB in [0, 1] that the network was trained with."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass(frozen=True)
class Rig:
    name: str
    cameras: tuple[Camera, ...]
    normalization: Normalization | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Rig:
        """Read and validate a rig file. RigError names the file, and the line for bad JSON."""
        where = os.fspath(path)
        try:
            with open(where, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise RigError(f"{where}: cannot read rig file: {e.strerror or e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise RigError(f"{where}: line {line}: not UTF-8 text") from None
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as e:
            raise RigError(f"{where}: line {e.lineno}, column {e.colno}: invalid JSON: {e.msg}") from None
        except _DuplicateKey as e:
            raise RigError(f"{where}: invalid rig: key {json.dumps(e.key)} appears twice in one object") from None
        try:
            return cls.from_dict(data)
        except RigError as e:
            raise RigError(f"{where}: {e}") from None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rig:
        """Validate a rig given as parsed JSON (dicts, lists, str, int, float); RigError names the bad field."""
        return _parse_rig(d)

    def to_dict(self) -> dict[str, Any]:
        """The rig as JSON-ready data with every default written out; ``Rig.from_dict(r.to_dict()) == r``."""
        out: dict[str, Any] = {"name": self.name, "cameras": [_camera_to_dict(c) for c in self.cameras]}
        if self.normalization is not None:
            out["normalization"] = {"mean": list(self.normalization.mean), "std": list(self.normalization.std)}
        return out

    def camera(self, name: str) -> Camera:
        """The camera called ``name`` (InvalidArgumentError if the rig has none)."""
        for c in self.cameras:
            if c.name == name:
                return c
        raise InvalidArgumentError(f"rig {self.name!r} has no camera {name!r}; cameras: {[c.name for c in self.cameras]}")


def default_color(pixel_format: str) -> tuple[str, str]:
    """(matrix, range) used when a camera's "color" (or one of its keys) is left out."""
    return ("bt709", "limited") if pixel_format in YUV_PIXEL_FORMATS else ("bt601", "full")


def _camera_to_dict(c: Camera) -> dict[str, Any]:
    m = c.model
    model: dict[str, Any] = {"type": m.type}
    if m.type != "ftheta":
        model["fx"], model["fy"] = m.fx, m.fy
    model["cx"], model["cy"] = m.cx, m.cy
    model[_COEFF_KEY[m.type][0]] = list(m.coeffs)
    if m.type != "pinhole":
        model["fov_deg"] = m.fov_deg
    return {
        "name": c.name, "width": c.width, "height": c.height, "pixel_format": c.pixel_format,
        "color": {"matrix": c.color_matrix, "range": c.color_range}, "fps": c.fps, "model": model,
        "extrinsics": {"translation_m": list(c.extrinsics.translation_m),
                       "rotation_rpy_rad": list(c.extrinsics.rotation_rpy_rad)},
    }


# --------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _show(v: Any) -> str:
    """A value as it would look in the JSON file (shortened)."""
    try:
        s = json.dumps(v, allow_nan=True)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _fail(path: str, problem: str) -> NoReturn:
    raise RigError(f"{path or '(top level)'}: {problem}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _object(v: Any, path: str, required: Sequence[str], optional: Sequence[str] = (), what: str = "") -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        _fail(path, f"must be a JSON object{what}, got {_show(v)}")
    allowed = list(required) + list(optional)
    for k in v:
        if not isinstance(k, str) or k not in allowed:
            hint = difflib.get_close_matches(str(k), allowed, n=1)
            did_you_mean = f"did you mean {json.dumps(hint[0])}? " if hint else ""
            _fail(_join(path, str(k)), f"unknown key ({did_you_mean}allowed{what}: {', '.join(sorted(allowed))})")
    for k in required:
        if k not in v:
            _fail(_join(path, k), f"missing (required{what})")
    return v


def _number(v: Any, path: str, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
            hi_open: bool = False, note: str = "") -> float:
    if lo is None and hi is None:
        rule = "a finite number"
    elif hi is None:
        rule = f"a number {'>' if lo_open else '>='} {lo:g}"
    elif lo is None:
        rule = f"a number {'<' if hi_open else '<='} {hi:g}"
    else:
        rule = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if not _is_number(v) or not math.isfinite(float(v)):
        _fail(path, f"must be {rule}{note}, got {_show(v)}")
    x = float(v)
    if lo is not None and (x < lo or (lo_open and x == lo)):
        _fail(path, f"must be {rule}{note}, got {_show(v)}")
    if hi is not None and (x > hi or (hi_open and x == hi)):
        _fail(path, f"must be {rule}{note}, got {_show(v)}")
    return x


def _integer(v: Any, path: str, lo: int, hi: int) -> int:
    if not isinstance(v, numbers.Integral) or isinstance(v, (bool, np.bool_)) or not lo <= int(v) <= hi:
        _fail(path, f"must be an integer in {lo}..{hi}, got {_show(v)}")
    return int(v)


def _string(v: Any, path: str, choices: Sequence[str] | None = None, identifier: bool = False) -> str:
    if choices is not None:
        if not isinstance(v, str) or v not in choices:
            _fail(path, f"must be one of {', '.join(json.dumps(c) for c in choices)}, got {_show(v)}")
        return v
    if identifier:
        if not isinstance(v, str) or not _IDENT.match(v) or len(v) > MAX_NAME_LEN:
            _fail(path, f"must be a string of 1..{MAX_NAME_LEN} characters from [A-Za-z0-9_], got {_show(v)}")
        return v
    if not isinstance(v, str) or not v:
        _fail(path, f"must be a non-empty string, got {_show(v)}")
    return v


def _numbers(v: Any, path: str, n: int, what: str, lo: float | None = None, hi: float | None = None, *,
             lo_open: bool = False, note: str = "") -> tuple[float, ...]:
    if not isinstance(v, (list, tuple)) or len(v) != n:
        _fail(path, f"must be a list of {n} numbers {what}, got {_show(v)}")
    return tuple(_number(x, f"{path}[{i}]", lo, hi, lo_open=lo_open, note=note) for i, x in enumerate(v))


def _parse_model(v: Any, path: str) -> CameraModel:
    if not isinstance(v, Mapping):
        _fail(path, f"must be a JSON object, got {_show(v)}")
    if "type" not in v:
        _fail(_join(path, "type"), f"missing (required: one of {', '.join(json.dumps(t) for t in MODEL_TYPES)})")
    kind = _string(v["type"], _join(path, "type"), MODEL_TYPES)
    coeff_key, n = _COEFF_KEY[kind]
    what = f" for a {kind} model"
    if kind == "pinhole":
        _object(v, path, ["type", "fx", "fy", "cx", "cy"], [coeff_key], what)
    elif kind == "kannala_brandt":
        _object(v, path, ["type", "fx", "fy", "cx", "cy", coeff_key, "fov_deg"], (), what)
    else:
        _object(v, path, ["type", "cx", "cy", coeff_key, "fov_deg"], (), what)
    fx = fy = fov = None
    if kind != "ftheta":
        fx = _number(v["fx"], _join(path, "fx"), 0.0, lo_open=True)
        fy = _number(v["fy"], _join(path, "fy"), 0.0, lo_open=True)
    cx = _number(v["cx"], _join(path, "cx"))
    cy = _number(v["cy"], _join(path, "cy"))
    names = {"pinhole": "[k1, k2, p1, p2, k3]", "kannala_brandt": "[k1, k2, k3, k4]", "ftheta": "[a1, a2, a3, a4, a5]"}
    coeffs = _numbers(v.get(coeff_key, [0.0] * n), _join(path, coeff_key), n, names[kind])
    if kind == "ftheta" and coeffs[0] <= 0.0:
        _fail(_join(path, coeff_key) + "[0]", f"a1 (pixels per radian at the centre) must be > 0, got {_show(v[coeff_key][0])}")
    if kind != "pinhole":
        fov = _number(v["fov_deg"], _join(path, "fov_deg"), 0.0, 360.0, lo_open=True, hi_open=True, note=" (degrees)")
    return CameraModel(type=kind, fx=fx, fy=fy, cx=cx, cy=cy, coeffs=coeffs, fov_deg=fov)


def _parse_camera(v: Any, path: str) -> Camera:
    c = _object(v, path, ["name", "width", "height", "pixel_format", "fps", "model", "extrinsics"], ["color"])
    name = _string(c["name"], _join(path, "name"), identifier=True)
    width = _integer(c["width"], _join(path, "width"), 1, MAX_IMAGE_SIDE)
    height = _integer(c["height"], _join(path, "height"), 1, MAX_IMAGE_SIDE)
    fmt = _string(c["pixel_format"], _join(path, "pixel_format"), identifier=True)
    even_w = fmt in ("nv12", "yuyv") or fmt.startswith("bayer_")
    even_h = fmt == "nv12" or fmt.startswith("bayer_")
    if even_w and width % 2:
        _fail(_join(path, "width"), f"{fmt} needs an even width, got {width}")
    if even_h and height % 2:
        _fail(_join(path, "height"), f"{fmt} needs an even height, got {height}")
    matrix, rng = default_color(fmt)
    if "color" in c:
        cp = _join(path, "color")
        col = _object(c["color"], cp, [], ["matrix", "range"])
        if "matrix" in col:
            matrix = _string(col["matrix"], _join(cp, "matrix"), COLOR_MATRICES)
        if "range" in col:
            rng = _string(col["range"], _join(cp, "range"), COLOR_RANGES)
    fps = _number(c["fps"], _join(path, "fps"), 0.0, lo_open=True)
    model = _parse_model(c["model"], _join(path, "model"))
    ep = _join(path, "extrinsics")
    e = _object(c["extrinsics"], ep, ["translation_m", "rotation_rpy_rad"])
    t = _numbers(e["translation_m"], _join(ep, "translation_m"), 3, "[x, y, z] (metres)", -MAX_TRANSLATION_M,
                 MAX_TRANSLATION_M, note=" (metres)")
    r = _numbers(e["rotation_rpy_rad"], _join(ep, "rotation_rpy_rad"), 3, "[roll, pitch, yaw] (radians)",
                 -MAX_ANGLE_RAD, MAX_ANGLE_RAD, note=" (radians)")
    return Camera(name=name, width=width, height=height, pixel_format=fmt, color_matrix=matrix, color_range=rng,
                  fps=fps, model=model, extrinsics=Extrinsics((t[0], t[1], t[2]), (r[0], r[1], r[2])))


def _parse_rig(d: Any) -> Rig:
    top = _object(d, "", ["name", "cameras"], ["normalization"])
    name = _string(top["name"], "name")
    cams = top["cameras"]
    if not isinstance(cams, (list, tuple)) or not cams:
        _fail("cameras", f"must be a non-empty list of cameras, got {_show(cams)}")
    cameras: list[Camera] = []
    seen: dict[str, int] = {}
    for i, cv in enumerate(cams):
        cam = _parse_camera(cv, f"cameras[{i}]")
        if cam.name in seen:
            _fail(f"cameras[{i}].name", f"duplicate camera name {json.dumps(cam.name)} (also cameras[{seen[cam.name]}].name)")
        seen[cam.name] = i
        cameras.append(cam)
    norm = None
    if "normalization" in top:
        n = _object(top["normalization"], "normalization", ["mean", "std"])
        mean = _numbers(n["mean"], "normalization.mean", 3, "[r, g, b]", 0.0, 1.0, note=" (RGB in [0, 1], not 0..255)")
        std = _numbers(n["std"], "normalization.std", 3, "[r, g, b]", 0.0, 1.0, lo_open=True,
                       note=" (RGB in [0, 1], not 0..255)")
        norm = Normalization((mean[0], mean[1], mean[2]), (std[0], std[1], std[2]))
    return Rig(name=name, cameras=tuple(cameras), normalization=norm)


__all__ = [
    "BUILTIN_PIXEL_FORMATS", "COLOR_MATRICES", "COLOR_RANGES", "Camera", "CameraModel", "Extrinsics", "MODEL_TYPES",
    "Normalization", "R_BODY_FROM_OPTICAL", "Rig", "RigError", "default_color",
]
