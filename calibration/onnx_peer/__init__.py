"""The ONNX Runtime peer: the same student, exported to ONNX and quantized by ONNX Runtime, measured on the same
data as the wayvert engine (DESIGN.md section 5: the peer the engine is benchmarked and accuracy-gated against).

* ``export_onnx`` — the student as an fp32 ONNX model with the engine's inputs (``image`` float normalised
  [B, V, 3, H, W], ``ego`` [B, 2], ``command`` [B, 4]) and the model's output names; batch 1, or a dynamic batch.
* ``quantize_onnx_static`` — ONNX Runtime static QDQ quantization (u8 activations, s8 per-channel 7-bit weights)
  on the same calibration batches as ``lower_student`` (``BatchReader``).
* ``OrtRunner`` — one ONNX Runtime session (threads, sequential, all graph optimizations): batch in, dict out.
* ``evaluate_onnx_open_loop`` / ``sqnr_vs_torch`` — the open-loop figures and per-output SQNR against the model.

Needs the ``bench`` extra (onnx, onnxruntime) besides ``train``; the exporter also needs onnxscript.
"""
from .accuracy import evaluate_onnx_open_loop, sqnr_vs_torch
from .export import INPUT_NAMES, OUTPUT_NAMES, export_onnx
from .quantize import CALIBRATE_METHODS, BatchReader, quantize_onnx_static
from .runner import OrtRunner

__all__ = ["CALIBRATE_METHODS", "INPUT_NAMES", "OUTPUT_NAMES", "BatchReader", "OrtRunner", "evaluate_onnx_open_loop",
           "export_onnx", "quantize_onnx_static", "sqnr_vs_torch"]
