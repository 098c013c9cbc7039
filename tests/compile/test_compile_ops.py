"""The op coverage of issue 15 through both front doors: a vision transformer block (LayerNorm, attention, GELU,
a position embedding) and a net of the remaining ops (pooling, SE gate, SiLU, resize, split, hardswish, tanh,
softmax), each through ONNX (TorchScript exporter at opsets 17 and 14, torch's default exporter) and .pt2."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import byom_models as M
import wayvert
from wayvert.calibration.compile import CompileRun, compile_model
from wayvert.graph import engine_ops

#: Measured 30-45 dB on these nets; the floors leave room for float-rounding differences between machines.
FLOORS_DB = {"ViTBlock": 25.0, "OpZoo": 25.0}


def _export(model: torch.nn.Module, kind: str, path: Path) -> Path:
    ins = M.example_inputs(model)
    if kind == "pt2":
        return M.export_pt2(model, path)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        if kind == "dynamo":
            torch.onnx.export(model, tuple(ins.values()), str(path), input_names=list(ins), dynamo=True)
        else:
            torch.onnx.export(model, tuple(ins.values()), str(path), input_names=list(ins), dynamo=False,
                              opset_version=int(kind.removeprefix("opset")))
    return path


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo")


@pytest.mark.parametrize("kind", ["opset17", "opset14", "dynamo", "pt2"])
@pytest.mark.parametrize("name", ["ViTBlock", "OpZoo"])
def test_op_coverage_nets_compile_and_match_their_source(zoo, name, kind):
    model = M.seeded(getattr(M, name))
    npz = zoo / f"{name}.npz"
    if not npz.exists():
        np.savez(npz, **M.samples(model, 30))
    suffix = "pt2" if kind == "pt2" else "onnx"
    src = _export(model, kind, zoo / f"{name}_{kind}.{suffix}")
    r = compile_model(CompileRun(str(src), str(zoo / f"{name}_{kind}.wvrt"), str(npz), host_runs=3))
    assert min(r["accuracy"]["sqnr_db"].values()) >= FLOORS_DB[name], r["accuracy"]
    plan = [op.op_type for op in engine_ops(wayvert.Engine.load(r["output"]))]
    if name == "ViTBlock":
        assert plan.count("attention") == 1 and plan.count("layernorm") == 3, plan
        assert "matmul" not in plan and "softmax" not in plan          # the pieces fused into one attention op
        assert any(op == "unary" for op in plan)                       # GELU
        off = {o["op"] for o in r["fast_path"]["off_fast_path"]}
        assert off == {"attention"}                                    # everything else on the int8 kernels
    else:
        for op in ("max_pool2d", "avg_pool2d", "resize", "mul", "unary", "softmax", "slice"):
            assert op in plan, (op, plan)
        assert r["fast_path"]["int8_mac_share"] == 1.0
