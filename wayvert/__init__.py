"""wayvert: embedded inference runtime for int8 end-to-end driving networks (runtime needs numpy only)."""

from __future__ import annotations

__version__ = "0.1.0"

from wayvert.errors import (  # noqa: E402
    BuildError,
    EngineFormatError,
    EngineIOError,
    InputError,
    InternalError,
    InvalidArgumentError,
    RigError,
    UnsupportedEngineError,
    WayvertError,
)
from wayvert.engine import Engine, OpTime, Session, TensorSpec  # noqa: E402
from wayvert.safety import EgoState, Limits, Reason, VehicleProfile, Verdict, Verifier  # noqa: E402
from wayvert.sensors.adapter import SensorAdapter  # noqa: E402
from wayvert.sensors.rig import Rig  # noqa: E402


def cpu_isa() -> str:
    """Instruction set the CPU kernels dispatched to on this machine: "avx2", "neon" or "scalar"."""
    from wayvert import _core

    return str(_core.cpu_isa())


def reference_engine_path() -> str:
    """The shipped reference engine (``wayvert/data/reference.wvrt``): the default run's student, entropy-calibrated
    int8, gated for orin-class-75w (``make engine`` rebuilds it; docs/calibration.md)."""
    import os

    return os.path.join(os.path.dirname(__file__), "data", "reference.wvrt")


def cmake_dir() -> str:
    """Folder holding wayvertConfig.cmake, for ``cmake -Dwayvert_DIR=...`` (C and C++ integrators)."""
    import os

    return os.path.join(os.path.dirname(__file__), "lib", "cmake", "wayvert")


__all__ = [
    "BuildError", "EgoState", "Engine", "EngineFormatError", "EngineIOError", "InputError", "InternalError",
    "InvalidArgumentError", "Limits", "OpTime", "Reason", "Rig", "RigError", "SensorAdapter", "Session", "TensorSpec",
    "UnsupportedEngineError", "VehicleProfile", "Verdict", "Verifier", "WayvertError", "cmake_dir",
    "cpu_isa", "reference_engine_path", "__version__",
]
