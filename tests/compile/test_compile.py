"""``wayvert compile`` end to end on models an integrator brings: ONNX and .pt2, named inputs, dict outputs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wayvert
from wayvert.calibration.compile import CompileRun, compile_model

#: What these small nets reach (40-45 dB measured); the floor asserts a working int8 path, not luck.
SQNR_FLOOR_DB = 30.0


def _compile(byom: dict[str, Path], name: str, kind: str, tmp_path: Path, **kw: object) -> dict:
    run = CompileRun(str(byom[f"{name}.{kind}"]), str(tmp_path / f"{name}.wvrt"), str(byom[f"{name}.npz"]),
                     host_runs=3, **kw)  # type: ignore[arg-type]
    return compile_model(run)


@pytest.mark.parametrize("kind", ["onnx", "dynamo.onnx", "pt2"])
@pytest.mark.parametrize("name", ["ResNetTiny", "FusionNet"])
def test_compiles_and_keeps_the_models_interface(byom, tmp_path, name, kind):
    r = _compile(byom, name, kind, tmp_path)
    engine = wayvert.Engine.load(r["output"])
    want_inputs = {"ResNetTiny": [("image", (1, 3, 32, 32))], "FusionNet": [("cam", (1, 3, 24, 24)), ("state", (1, 6))]}
    assert [(s.name, s.shape) for s in engine.inputs] == want_inputs[name]
    assert all(s.dtype == "float32" for s in engine.inputs)     # float inputs stay float; a quantize op follows
    from wayvert.calibration.compile import open_model

    outputs = open_model(byom[f"{name}.{kind}"]).outputs
    if kind != "dynamo.onnx":   # the dynamo exporter names outputs itself
        assert outputs == {"ResNetTiny": ["logits"] if kind == "onnx" else ["output0"], "FusionNet": ["steer", "speed"]}[name]
    assert [s.name for s in engine.outputs] == outputs
    assert set(r["accuracy"]["sqnr_db"]) == set(outputs)
    assert min(r["accuracy"]["sqnr_db"].values()) >= SQNR_FLOOR_DB, r["accuracy"]
    assert r["fast_path"]["int8_mac_share"] == 1.0 and r["fast_path"]["off_fast_path"] == []
    meta = engine.meta
    assert meta["source"]["kind"] == kind.split(".")[-1] and meta["accuracy"]["passed"] is True
    assert meta["quantization"]["calibration"]["samples"] == 32     # 40 samples, the last 20% held out
    report = json.loads((Path(r["report_dir"]) / "report.json").read_text())
    assert report["layers"] and all("sqnr_db" in row for row in report["layers"])
    assert "Fast path" in (Path(r["report_dir"]) / "report.md").read_text()


def test_onnx_and_pt2_lower_to_the_same_engine(byom, tmp_path):
    """The two readers meet in one graph: the engines agree to float rounding (the ONNX exporter folds batch norm
    in float32 itself, the lowering in float64, so scales may differ in the last bit)."""
    a = _compile(byom, "ResNetTiny", "onnx", tmp_path / "a")
    b = _compile(byom, "ResNetTiny", "pt2", tmp_path / "b")
    x = {"image": np.random.default_rng(5).normal(size=(1, 3, 32, 32)).astype(np.float32)}
    ya = wayvert.Engine.load(a["output"]).session().run(x)["logits"]
    yb = wayvert.Engine.load(b["output"]).session().run(x)["output0"]
    np.testing.assert_allclose(ya, yb, rtol=1e-4, atol=1e-4 * float(np.abs(ya).max()))


def test_keep_float_moves_a_layer_off_the_int8_kernels_and_says_so(byom, tmp_path):
    r = _compile(byom, "FusionNet", "pt2", tmp_path, keep_float=["trunk.*"])
    off = [o["name"] for o in r["fast_path"]["off_fast_path"]]
    assert off == ["trunk.0"], off
    assert 0.0 < r["fast_path"]["int8_mac_share"] < 1.0
    assert wayvert.Engine.load(r["output"]).meta["quantization"]["float_layers"] == ["trunk.0"]
    from wayvert.inspect import describe_engine

    text = describe_engine(r["output"])
    assert "on the int8 kernels" in text and "off    trunk.0 (float linear" in text


def test_keep_float_pattern_that_names_nothing_is_an_error(byom, tmp_path):  # errors.md K08
    from wayvert.calibration.lower import LoweringError

    with pytest.raises(LoweringError, match="'no_such_layer' names no layer"):
        _compile(byom, "FusionNet", "onnx", tmp_path, keep_float=["no_such_layer"])
    assert not (tmp_path / "FusionNet.wvrt").exists()


def test_sqnr_gate_refuses_and_the_override_is_recorded(byom, tmp_path):  # errors.md K07
    from wayvert.calibration.pipeline import EngineRefused

    with pytest.raises(EngineRefused, match="SQNR .* < floor 99.0 dB"):
        _compile(byom, "ResNetTiny", "onnx", tmp_path, min_sqnr_db=99.0)
    assert not (tmp_path / "ResNetTiny.wvrt").exists()
    report = json.loads((tmp_path / "ResNetTiny_report" / "report.json").read_text())
    assert report["refused"] and "engine_bytes" not in report
    r = _compile(byom, "ResNetTiny", "onnx", tmp_path, min_sqnr_db=99.0, allow_low_sqnr=True)
    meta = wayvert.Engine.load(r["output"]).meta
    assert meta["accuracy"]["passed"] is False and meta["accuracy"]["allow_low_sqnr"] is True


@pytest.mark.parametrize("kind", ["onnx", "pt2"])
def test_uint8_input_stays_uint8_with_the_normalisation_in_its_table(byom, tmp_path, kind):
    from wayvert.graph import engine_ops

    r = _compile(byom, "BytesNet", kind, tmp_path)
    engine = wayvert.Engine.load(r["output"])
    assert [(s.name, s.dtype, s.shape) for s in engine.inputs] == [("pixels", "uint8", (1, 3, 32, 32))]
    plan = [op.op_type for op in engine_ops(engine)]
    assert plan[:2] == ["quantize", "conv2d"] and plan.count("quantize") == 1 and "dequantize" not in plan[:-1]
    assert min(r["accuracy"]["sqnr_db"].values()) >= SQNR_FLOOR_DB, r["accuracy"]
    assert any("normalisation" in n for n in r["notes"])


def test_a_float_input_becomes_int8_when_asked(byom, tmp_path):  # errors.md K10
    r = _compile(byom, "FusionNet", "onnx", tmp_path, int8_inputs=["cam"])
    engine = wayvert.Engine.load(r["output"])
    cam = next(s for s in engine.inputs if s.name == "cam")
    assert cam.dtype == "int8" and cam.scale > 0
    assert next(s for s in engine.inputs if s.name == "state").dtype == "float32"
    assert min(r["accuracy"]["sqnr_db"].values()) >= SQNR_FLOOR_DB
    with pytest.raises(wayvert.InputError, match="not a model input"):
        _compile(byom, "FusionNet", "onnx", tmp_path, int8_inputs=["camera"])
