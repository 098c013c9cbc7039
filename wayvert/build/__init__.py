"""Engine writing (numpy only): :class:`EngineBuilder` and the op helpers in :mod:`wayvert.build.ops`."""

from wayvert.build import ops
from wayvert.build.builder import EngineBuilder, Tensor

__all__ = ["EngineBuilder", "Tensor", "ops"]
