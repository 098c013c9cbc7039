"""``TargetProfile``: the hardware an engine must meet its latency and power budgets on (docs/profiles.md).

A profile is read from a TOML (or JSON) file with the schema below and checked field by field; every problem
is a ``ProfileError`` naming the file and the dotted field.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from wayvert.errors import InvalidArgumentError

FLOAT_PRECISIONS = ("fp16", "fp32")
KINDS = ("target", "host")
DEFAULT_FRAME_RATE_HZ = 10.0
DEFAULT_POWER_BUDGET_W = 75.0


class ProfileError(InvalidArgumentError):
    """A target profile is unknown or unreadable, or a field is missing, mistyped, out of range or unknown."""


@dataclass(frozen=True)
class Compute:
    """Peak dense throughput, the fraction of it small batch-1 networks realise, and the fixed cost per op."""

    int8_tops: float  # dense int8, 1e12 ops/s (one multiply-accumulate = 2 ops)
    fp16_tflops: float  # dense fp16, 1e12 flop/s; 0 where the target has no fp16 path
    fp32_tflops: float  # dense fp32, 1e12 flop/s
    float_precision: str  # what float ops run in on this target: "fp16" (CUDA) or "fp32" (CPU)
    utilisation_int8: float  # realised fraction of int8_tops on small batch-1 networks, (0, 1]
    utilisation_float: float  # realised fraction of the float peak, (0, 1]
    launch_overhead_us: float  # fixed time per op (kernel launch / dispatch), microseconds

    def realised_ops_per_s(self, dtype: str) -> float:
        """Ops/s an op computing in ``dtype`` ("int8" or "float") realises: peak x utilisation."""
        if dtype == "int8":
            return self.int8_tops * 1e12 * self.utilisation_int8
        peak = self.fp16_tflops if self.float_precision == "fp16" else self.fp32_tflops
        return peak * 1e12 * self.utilisation_float

    @property
    def float_bytes(self) -> int:
        """Bytes per float element as the target stores float tensors (2 for fp16, 4 for fp32)."""
        return 2 if self.float_precision == "fp16" else 4


@dataclass(frozen=True)
class PowerModel:
    """Linear power model: ``idle_w + w_per_utilised_tops x achieved TOPS``, capped at ``max_w`` (watts)."""

    idle_w: float
    w_per_utilised_tops: float  # watts per 1e12 ops/s of work actually delivered
    max_w: float

    def power_w(self, achieved_tops: float) -> float:
        """Average power (W) while delivering ``achieved_tops`` (1e12 ops/s, averaged over time)."""
        return min(self.max_w, self.idle_w + self.w_per_utilised_tops * max(0.0, achieved_tops))


@dataclass(frozen=True)
class TargetProfile:
    """A target (or this host): compute, memory bandwidth, power model, frame rate and budgets."""

    name: str
    description: str
    kind: str  # "target", or "host" for this machine (measurable with load_profile(..., measure=True))
    compute: Compute
    memory_bandwidth_gbs: float  # peak DRAM bandwidth, 1e9 bytes/s
    power: PowerModel
    frame_rate_hz: float = DEFAULT_FRAME_RATE_HZ
    latency_budget_ms: float = 1000.0 / DEFAULT_FRAME_RATE_HZ  # p99 end-to-end engine latency, milliseconds
    power_budget_w: float = DEFAULT_POWER_BUDGET_W
    measured_devices: str = ""  # GPU names whose measured power the gate may use (comma-separated substrings)
    source: str = ""  # the file it was read from
    measurement: Mapping[str, Any] | None = field(default=None, compare=False)  # host peaks, when measured

    @property
    def frame_period_ms(self) -> float:
        """Time between frames at the profile's frame rate (ms)."""
        return 1000.0 / self.frame_rate_hz

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data (the file's schema), e.g. for an engine's ``profile`` section or meta."""
        skip = ("compute", "power", "measurement", "source")
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        d["compute"] = {f.name: getattr(self.compute, f.name) for f in fields(self.compute)}
        d["power"] = {f.name: getattr(self.power, f.name) for f in fields(self.power)}
        if self.measurement is not None:
            d["measurement"] = dict(self.measurement)
        return d


# ---- validation ---------------------------------------------------------------------------------------------------
_REQUIRED = object()
Check = Callable[[Any], str | None]  # returns what is wrong, or None


def _positive(v: float) -> str | None:
    return None if v > 0 else f"must be > 0, got {v}"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 else f"must be >= 0, got {v}"


def _fraction(v: float) -> str | None:
    return None if 0 < v <= 1 else f"must be in (0, 1], got {v}"


def _one_of(options: tuple[str, ...]) -> Check:
    return lambda v: None if v in options else f"must be one of {list(options)}, got {v!r}"


# field -> (type, default or _REQUIRED, check)
_TOP: dict[str, tuple[type, Any, Check | None]] = {
    "name": (str, _REQUIRED, lambda v: None if v.strip() else "must not be empty"),
    "description": (str, _REQUIRED, None),
    "kind": (str, "target", _one_of(KINDS)),
    "memory_bandwidth_gbs": (float, _REQUIRED, _positive),
    "frame_rate_hz": (float, DEFAULT_FRAME_RATE_HZ, _positive),
    "latency_budget_ms": (float, None, _positive),  # None: 1000 / frame_rate_hz
    "power_budget_w": (float, DEFAULT_POWER_BUDGET_W, _positive),
    # Comma-separated GPU names (substrings, any case) whose measured energy stands for this target in the power gate
    # (calibration/latency/measured.py); "" for none: figures measured elsewhere are recorded, not gated on.
    "measured_devices": (str, "", None),
}
_COMPUTE: dict[str, tuple[type, Any, Check | None]] = {
    "int8_tops": (float, _REQUIRED, _positive),
    "fp16_tflops": (float, _REQUIRED, _non_negative),
    "fp32_tflops": (float, _REQUIRED, _positive),
    "float_precision": (str, _REQUIRED, _one_of(FLOAT_PRECISIONS)),
    "utilisation_int8": (float, _REQUIRED, _fraction),
    "utilisation_float": (float, _REQUIRED, _fraction),
    "launch_overhead_us": (float, _REQUIRED, _non_negative),
}
_POWER: dict[str, tuple[type, Any, Check | None]] = {
    "idle_w": (float, _REQUIRED, _non_negative),
    "w_per_utilised_tops": (float, _REQUIRED, _non_negative),
    "max_w": (float, _REQUIRED, _positive),
}
_TABLES = {"compute": _COMPUTE, "power": _POWER}


def _read_table(data: Mapping[str, Any], schema: Mapping[str, tuple[type, Any, Check | None]], prefix: str,
                source: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    unknown = sorted(set(data) - set(schema) - set(extra))
    if unknown:
        names = ", ".join(f"'{prefix}{k}'" for k in unknown)
        known = ", ".join(prefix + k for k in list(schema) + list(extra))
        raise ProfileError(f"{source}: unknown field(s) {names} (known: {known})")
    out: dict[str, Any] = {}
    for key, (typ, default, check) in schema.items():
        where = f"{source}: field '{prefix}{key}'"
        if key not in data:
            if default is _REQUIRED:
                raise ProfileError(f"{where} is missing")
            out[key] = default
            continue
        v = data[key]
        if typ is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ProfileError(f"{where} must be a number, got {type(v).__name__} {v!r}")
            v = float(v)
            if not math.isfinite(v):
                raise ProfileError(f"{where} must be finite, got {v}")
        elif not isinstance(v, typ):
            raise ProfileError(f"{where} must be a {typ.__name__}, got {type(v).__name__} {v!r}")
        problem = check(v) if check is not None else None
        if problem:
            raise ProfileError(f"{where} {problem}")
        out[key] = v
    return out


def profile_from_dict(data: Mapping[str, Any], source: str = "profile") -> TargetProfile:
    """Check ``data`` against the profile schema (docs/profiles.md) and build the profile; raises ProfileError."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: a profile must be a table/object, got {type(data).__name__}")
    top = _read_table(data, _TOP, "", source, extra=tuple(_TABLES) + ("measurement",))
    tables: dict[str, dict[str, Any]] = {}
    for name, schema in _TABLES.items():
        if name not in data:
            raise ProfileError(f"{source}: table '{name}' is missing (fields: {', '.join(schema)})")
        if not isinstance(data[name], Mapping):
            raise ProfileError(f"{source}: field '{name}' must be a table, got {type(data[name]).__name__}")
        tables[name] = _read_table(data[name], schema, f"{name}.", source)
    compute, power = Compute(**tables["compute"]), PowerModel(**tables["power"])
    if compute.float_precision == "fp16" and compute.fp16_tflops <= 0:
        raise ProfileError(f"{source}: field 'compute.fp16_tflops' must be > 0 when float_precision is 'fp16'")
    if power.max_w < power.idle_w:
        raise ProfileError(f"{source}: field 'power.max_w' ({power.max_w}) must be >= 'power.idle_w' ({power.idle_w})")
    if top["latency_budget_ms"] is None:
        top["latency_budget_ms"] = 1000.0 / top["frame_rate_hz"]
    measurement = data.get("measurement")
    if measurement is not None and not isinstance(measurement, Mapping):
        raise ProfileError(f"{source}: field 'measurement' must be a table, got {type(measurement).__name__}")
    return TargetProfile(compute=compute, power=power, source=source,
                         measurement=dict(measurement) if measurement is not None else None, **top)
