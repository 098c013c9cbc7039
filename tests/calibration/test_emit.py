"""Emission details the calibrated grids alone would hide: fused clamps are written as codes of the output."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from wayvert import quant, reference
from wayvert.calibration import QuantParams, calibrate, emit_engine, lower_exported
from wayvert.calibration.lower.emit import clamp_codes
from wayvert.calibration.sqnr import probe


class _LinearReLU6(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(12, 16)
        self.out = nn.Linear(16, 16)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(torch.nn.functional.relu6(self.fc(image.reshape(1, 12)) * 4.0)))


def test_clamp_codes_of_relu_and_relu6():
    assert clamp_codes((0.0, float("inf")), QuantParams(0.1, 0)) == (0, 127)
    assert clamp_codes((0.0, 6.0), QuantParams(0.1, -128)) == (-128, -68)
    assert clamp_codes((0.0, 6.0), QuantParams(0.01, -128)) == (-128, 127)


def test_fused_relu6_clamps_at_six_where_the_output_grid_reaches_further():
    torch.manual_seed(0)
    model = _LinearReLU6().eval()
    batches = [(torch.randn(8, 1, 3, 2, 2), torch.zeros(8, 2), torch.zeros(8, 4))]
    with torch.no_grad():
        graph = lower_exported(torch.export.export(model, (batches[0][0][:1],)))
    fc = graph["fc"]
    assert fc.clamp == (0.0, 6.0)             # relu(relu6(4 z)): the mul folds, the ReLU6 fuses, the ReLU too
    params, _ = calibrate(graph, batches, "minmax")
    params["fc"] = QuantParams(16.0 / 255.0, 0)   # a signed grid to +-8: wider than [0, 6] on both sides
    builder, names = emit_engine(graph, params)
    x = np.random.default_rng(0).normal(size=(3, 2, 2)).astype(np.float32) * 4
    t = builder.values["image"].tensor
    values = reference.run(probe(builder), {"image": quant.quantize(x, t.scale, t.zero_point)})
    fc_real = quant.dequantize(values[names["fc"]], params["fc"].scale, params["fc"].zero_point)
    assert fc_real.min() >= 0.0 and fc_real.max() <= 6.0 + params["fc"].scale / 2
    assert (fc_real == 0).any() and (fc_real > 5.9).any()
