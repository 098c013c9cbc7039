"""The power gate and measured figures: a profile names the GPUs whose measurements stand for it; without a CUDA
device the gate keeps the estimate and says so."""

from __future__ import annotations

import pytest

import wayvert
from wayvert.calibration.latency.measured import measure_on_device
from wayvert.calibration.profiles import ProfileError, load_profile, profile_from_dict
from wayvert.calibration.target import with_measurement


def test_orin_profile_lets_measurements_on_orin_gate_power():
    p = load_profile("orin-class-75w")
    assert "orin" in p.measured_devices.lower()
    assert load_profile("host").measured_devices == ""


def test_measured_devices_must_be_a_string():
    d = load_profile("orin-class-75w").to_dict()
    d["measured_devices"] = 3
    with pytest.raises(ProfileError, match="measured_devices"):
        profile_from_dict(d)


@pytest.mark.skipif(wayvert.cuda_device_count() > 0, reason="this machine has a CUDA device")
def test_without_a_gpu_the_gate_uses_the_estimate_and_says_so():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    target = load_profile("orin-class-75w")
    assert measure_on_device(engine, target) is None
    e = with_measurement({"power_w": 10.0, "power_budget_w": 75.0, "meets_power": True}, engine, target)
    assert e["power_source"].startswith("estimated")
    assert "measured" not in e and e["power_w"] == 10.0
