"""An int8 concat of branches calibrated to different scales requantizes them to its own."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import wayvert
from wayvert.calibration import calibrate, emit_engine, lower_exported, sqnr_db
from wayvert.calibration.lower.float_forward import FloatGraph


class _TwoBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.fuse = nn.Conv2d(8, 2, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image.reshape(1, 3, 8, 8)
        return self.fuse(torch.cat([torch.relu(self.a(x)), 3.0 * self.b(x)], dim=1))


def test_int8_concat_requantizes_parts_to_its_own_scale():
    torch.manual_seed(0)
    model = _TwoBranches().eval()
    batches = [(torch.randn(4, 1, 3, 8, 8), torch.zeros(4, 2), torch.zeros(4, 4)) for _ in range(2)]
    with torch.no_grad():
        graph = lower_exported(torch.export.export(model, (batches[0][0][:1],)))
    params, _ = calibrate(graph, batches, "minmax")
    builder, names = emit_engine(graph, params)
    cat = next(l for l in graph if l.op == "concat")
    assert cat.dtype == "int8"
    differing = [n for n in cat.inputs if params[n] != params[cat.name]]
    assert differing                                   # the ReLU branch is [0, T1], the concat [-T, T]
    requantized = [op for op in builder.ops if op.op_type == "quantize"]
    assert [op.outputs[0] for op in requantized] == [f"{n}.requantized" for n in differing]
    engine = wayvert.Engine.from_bytes(builder.to_bytes())
    image = batches[1][0][0].numpy()
    t = builder.values["image"].tensor
    got = engine.session().run({"image": wayvert.quant.quantize(image, t.scale, t.zero_point)})["output0"]
    want = FloatGraph(graph).outputs({"image": image})["output0"]
    assert sqnr_db(float(np.sum(want.astype(np.float64) ** 2)), float(np.sum((want - got) ** 2))) > 25.0
