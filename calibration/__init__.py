"""wayvert.calibration: a trained PyTorch student -> a calibrated int8 wayvert engine (installed as
``wayvert.calibration``; needs the ``train`` extra).

* ``lower`` — torch.export graph -> fused wayvert layers (fold constants and batch norm, fuse residual adds and
  ReLU/ReLU6, decide where float stays) -> EngineBuilder graph; ``LoweringError`` names what cannot lower.
* ``calibrators`` — min-max, percentile, entropy (KL) and MSE-optimal activation thresholds.
* ``lower_student`` / ``write_engine`` / ``run_engine`` / ``layer_sqnr`` — the API; docs/calibration.md.
"""
from .calibrators import METHODS, QuantParams, calibrate
from .engine_io import run_engine, write_engine
from .lower import Graph, LoweringError, emit_engine, lower_exported
from .sqnr import layer_sqnr, sqnr_db
from .student import LoweringReport, lower_student

__all__ = ["METHODS", "Graph", "LoweringError", "LoweringReport", "QuantParams", "calibrate", "emit_engine",
           "layer_sqnr", "lower_exported", "lower_student", "run_engine", "sqnr_db", "write_engine"]
