"""The per-layer quantization error report."""
from __future__ import annotations

import math

from wayvert.calibration import sqnr_db
from wayvert.training.models import OUTPUT_KEYS


def test_sqnr_db_of_a_ten_percent_amplitude_error_is_20_db():
    assert sqnr_db(100.0, 1.0) == 20.0
    assert sqnr_db(1.0, 0.0) == math.inf


def test_layer_sqnr_has_one_row_per_lowered_layer_and_per_output(lowered):
    builder, report = lowered("mse")
    rows = report.sqnr
    layers = [r for r in rows if r["op"] != "output"]
    assert [r["name"] for r in rows if r["op"] == "output"] == list(OUTPUT_KEYS)
    assert all(r["name"] in builder.values for r in layers)
    assert {r["op"] for r in layers} >= {"conv2d+relu", "conv2d+residual+relu", "linear+residual+relu", "linear"}
    first = next(r for r in layers if r["name"] == "backbone.0.0")
    assert first["dtype"] == "int8" and 30.0 < first["sqnr_db"] < 80.0
    float_prior = next(r for r in layers if r["name"] == "heads.linear_3")
    assert float_prior["sqnr_db"] > 100.0          # float layers are exact up to float32 rounding
    assert "backbone.0.0" in report.table()
