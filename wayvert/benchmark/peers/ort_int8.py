"""An engine's float twin quantized by ONNX Runtime: static QDQ, per-channel int8 weights, uint8 activations,
``reduce_range`` (the AVX2-without-VNNI settings of ``calibration.onnx_peer``), min-max over the given feeds."""
from __future__ import annotations

import logging
import os
import tempfile
from typing import Sequence

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static


class _Feeds(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime has no type information
    def __init__(self, feeds: Sequence[dict[str, np.ndarray]]) -> None:
        self.feeds = list(feeds)
        self.i = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.i >= len(self.feeds):
            return None
        self.i += 1
        return {k: np.ascontiguousarray(v, np.float32) for k, v in self.feeds[self.i - 1].items()}

    def rewind(self) -> None:
        self.i = 0


def quantize_qdq(model: onnx.ModelProto, calibration: Sequence[dict[str, np.ndarray]],
                 out_path: str | os.PathLike[str]) -> str:
    """Write the int8 QDQ model calibrated on ``calibration`` (float feeds) to ``out_path``; returns the path."""
    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its "consider pre-processing" advice, printed on every call
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = os.path.join(tmp, "fp32.onnx")
            onnx.save(model, fp32)
            quantize_static(fp32, os.fspath(out_path), _Feeds(calibration), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                            reduce_range=True, calibrate_method=CalibrationMethod.MinMax)
    finally:
        logging.getLogger().setLevel(quiet)
    return os.fspath(out_path)
