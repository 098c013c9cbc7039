"""wayvert.calibration: a trained PyTorch student -> a calibrated int8 wayvert engine (installed as
``wayvert.calibration``; needs the ``train`` extra).

* ``lower`` — torch.export graph -> fused wayvert layers (fold constants and batch norm, fuse residual adds and
  ReLU/ReLU6, decide where float stays) -> EngineBuilder graph; ``LoweringError`` names what cannot lower.
* ``calibrators`` — min-max, percentile, entropy (KL) and MSE-optimal activation thresholds.
* ``compile_model`` / ``CompileRun`` — a user's ONNX or ``.pt2`` model -> an engine (``wayvert compile``).
* ``lower_student`` / ``write_engine`` / ``run_engine`` / ``layer_sqnr`` — the API; docs/calibration.md.
"""
import importlib
from typing import Any

# Lazy: ``wayvert calibrate --help`` (and so ``wayvert --help``) imports calibration.cli, which must not pull in
# PyTorch; the names below load their module on first use.
_EXPORTS = {
    "METHODS": ".calibrators", "QuantParams": ".calibrators", "calibrate": ".calibrators",
    "run_engine": ".engine_io", "write_engine": ".engine_io",
    "Graph": ".lower", "LoweringError": ".lower", "emit_engine": ".lower", "lower_exported": ".lower",
    "CompileRun": ".compile", "compile_model": ".compile", "CalibrationDataError": ".compile",
    "layer_sqnr": ".sqnr", "sqnr_db": ".sqnr", "LoweringReport": ".student", "lower_student": ".student",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
