"""ONNX Runtime static quantization of the exported student, on the same calibration batches as the engine.

Settings are DESIGN.md section 5's for AVX2 without VNNI: QDQ format, u8 activations (per tensor, asymmetric),
s8 weights per output channel with ``reduce_range`` (7-bit weights: u8 x s8 products summed in pairs must fit
the int16 of ``vpmaddubsw``).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.calibrate import create_calibrator
from onnxruntime.quantization.quantize import save_tensors_data
from onnxruntime.quantization.shape_inference import quant_pre_process

from ..batches import model_inputs
from .export import INPUT_NAMES

#: calibrate_method name -> ONNX Runtime's calibrator.
CALIBRATE_METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                     "percentile": CalibrationMethod.Percentile}


def feeds_of(batch: Any) -> dict[str, np.ndarray]:
    """One batch (``(image, ego, command)`` or an EpisodeDataset dict) as ONNX feeds, float32 numpy."""
    return {n: np.ascontiguousarray(t.numpy(), dtype=np.float32) for n, t in zip(INPUT_NAMES, model_inputs(batch))}


class BatchReader(CalibrationDataReader):
    """The calibration batches as ONNX Runtime feeds ``{"image", "ego", "command"}``, in order: each batch as
    given, or each of its samples as a batch of 1 with ``per_sample`` (for a model exported at batch 1).

    Any iterable is accepted; a re-iterable one (a list, a dataset loader) can be ``rewind``-ed."""

    def __init__(self, batches: Iterable[Any], per_sample: bool = False) -> None:
        self.batches = batches
        self.per_sample = per_sample
        self._iterator: Iterator[dict[str, np.ndarray]] | None = None

    def _feeds(self) -> Iterator[dict[str, np.ndarray]]:
        for batch in self.batches:
            feeds = feeds_of(batch)
            if not self.per_sample:
                yield feeds
                continue
            for i in range(feeds[INPUT_NAMES[0]].shape[0]):
                yield {n: a[i:i + 1] for n, a in feeds.items()}

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._iterator is None:
            self._iterator = self._feeds()
        return next(self._iterator, None)

    def rewind(self) -> None:
        self._iterator = None


def _has_fixed_batch(model: onnx.ModelProto) -> bool:
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    return dim.HasField("dim_value")


COMPUTE_OPS = ("Conv", "Gemm", "MatMul")


def float_tail_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes the wayvert engine keeps float: those computed from ego/command alone (no path from
    ``image``) and the outputs' element-wise post-processing (nodes from which no Conv/Gemm/MatMul is reached:
    residual scales, the trajectory prior add, ReLU6 x unit of the lead distance)."""
    from_image = {"image"}
    for node in model.graph.node:   # ONNX nodes are topologically sorted
        if from_image.intersection(node.input):
            from_image.update(node.output)
    feeds_compute: set[str] = set()
    for node in reversed(model.graph.node):
        if node.op_type in COMPUTE_OPS or feeds_compute.intersection(node.output):
            feeds_compute.update(node.input)
    return [n.name for n in model.graph.node
            if not from_image.intersection(n.input)
            or (n.op_type not in COMPUTE_OPS and not feeds_compute.intersection(n.output))]


def _calibration_cache(model_path: str, reader: BatchReader, method: str, options: dict[str, Any], tmp: str) -> str:
    """Run ONNX Runtime's calibrator with ``options`` (num_bins, num_quantized_bins, percentile, symmetric, ...:
    create_calibrator's keys, which quantize_static does not pass on) and save its ranges as a cache file."""
    calibrator = create_calibrator(model_path, augmented_model_path=os.path.join(tmp, "augmented.onnx"),
                                   calibrate_method=CALIBRATE_METHODS[method], extra_options=dict(options))
    calibrator.collect_data(reader)
    path = os.path.join(tmp, "calibration.json")
    save_tensors_data(calibrator.compute_data(), path)
    return path


def quantize_onnx_static(fp32_path: str | os.PathLike[str], int8_path: str | os.PathLike[str],
                         calibration_batches: Iterable[Any], calibrate_method: str = "minmax", *,
                         preprocess: bool = True, float_tail: bool = False, nodes_to_exclude: Sequence[str] = (),
                         calibrator_options: dict[str, Any] | None = None,
                         extra_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Quantize the fp32 ONNX student at ``fp32_path`` into a QDQ model at ``int8_path``, with activation ranges
    from ``calibrate_method`` ("minmax", "entropy", "percentile") over ``calibration_batches`` (see BatchReader);
    returns a summary (method, samples, whether pre-processing ran, QDQ node counts).

    ``preprocess`` runs ``quant_pre_process`` first (ORT's graph optimization, then shape inference) as ONNX
    Runtime recommends. ``float_tail`` keeps float what the wayvert engine keeps float (``float_tail_nodes``:
    the ego/command path and the outputs' post-processing); ``nodes_to_exclude`` stay float too.
    ``calibrator_options`` go to ONNX Runtime's calibrator itself, which quantize_static cannot reach: its
    entropy calibrator builds one 128-bin histogram of all the data and searches it for 128 levels, so the only
    candidate is the whole range and "entropy" equals min-max; ``{"num_bins": 2048}`` makes it search.
    ``extra_options`` go to ``quantize_static`` as is.
    """
    if calibrate_method not in CALIBRATE_METHODS:
        raise ValueError(f"calibrate_method must be one of {sorted(CALIBRATE_METHODS)}, got {calibrate_method!r}")
    fp32_path, int8_path = os.fspath(fp32_path), os.fspath(int8_path)
    per_sample = _has_fixed_batch(onnx.load(fp32_path, load_external_data=False))
    batches = calibration_batches if isinstance(calibration_batches, Sequence) else list(calibration_batches)
    if not batches:
        raise ValueError("calibration needs at least one batch")
    samples = sum(feeds_of(b)[INPUT_NAMES[0]].shape[0] for b in batches)
    with tempfile.TemporaryDirectory(prefix="wayvert-ort-quant-") as tmp:
        source = fp32_path
        if preprocess:
            source = os.path.join(tmp, "preprocessed.onnx")
            quant_pre_process(fp32_path, source)
        exclude = list(nodes_to_exclude)
        if float_tail:
            exclude += [n for n in float_tail_nodes(onnx.load(source)) if n not in exclude]
        reader = BatchReader(batches, per_sample=per_sample)
        cache = None
        if calibrator_options:
            cache = _calibration_cache(source, reader, calibrate_method, calibrator_options, tmp)
            reader = None
        quantize_static(source, int8_path, reader,
                        quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CALIBRATE_METHODS[calibrate_method],
                        nodes_to_exclude=exclude or None, extra_options=dict(extra_options or {}),
                        calibration_cache_path=cache)
    proto = onnx.load(int8_path)
    ops = [n.op_type for n in proto.graph.node]
    summary = {"method": calibrate_method, "samples": samples, "preprocessed": preprocess,
               "quantize_linear": ops.count("QuantizeLinear"), "dequantize_linear": ops.count("DequantizeLinear"),
               "float_tail": float_tail, "calibrator_options": dict(calibrator_options or {}), "excluded": exclude}
    onnx.helper.set_model_props(proto, {**{p.key: p.value for p in proto.metadata_props},
                                        "wayvert.calibration": f"onnxruntime {calibrate_method}, {samples} samples"})
    onnx.save(proto, int8_path)
    return summary


__all__ = ["CALIBRATE_METHODS", "COMPUTE_OPS", "BatchReader", "feeds_of", "float_tail_nodes", "quantize_onnx_static"]
