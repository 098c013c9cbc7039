"""A QDQ model from ONNX Runtime's static quantizer keeps its own activation scales in the engine."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wayvert
from wayvert.calibration.compile import CompileRun, compile_model

ort_quant = pytest.importorskip("onnxruntime.quantization")


class _Reader(ort_quant.CalibrationDataReader):
    def __init__(self, npz: Path) -> None:
        with np.load(npz) as z:
            self.items = iter([{"image": z["image"][i:i + 1]} for i in range(16)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.items, None)


@pytest.fixture(scope="module")
def qdq_model(byom: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qdq") / "resnet_qdq.onnx"
    ort_quant.quantize_static(str(byom["ResNetTiny.onnx"]), str(out), _Reader(byom["ResNetTiny.npz"]),
                              quant_format=ort_quant.QuantFormat.QDQ, per_channel=True,
                              activation_type=ort_quant.QuantType.QUInt8, weight_type=ort_quant.QuantType.QInt8)
    return out


def _qdq_scales(path: Path) -> dict[str, tuple[float, int]]:
    """(scale, int8 zero point) of every activation QuantizeLinear in the model, by the tensor it quantizes."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = {}
    for n in m.graph.node:
        if n.op_type == "QuantizeLinear" and n.input[0] not in inits:
            z = inits[n.input[2]]
            out[n.input[0]] = (float(inits[n.input[1]]), int(z) - (128 if z.dtype == np.uint8 else 0))
    return out


def test_qdq_model_keeps_its_scales(qdq_model, byom, tmp_path):
    r = compile_model(CompileRun(str(qdq_model), str(tmp_path / "q.wvrt"), str(byom["ResNetTiny.npz"]), host_runs=3))
    given = set(wayvert.Engine.load(r["output"]).meta["quantization"]["given_by_model"])
    assert len(given) >= 6, given          # the input, the convs and adds the passes kept
    engine = wayvert.Engine.load(r["output"])
    from wayvert.graph import engine_ops

    values = {v.name: v for op in engine_ops(engine) for v in op.outputs}
    scales = _qdq_scales(qdq_model)
    matched = 0
    for name in given - {"image"}:
        v = values[name]
        # the given value is the Q's input or what the passes fused it into; its parameters are one of the model's
        assert any(abs(v.scale - s) <= 1e-7 * s and v.zero_point == z for s, z in scales.values()), name
        matched += 1
    assert matched >= 5
    image = next(s for s in engine.inputs if s.name == "image")
    assert image.dtype == "float32"          # the float input stays float; its quantize op uses the model's scale
    q = next(op for op in engine_ops(engine) if op.op_type == "quantize" and op.inputs[0].name == "image")
    s, z = scales["image"]
    assert abs(q.outputs[0].scale - s) <= 1e-7 * s and q.outputs[0].zero_point == z
    # the engine and ONNX Runtime running the QDQ model agree closely: same scales, same rounding rules mostly
    assert r["accuracy"]["sqnr_db"]["logits"] > 30.0, r["accuracy"]
