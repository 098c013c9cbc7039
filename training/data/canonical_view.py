"""``CanonicalView``: a frame set of any rig as the canonical rig's RGB images, uint8 [V, 3, H, W].

For an episode recorded with the canonical rig this only stacks the frames (camera order of the canonical rig).
For any other rig it runs the sensor adapter (``wayvert.SensorAdapter``, the same remap as on the vehicle) with
the normalisation switched off and the quantization chosen so that its int8 output is exactly RGB - 128
(scale 1/255, zero point -128); adding 128 gives the resampled uint8 RGB. Canonical pixels no source camera
sees (mask 0) come out black (0, 0, 0).
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from wayvert import schema
from wayvert.sensors import shipped_rig
from wayvert.sensors.rig import Rig


def _same_cameras(rig: Rig, canonical: Rig) -> bool:
    mine = {c.name: c for c in rig.cameras}
    return all(mine.get(c.name) == c for c in canonical.cameras) and all(c.pixel_format == "rgb8"
                                                                          for c in canonical.cameras)


class CanonicalView:
    """Maps ``{camera: frame}`` of ``rig`` to (images uint8 [V, 3, H, W], valid uint8 [V, H, W])."""

    def __init__(self, rig: Rig, canonical: Rig | None = None):
        self.rig = rig
        self.canonical = canonical if canonical is not None else shipped_rig(schema.CANONICAL_RIG)
        self.names = tuple(c.name for c in self.canonical.cameras)
        self.passthrough = _same_cameras(rig, self.canonical)
        self._adapter = None

    def __reduce__(self):
        # The adapter's native handle stays in its process; a copy builds its own on first use.
        return (CanonicalView, (self.rig, self.canonical))

    def _adapter_for(self):
        if self._adapter is None:
            from wayvert.sensors.adapter import SensorAdapter
            plain = dataclasses.replace(self.canonical, normalization=None)
            self._adapter = SensorAdapter(self.rig, plain, scale=1.0 / 255.0, zero_point=-128)
        return self._adapter

    def __call__(self, frames: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if self.passthrough:
            images = np.stack([np.asarray(frames[n]).transpose(2, 0, 1) for n in self.names])
            c = self.canonical.cameras[0]
            return images, np.ones((len(self.names), c.height, c.width), np.uint8)
        tensor, mask = self._adapter_for().convert(dict(frames))
        return (tensor.astype(np.int16) + 128).astype(np.uint8), mask
