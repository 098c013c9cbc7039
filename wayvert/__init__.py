"""wayvert: embedded inference runtime for int8 end-to-end driving networks (runtime needs numpy only)."""

from __future__ import annotations

__version__ = "0.1.0"


def _check_core() -> None:
    """Fail with what to do when the compiled core is missing: typically Python was started in the repository's
    root, where the source folder ``wayvert/`` shadows the installed package (numpy says the same)."""
    import glob
    import os

    try:
        from wayvert import _core  # noqa: F401
    except ImportError as exc:
        here = os.path.dirname(os.path.abspath(__file__))
        if any(not p.endswith(".pyi") for p in glob.glob(os.path.join(here, "_core.*"))):
            raise                                   # the extension is there but does not load: a real error
        raise ImportError(
            f"wayvert's compiled core (wayvert._core) is not in {here}: this looks like the source tree, which "
            "shadows the installed package when Python starts in the repository's root. Start Python from "
            "another folder (the package is installed by `make demo`, `make test` or `pip install .`)."
        ) from exc


_check_core()

from wayvert.errors import (  # noqa: E402
    BuildError,
    DeviceError,
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
    """Instruction set the CPU kernels dispatched to on this machine, e.g. "avx512vnni", "avx2", "neon", "scalar"."""
    from wayvert import _core

    return str(_core.cpu_isa())


def cuda_device_count() -> int:
    """CUDA devices this build can run sessions on: 0 without an NVIDIA driver or device, or in a build without
    CUDA (``cuda_built()``)."""
    from wayvert import _core

    return int(_core.cuda_device_count())


def cuda_built() -> bool:
    """Whether this build of wayvert has the CUDA executor (it is compiled wherever nvcc was found)."""
    from wayvert import _core

    return bool(_core.cuda_built())


def reference_engine_path() -> str:
    """The shipped reference engine (``wayvert/data/reference.wvrt``): a default run's student, entropy-calibrated
    int8, gated for orin-class-75w, chosen closed loop by ``make engine`` (docs/calibration.md)."""
    import os

    return os.path.join(os.path.dirname(__file__), "data", "reference.wvrt")


def cmake_dir() -> str:
    """Folder holding wayvertConfig.cmake, for ``cmake -Dwayvert_DIR=...`` (C and C++ integrators)."""
    import os

    return os.path.join(os.path.dirname(__file__), "lib", "cmake", "wayvert")


__all__ = [
    "BuildError", "DeviceError", "EgoState", "Engine", "EngineFormatError", "EngineIOError", "InputError", "InternalError",
    "InvalidArgumentError", "Limits", "OpTime", "Reason", "Rig", "RigError", "SensorAdapter", "Session", "TensorSpec",
    "UnsupportedEngineError", "VehicleProfile", "Verdict", "Verifier", "WayvertError", "cmake_dir",
    "cpu_isa", "cuda_built", "cuda_device_count", "reference_engine_path", "__version__",
]
