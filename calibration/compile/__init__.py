"""``wayvert compile``: bring your own model (ONNX or ``torch.export``) to a calibrated int8 engine
(docs/compile.md). Imports are lazy: ``wayvert compile --help`` needs no PyTorch."""
import importlib
from typing import Any

from .gates import DEFAULT_MIN_SQNR_DB

_EXPORTS = {"CalibrationDataError": ".data", "load_samples": ".data", "CompileRun": ".pipeline",
            "compile_model": ".pipeline", "SourceModel": ".source", "open_model": ".source"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_MIN_SQNR_DB", *sorted(_EXPORTS)]
