from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import byom_models as M  # noqa: E402


@pytest.fixture(scope="session")
def byom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each test model exported to ONNX and .pt2, with a calibration .npz: keys like 'ResNetTiny.onnx'."""
    out = tmp_path_factory.mktemp("byom")
    files: dict[str, Path] = {}
    for cls in (M.ResNetTiny, M.FusionNet, M.BytesNet):
        model = M.seeded(cls)
        npz = out / f"{cls.__name__}.npz"
        np.savez(npz, **M.samples(model, 40))
        files[f"{cls.__name__}.npz"] = npz
        files[f"{cls.__name__}.onnx"] = M.export_onnx(model, out / f"{cls.__name__}.onnx")
        files[f"{cls.__name__}.dynamo.onnx"] = M.export_onnx(model, out / f"{cls.__name__}.dynamo.onnx", dynamo=True)
        files[f"{cls.__name__}.pt2"] = M.export_pt2(model, out / f"{cls.__name__}.pt2")
    return files
