"""The same student through ONNX Runtime, on the same calibration and held-out frames as the wayvert engine:
fp32, int8 static QDQ as ONNX Runtime quantizes by default, and int8 QDQ with the float tail the wayvert engine
keeps (ego/command path and output post-processing in float). Open-loop figures and SQNR against fp32 torch."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

import torch
from torch.utils.data import Dataset


def onnxruntime_rows(model: torch.nn.Module, calibration_batches: Sequence[Any], held_out: Dataset,
                     sqnr_batches: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """{"onnxruntime fp32" | "onnxruntime int8 (QDQ)" | "onnxruntime int8 (QDQ, float tail)": figures}."""
    from .onnx_peer import evaluate_onnx_open_loop, export_onnx, quantize_onnx_static, sqnr_vs_torch

    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "student_fp32.onnx"
        export_onnx(model, fp32, calibration_batches[0], dynamic_batch=True)
        variants = [("onnxruntime fp32", fp32, None)]
        for name, tail in (("onnxruntime int8 (QDQ)", False), ("onnxruntime int8 (QDQ, float tail)", True)):
            path = Path(tmp) / f"student_int8_{int(tail)}.onnx"
            summary = quantize_onnx_static(fp32, path, calibration_batches, "minmax", float_tail=tail)
            variants.append((name, path, summary))
        for name, path, summary in variants:
            r = evaluate_onnx_open_loop(path, held_out)
            r["sqnr_db"] = sqnr_vs_torch(path, model, sqnr_batches)
            if summary is not None:
                r["quantization"] = {k: v for k, v in summary.items() if isinstance(v, (int, float, str, bool))}
            rows[name] = r
    return rows
