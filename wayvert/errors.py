"""The one error hierarchy of wayvert. C API status codes map onto these classes one to one."""

from __future__ import annotations


class WayvertError(Exception):
    """Base of every error wayvert raises on purpose."""


class EngineFormatError(WayvertError):
    """The engine bytes are malformed: bad magic, bounds, checksum, graph structure or shapes."""


class UnsupportedEngineError(EngineFormatError):
    """The engine is well-formed but this runtime cannot run it (newer major version, unknown op)."""


class EngineIOError(WayvertError, OSError):
    """The engine file cannot be opened, read or mapped."""


class InputError(WayvertError, ValueError):
    """An input's name, dtype, shape or values (NaN/inf) are not acceptable."""


class InvalidArgumentError(WayvertError, ValueError):
    """An argument is out of range (an index, a NULL handle at the C level)."""


class BuildError(WayvertError, ValueError):
    """An engine graph being built is inconsistent."""


class RigError(WayvertError, ValueError):
    """A rig file or rig dict is malformed: unreadable file, bad JSON, or a field that breaks docs/rig-file.md."""


class DeviceError(WayvertError):
    """The requested accelerator is missing or failed: no CUDA driver or device (or a build without CUDA), device
    memory exhausted, a kernel launch or copy failed. The message names CUDA."""


class InternalError(WayvertError):
    """A bug or resource failure inside the runtime (out of memory included)."""


#: wv_status code -> exception class (see cpp/include/wayvert/wayvert.h).
BY_STATUS: dict[int, type[WayvertError]] = {
    1: InvalidArgumentError,
    2: EngineIOError,
    3: EngineFormatError,
    4: UnsupportedEngineError,
    5: InputError,
    6: InternalError,
    7: InternalError,
    8: DeviceError,
}
