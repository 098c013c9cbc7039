"""Energy meters (wayvert.benchmark.energy) against the interfaces they read: NVML's total-energy counter and Jetson's
INA3221 hwmon files. The counter and the files are stand-ins written here (this machine has neither); the code
under test is ours, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

import wayvert
from wayvert.benchmark.energy import EnergyMeasurement, NvmlMeter, RailMeter, find_rails, measure_energy, open_meter
from wayvert.errors import DeviceError


def _hwmon(root: Path, rails: dict[int, tuple[str, int, int]]) -> str:
    d = root / "1-0040" / "hwmon" / "hwmon3"
    d.mkdir(parents=True)
    for n, (label, mv, ma) in rails.items():
        (d / f"in{n}_label").write_text(label + "\n")
        (d / f"in{n}_input").write_text(f"{mv}\n")
        (d / f"curr{n}_input").write_text(f"{ma}\n")
    return str(root / "*" / "hwmon" / "hwmon*")


def test_rails_are_found_by_label_and_sums_are_left_out(tmp_path):
    pattern = _hwmon(tmp_path, {1: ("VDD_GPU_SOC", 5000, 2000), 2: ("VDD_CPU_CV", 5000, 400),
                                7: ("sum of shunt voltages", 1, 1)})
    rails = find_rails(pattern)
    assert sorted(rails) == ["VDD_CPU_CV", "VDD_GPU_SOC"]
    assert sorted(find_rails(pattern, labels=["VDD_GPU_SOC"])) == ["VDD_GPU_SOC"]


def test_rail_power_is_volts_times_amps_summed(tmp_path):
    rails = find_rails(_hwmon(tmp_path, {1: ("VDD_GPU_SOC", 5000, 2000), 2: ("VDD_CPU_CV", 5000, 400)}))
    meter = RailMeter(rails)
    assert meter.power_w() == pytest.approx(10.0 + 2.0)
    assert "VDD_GPU_SOC" in meter.source and "INA3221" in meter.source


def test_a_rail_without_its_current_file_is_skipped(tmp_path):
    pattern = _hwmon(tmp_path, {1: ("VDD_GPU_SOC", 5000, 2000)})
    next(tmp_path.rglob("curr1_input")).unlink()
    assert find_rails(pattern) == {}


class _Counter:
    """NVML's interface as pynvml exposes it: a millijoule counter that moves by 50 mJ on every read."""

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        self.mj = 1_000_000

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return b"NVIDIA H200"

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        self.mj += 50
        return self.mj


def test_nvml_meter_reports_the_counter_difference_in_joules():
    meter = NvmlMeter(_Counter(), 0)
    assert meter.source == "NVML total energy, GPU 0 (NVIDIA H200)"
    meter.start()
    joules = meter.stop()
    assert joules == pytest.approx(0.05 * 2)  # start reads twice (waits for a tick), stop twice: 2 x 50 mJ between


def test_measure_energy_runs_at_least_min_frames_and_divides_per_frame():
    meter = NvmlMeter(_Counter(), 0)
    calls = []
    m = measure_energy(lambda: calls.append(1), meter, min_seconds=0.0, min_frames=25)
    assert m.frames == len(calls) == 25
    assert m.joules_per_frame == pytest.approx(m.joules / 25)
    assert m.average_w == pytest.approx(m.joules / m.seconds)
    assert set(m.as_dict()) >= {"source", "frames", "seconds", "joules", "joules_per_frame", "average_w"}


def test_energy_measurement_arithmetic():
    m = EnergyMeasurement("x", frames=100, seconds=2.0, joules=50.0)
    assert (m.joules_per_frame, m.average_w) == (0.5, 25.0)


@pytest.mark.skipif(wayvert.cuda_device_count() > 0, reason="this machine has a CUDA device")
def test_open_meter_says_why_there_is_none_here():
    meter, why = open_meter()
    if meter is None:
        assert why  # e.g. "NVML is not usable (...); no INA3221 rails in sysfs"


@pytest.mark.skipif(wayvert.cuda_device_count() > 0, reason="this machine has a CUDA device")
def test_bench_on_cuda_without_a_gpu_is_a_device_error():
    from wayvert.benchmark import bench_engine

    with pytest.raises(DeviceError, match="CUDA"):
        bench_engine(wayvert.reference_engine_path(), device="cuda", memory=False)
