"""Energy per frame, measured: NVML's total-energy counter on discrete NVIDIA GPUs, the INA3221 rail monitors on
Jetson/Orin modules (where NVML's power and energy calls answer NOT_SUPPORTED).

Both are read around a stretch of back-to-back frames of at least ``min_seconds`` (default 2 s): NVML's counter
(millijoules since the driver loaded) updates every 20-100 ms, so one frame is far below its resolution, and the
rails' power readings (mW, refreshed every few ms) are integrated by a sampling thread. Every figure names its
source. Back-to-back frames keep the GPU busy, so their average power is the most the engine can draw at any frame
rate; the energy per frame includes the device's idle floor over the frame's duration.

``nvidia-ml-py`` (module ``pynvml``) is optional: without it, or without a GPU, ``open_meter`` says why and returns
no meter. Nothing here imports PyTorch.
"""
from __future__ import annotations

import glob
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Protocol

# Jetson's INA3221 rails under the hwmon driver (L4T 35+): in<N>_label, in<N>_input (mV), curr<N>_input (mA).
INA3221_GLOB = "/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*"


class EnergyMeter(Protocol):
    source: str

    def start(self) -> None: ...

    def stop(self) -> float:
        """Joules since ``start()``."""
        ...


@dataclass(frozen=True)
class EnergyMeasurement:
    """Energy over ``frames`` back-to-back frames taking ``seconds``, from ``source``."""

    source: str
    frames: int
    seconds: float
    joules: float

    @property
    def joules_per_frame(self) -> float:
        return self.joules / self.frames

    @property
    def average_w(self) -> float:
        return self.joules / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "joules_per_frame": self.joules_per_frame, "average_w": self.average_w}


class NvmlMeter:
    """NVML's total-energy counter of one GPU (``nvmlDeviceGetTotalEnergyConsumption``, millijoules, Volta and
    later). ``start``/``stop`` wait for the counter's next update so that the interval starts and ends on a
    tick (at most ~100 ms each)."""

    def __init__(self, pynvml: Any, index: int) -> None:
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        name = pynvml.nvmlDeviceGetName(self._handle)
        self.source = f"NVML total energy, GPU {index} ({name.decode() if isinstance(name, bytes) else name})"
        self._mj0 = 0

    def _read_mj(self) -> int:
        return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))

    def _next_tick(self, timeout_s: float = 0.25) -> int:
        first = self._read_mj()
        end = time.perf_counter() + timeout_s
        while time.perf_counter() < end:
            v = self._read_mj()
            if v != first:
                return v
            time.sleep(0.001)
        return first

    def start(self) -> None:
        self._mj0 = self._next_tick()

    def stop(self) -> float:
        return (self._next_tick() - self._mj0) / 1e3


class RailMeter:
    """Sum of INA3221 rails, power sampled every ``period_s`` by a thread and integrated (trapezoids)."""

    def __init__(self, rails: dict[str, tuple[str, str]], period_s: float = 0.005) -> None:
        self._rails = rails  # label -> (voltage file, current file)
        self._period = period_s
        self.source = "INA3221 rails " + "+".join(sorted(rails)) + " (sysfs)"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._joules = 0.0

    def power_w(self) -> float:
        total = 0.0
        for v_file, i_file in self._rails.values():
            with open(v_file) as fv, open(i_file) as fi:
                total += float(fv.read()) * float(fi.read()) / 1e6  # mV x mA -> W
        return total

    def _run(self) -> None:
        t_prev, p_prev = time.perf_counter(), self.power_w()
        while not self._stop.is_set():
            time.sleep(self._period)
            t, p = time.perf_counter(), self.power_w()
            self._joules += 0.5 * (p + p_prev) * (t - t_prev)
            t_prev, p_prev = t, p

    def start(self) -> None:
        self._joules = 0.0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self._joules


def find_rails(root_glob: str = INA3221_GLOB, labels: list[str] | None = None) -> dict[str, tuple[str, str]]:
    """INA3221 channels under ``root_glob`` with a label, a voltage and a current file: {label: (in file, curr
    file)}. ``labels`` keeps only those (e.g. ``["VDD_GPU_SOC"]``); default every labelled rail except sums."""
    rails: dict[str, tuple[str, str]] = {}
    for hwmon in sorted(glob.glob(root_glob)):
        for label_file in sorted(glob.glob(os.path.join(hwmon, "in*_label"))):
            n = os.path.basename(label_file)[2:-len("_label")]
            v_file, i_file = os.path.join(hwmon, f"in{n}_input"), os.path.join(hwmon, f"curr{n}_input")
            if not (os.path.isfile(v_file) and os.path.isfile(i_file)):
                continue
            with open(label_file) as f:
                label = f.read().strip()
            if labels is not None and label not in labels:
                continue
            if labels is None and label.lower().startswith("sum"):
                continue
            rails[label] = (v_file, i_file)
    return rails


def open_meter(cuda_index: int = 0) -> tuple[EnergyMeter | None, str]:
    """(meter, why): NVML where it counts energy, else Jetson rails, else (None, the reason there is none)."""
    reasons = []
    try:
        import pynvml  # type: ignore[import-not-found]  # nvidia-ml-py, optional

        pynvml.nvmlInit()
        try:
            nvml = NvmlMeter(pynvml, cuda_index)
            nvml._read_mj()
            return nvml, nvml.source
        except pynvml.NVMLError as e:
            reasons.append(f"NVML has no energy counter here ({e})")
    except ImportError:
        reasons.append("nvidia-ml-py (pynvml) is not installed")
    except Exception as e:  # NVMLError_LibraryNotFound / DriverNotLoaded: no NVIDIA driver
        reasons.append(f"NVML is not usable ({e})")
    rails = find_rails()
    if rails:
        meter = RailMeter(rails)
        return meter, meter.source
    reasons.append("no INA3221 rails in sysfs")
    return None, "; ".join(reasons)


def measure_energy(run_frame: Callable[[], Any], meter: EnergyMeter, min_seconds: float = 2.0,
                   min_frames: int = 10) -> EnergyMeasurement:
    """Run ``run_frame()`` back to back for at least ``min_seconds`` and ``min_frames`` and read ``meter`` around
    it. ``seconds`` spans the meter's whole interval (with NVML: from one counter update to the one after the last
    frame, so up to one update period of near-idle tail is in both the joules and the seconds: the joules per frame
    err high by at most that, under 5% at 2 s)."""
    meter.start()
    t0 = time.perf_counter()
    frames = 0
    while frames < min_frames or time.perf_counter() - t0 < min_seconds:
        run_frame()
        frames += 1
    joules = meter.stop()
    seconds = time.perf_counter() - t0
    return EnergyMeasurement(meter.source, frames, seconds, joules)
