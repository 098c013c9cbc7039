"""Failure is a report, not a traceback: unsupported nodes listed at once, calibration data checked against the
model's inputs, exit codes of ``wayvert compile``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import byom_models as M
from wayvert.calibration.compile import CalibrationDataError, CompileRun, compile_model
from wayvert.calibration.lower import LoweringError


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("unsupported")
    model = M.seeded(M.Unsupported)
    np.savez(out / "data.npz", image=np.zeros((4, 3, 32, 32), np.float32))
    return {"onnx": M.export_onnx(model, out / "u.onnx"), "pt2": M.export_pt2(model, out / "u.pt2"),
            "npz": out / "data.npz"}


def test_onnx_model_with_unsupported_ops_lists_every_node(unsupported, tmp_path):  # errors.md K01
    out = tmp_path / "u.wvrt"
    with pytest.raises(LoweringError) as e:
        compile_model(CompileRun(str(unsupported["onnx"]), str(out), str(unsupported["npz"])))
    ops = sorted(p.split(" node ")[0] for p in e.value.problems)
    assert ops == ["CumSum", "Sin", "TopK"], e.value.problems
    assert all("(#" in p and "reads" in p for p in e.value.problems)   # where in the graph
    assert not out.exists() and not (tmp_path / "u_report").exists()


def test_pt2_model_with_unsupported_ops_lists_every_node(unsupported, tmp_path):
    with pytest.raises(LoweringError) as e:
        compile_model(CompileRun(str(unsupported["pt2"]), str(tmp_path / "u.wvrt"), str(unsupported["npz"])))
    text = "\n".join(e.value.problems)
    for op in ("aten.sin", "aten.cumsum", "aten.topk"):
        assert op in text
    assert "byom_models.py" in text   # the user's source line


@pytest.mark.parametrize("arrays, complaint", [  # errors.md K02 K03 K04 K05 K06
    ({}, "input 'image' float32 [1, 3, 32, 32] has no array"),
    ({"image": np.zeros((4, 3, 31, 32), np.float32)}, "array shape [4, 3, 31, 32]"),
    ({"image": np.zeros((4, 3, 32, 32), np.float32), "img": np.zeros(4)}, "array 'img' is not a model input"),
    ({"image": np.full((4, 3, 32, 32), np.nan, np.float32)}, "NaN or inf"),
    ({"image": np.zeros((4, 3, 32, 32), np.int64)}, "input 'image' is float32; the array is int64"),
])
def test_calibration_file_that_does_not_match_says_which(byom, tmp_path, arrays, complaint):
    npz = tmp_path / "bad.npz"
    np.savez(npz, **arrays)
    with pytest.raises(CalibrationDataError) as e:
        compile_model(CompileRun(str(byom["ResNetTiny.onnx"]), str(tmp_path / "r.wvrt"), str(npz)))
    assert any(complaint in p for p in e.value.problems), e.value.problems
    assert not (tmp_path / "r.wvrt").exists()


def test_samples_along_the_batch_axis_or_a_new_axis_are_the_same(byom):
    from wayvert.calibration.compile import load_samples, open_model

    inputs = open_model(byom["FusionNet.onnx"]).inputs
    a = load_samples(byom["FusionNet.npz"], inputs)          # [S, 3, 24, 24]: samples along the batch axis
    with np.load(byom["FusionNet.npz"]) as z:
        stacked = {k: z[k][:, None] for k in z.files}        # [S, 1, 3, 24, 24]
    path = Path(str(byom["FusionNet.npz"]).replace(".npz", "_stacked.npz"))
    np.savez(path, **stacked)
    b = load_samples(path, inputs)
    assert len(a) == len(b) == 40
    for x, y in zip(a, b):
        assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # not from the repository root, whose source tree would shadow the installed package
    return subprocess.run([sys.executable, "-m", "wayvert.cli", "compile", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def test_cli_exit_codes(unsupported, byom, tmp_path):
    r = _cli(str(unsupported["onnx"]), "-o", str(tmp_path / "u.wvrt"), "--calibration", str(unsupported["npz"]), cwd=tmp_path)
    assert r.returncode == 7, r.stdout + r.stderr
    assert "3 node(s) of the ONNX model cannot be lowered" in r.stdout and "Traceback" not in r.stdout + r.stderr
    r = _cli(str(byom["ResNetTiny.onnx"]), "-o", str(tmp_path / "r.wvrt"), "--calibration", str(byom["FusionNet.npz"]), cwd=tmp_path)
    assert r.returncode == 4 and "has no array" in r.stdout, r.stdout + r.stderr
    r = _cli(str(byom["ResNetTiny.onnx"]), "-o", str(tmp_path / "r.wvrt"), "--calibration", str(byom["ResNetTiny.npz"]),
             "--min-sqnr", "99", "--quiet", cwd=tmp_path)
    assert r.returncode == 6 and "engine refused" in r.stdout and not (tmp_path / "r.wvrt").exists()
    r = _cli(str(byom["ResNetTiny.onnx"]), "-o", str(tmp_path / "r.wvrt"), "--calibration", str(byom["ResNetTiny.npz"]),
             "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "r.wvrt").is_file() and '"int8_mac_share": 1.0' in r.stdout
    r = _cli(str(tmp_path / "nothing.onnx"), "-o", str(tmp_path / "n.wvrt"), "--calibration", str(byom["ResNetTiny.npz"]), cwd=tmp_path)
    assert r.returncode == 4 and "no such model file" in r.stdout  # errors.md K09
