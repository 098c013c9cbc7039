"""Sensor adapters: rig files (``wayvert.sensors.rig``, spec in docs/rig-file.md) and the adapter that maps a
rig's frames onto a network's canonical input (``wayvert.sensors.adapter``). numpy only.

The rig API is pure Python; ``SensorAdapter`` (which needs the compiled core) is imported on first use.
"""

from __future__ import annotations

from typing import Any

from wayvert.sensors.rig import (
    BUILTIN_PIXEL_FORMATS,
    Camera,
    CameraModel,
    Extrinsics,
    Normalization,
    Rig,
    RigError,
)

def shipped_rig(name: str) -> Rig:
    """One of the rigs shipped with wayvert (``rigs/NAME.json``), e.g. ``shipped_rig("canonical_3cam")``."""
    import os

    here = os.path.join(os.path.dirname(os.path.dirname(__file__)), "rigs", f"{name}.json")
    source_tree = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "rigs", f"{name}.json")
    return Rig.load(here if os.path.exists(here) else source_tree)


_LAZY = {"SensorAdapter": "wayvert.sensors.adapter", "FRAME_SHAPES": "wayvert.sensors.pixel_formats"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wayvert.sensors' has no attribute {name!r}")


__all__ = ["BUILTIN_PIXEL_FORMATS", "Camera", "CameraModel", "Extrinsics", "FRAME_SHAPES", "Normalization", "Rig",
           "RigError", "SensorAdapter", "shipped_rig"]
