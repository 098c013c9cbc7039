"""``SensorAdapter``: frames of any rig -> the canonical int8 input tensor and validity mask (numpy in, numpy out).

The work happens in C++ (the built-in adapter or a plugin loaded from a ``.so``, both through the plugin ABI
of ``cpp/include/wayvert/sensor_plugin.h``): remap tables are built once here, ``convert`` only samples.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt

from wayvert import _core
from wayvert.errors import InputError
from wayvert.sensors.pixel_formats import FRAME_SHAPES
from wayvert.sensors.rig import Rig

_MODELS = {"pinhole": 1, "kannala_brandt": 2, "ftheta": 3}
_MATRICES = {"bt601": 1, "bt709": 2}



def _camera_dicts(rig: Rig) -> list[dict[str, Any]]:
    out = []
    for c in rig.cameras:
        m = c.model
        coeffs = list(m.coeffs) + [0.0] * (5 - len(m.coeffs))
        out.append({
            "name": c.name, "width": c.width, "height": c.height, "pixel_format": c.pixel_format,
            "color_matrix": _MATRICES.get(c.color_matrix, 1), "full_range": int(c.color_range == "full"),
            "fps": float(c.fps), "model": _MODELS[m.type], "fx": float(m.fx or 0.0), "fy": float(m.fy or 0.0),
            "cx": float(m.cx), "cy": float(m.cy), "coeffs": [float(v) for v in coeffs[:5]],
            "fov_deg": float(m.fov_deg or 0.0), "translation_m": [float(v) for v in c.extrinsics.translation_m],
            "rotation_rpy_rad": [float(v) for v in c.extrinsics.rotation_rpy_rad],
        })
    return out


def _normalization(canonical: Rig) -> tuple[list[float], list[float]]:
    n = canonical.normalization
    if n is None:
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    mean = n["mean"] if isinstance(n, Mapping) else n.mean
    std = n["std"] if isinstance(n, Mapping) else n.std
    return [float(v) for v in mean], [float(v) for v in std]


class SensorAdapter:
    """Maps frames of ``rig`` onto the virtual cameras of ``canonical`` as the engine's int8 input.

    ``scale`` and ``zero_point`` are the engine input's quantization (``engine.inputs[i].scale``...);
    normalisation (mean, std of RGB in [0, 1]) comes from the canonical rig.
    """

    def __init__(self, rig: Rig, canonical: Rig, scale: float = 1.0 / 64, zero_point: int = 0, *,
                 plugin: str | os.PathLike[str] | None = None) -> None:
        self.rig = rig
        self.canonical = canonical
        mean, std = _normalization(canonical)
        path = "" if plugin is None else os.fspath(plugin)
        self._handle = _core.SensorAdapterHandle(path, _camera_dicts(rig), _camera_dicts(canonical), mean, std,
                                                 float(scale), int(zero_point))
        self._cameras = {c.name: c for c in rig.cameras}

    @classmethod
    def from_plugin(cls, path: str | os.PathLike[str], rig: Rig, canonical: Rig, scale: float = 1.0 / 64,
                    zero_point: int = 0) -> "SensorAdapter":
        """Load an out-of-tree adapter from a plugin ``.so`` (refused with a clear error on an ABI mismatch)."""
        return cls(rig, canonical, scale, zero_point, plugin=path)

    @property
    def name(self) -> str:
        return str(self._handle.name())

    def convert(self, frames: Mapping[str, npt.ArrayLike | None]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
        """``{camera name: frame}`` (missing cameras allowed) -> (tensor [V, 3, H, W] int8, mask [V, H, W] uint8)."""
        if not isinstance(frames, Mapping):
            raise InputError(f"frames must be a mapping {{camera name: frame}} (the rig's cameras are "
                             f"{sorted(self._cameras)}), got {type(frames).__name__}")
        checked: dict[str, npt.NDArray[np.uint8] | None] = {}
        for name, frame in frames.items():
            cam = self._cameras.get(name)
            if cam is None:
                raise InputError(f"frame for unknown camera '{name}'; the rig has {sorted(self._cameras)}")
            if frame is None:
                checked[name] = None
                continue
            a = np.asarray(frame)
            if a.dtype != np.uint8:
                raise InputError(f"camera '{name}': frames must be uint8, got {a.dtype}")
            shape_of = FRAME_SHAPES.get(cam.pixel_format)
            if cam.pixel_format == "yuyv" and a.shape == (cam.height, cam.width, 2):
                a = np.ascontiguousarray(a).reshape(cam.height, 2 * cam.width)   # OpenCV's layout, the same bytes
            if shape_of is not None and a.shape != shape_of(cam.width, cam.height):
                raise InputError(f"camera '{name}': a {cam.pixel_format} frame of {cam.width}x{cam.height} has shape "
                                 f"{list(shape_of(cam.width, cam.height))}, got {list(a.shape)}")
            checked[name] = np.ascontiguousarray(a)
        tensor, mask = self._handle.convert(checked)
        return tensor, mask
