"""Target profiles: shipped files load, every number is sourced, bad files fail naming the field, host peaks measure."""
from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest

from wayvert.calibration import profiles
from wayvert.calibration.profiles import (HostPeaks, ProfileError, TargetProfile, list_profiles, load_profile,
                                          measure_host_peaks, profile_from_dict, with_host_peaks)
from wayvert.errors import InvalidArgumentError

ORIN = "orin-class-75w"
# Figures printed in NVIDIA's Jetson AGX Orin data sheet: these need a "source:" comment with a URL, not only reasoning.
DATASHEET_KEYS = ("memory_bandwidth_gbs", "int8_tops", "fp16_tflops", "fp32_tflops", "max_w")
_NUMBER_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*([-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(#.*)?$")


def unsourced_numbers(text: str, datasheet_keys: tuple[str, ...] = ()) -> list[str]:
    """Keys of numeric lines whose comment block (the '#' lines right above, or inline) names no source."""
    bad, block = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped.lower())
            continue
        m = _NUMBER_LINE.match(line)
        if m:
            comment = " ".join(block + [(m.group(3) or "").lower()])
            key = m.group(1)
            if key in datasheet_keys:
                ok = "source:" in comment and "http" in comment
            else:
                ok = any(tag in comment for tag in ("source:", "derived:", "assumption", "unverified", "default"))
            if not ok:
                bad.append(key)
        block = []
    return bad


def profile_text(name: str) -> str:
    with open(f"{profiles.PROFILE_DIR}/{name}.toml", encoding="utf-8") as f:
        return f.read()


def test_shipped_profiles_include_orin_and_host() -> None:
    assert {"host", ORIN} <= set(list_profiles())


@pytest.mark.parametrize("name", ["host", ORIN])
def test_shipped_profile_loads_with_every_field(name: str) -> None:
    p = load_profile(name)
    assert isinstance(p, TargetProfile) and p.name == name and p.description
    c = p.compute
    for v in (c.int8_tops, c.fp32_tflops, p.memory_bandwidth_gbs, p.frame_rate_hz, p.latency_budget_ms,
              p.power_budget_w, p.power.max_w):
        assert isinstance(v, float) and v > 0
    assert 0 < c.utilisation_int8 <= 1 and 0 < c.utilisation_float <= 1 and c.launch_overhead_us >= 0
    assert 0 <= p.power.idle_w <= p.power.max_w and p.power.w_per_utilised_tops >= 0
    assert c.realised_ops_per_s("float") > 0


@pytest.mark.parametrize("name", ["host", ORIN])
def test_every_number_in_a_shipped_profile_has_a_source_comment(name: str) -> None:
    keys = DATASHEET_KEYS if name == ORIN else ()
    assert unsourced_numbers(profile_text(name), keys) == []


def test_source_check_catches_a_number_without_a_comment() -> None:
    text = profile_text(ORIN)
    stripped = re.sub(r"(?m)^# source: \[DS\] p\.11.*\n(#.*\n)*(?=memory_bandwidth_gbs)", "", text)
    assert stripped != text
    assert unsourced_numbers(stripped, DATASHEET_KEYS) == ["memory_bandwidth_gbs"]
    assert unsourced_numbers("a = 1\n# derived: 2 x a\nb = 2\n") == ["a"]


def test_orin_figures_are_the_datasheets_and_the_derivations_hold() -> None:
    p = load_profile(ORIN)
    assert p.compute.int8_tops == 170 / 2 and p.compute.fp16_tflops == 85 / 2 and p.compute.fp32_tflops == 5.32
    assert p.compute.float_precision == "fp16" and p.memory_bandwidth_gbs == 204.8
    assert p.power.max_w == 60.0 and p.power_budget_w == 75.0 and p.latency_budget_ms == 1000 / p.frame_rate_hz
    derived = (p.power.max_w - p.power.idle_w) / (p.compute.int8_tops * p.compute.utilisation_int8)
    assert p.power.w_per_utilised_tops == pytest.approx(derived, abs=0.005)


def test_host_profile_power_figures_are_labelled_assumptions() -> None:
    power = profile_text("host").split("[power]", 1)[1]
    assert power.count("ASSUMPTION") >= 2 and load_profile("host").kind == "host"


def _orin_dict() -> dict:
    return load_profile(ORIN).to_dict()


def test_profile_round_trips_through_json(tmp_path) -> None:
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(_orin_dict()))
    again = load_profile(path)
    assert again == dataclasses.replace(load_profile(ORIN), source=str(path))


@pytest.mark.parametrize("table, key", [("compute", "int8_tops"), ("power", "idle_w"), (None, "memory_bandwidth_gbs"),
                                        (None, "name")])
def test_missing_field_raises_profile_error_naming_it(table, key) -> None:
    d = _orin_dict()
    del (d[table] if table else d)[key]
    with pytest.raises(ProfileError, match=re.escape(f"'{table + '.' if table else ''}{key}' is missing")):
        profile_from_dict(d, "bad.toml")


def test_wrong_type_raises_profile_error_naming_the_field() -> None:
    d = _orin_dict()
    d["compute"]["int8_tops"] = "fast"
    with pytest.raises(ProfileError, match=r"'compute\.int8_tops' must be a number, got str"):
        profile_from_dict(d)
    d = _orin_dict()
    d["compute"]["fp32_tflops"] = True
    with pytest.raises(ProfileError, match=r"'compute\.fp32_tflops' must be a number"):
        profile_from_dict(d)


def test_out_of_range_and_unknown_fields_raise_profile_error() -> None:
    d = _orin_dict()
    d["compute"]["utilisation_int8"] = 1.5
    with pytest.raises(ProfileError, match=r"'compute\.utilisation_int8' must be in \(0, 1\]"):
        profile_from_dict(d)
    d = _orin_dict()
    d["power"]["idle_watts"] = 3.0
    with pytest.raises(ProfileError, match=r"unknown field\(s\) 'power\.idle_watts'"):
        profile_from_dict(d)
    d = _orin_dict()
    d["power"]["max_w"] = 5.0
    with pytest.raises(ProfileError, match=r"'power\.max_w' \(5\.0\) must be >= 'power\.idle_w'"):
        profile_from_dict(d)


def test_profile_error_is_an_invalid_argument_error_and_unknown_names_list_the_shipped_ones() -> None:
    assert issubclass(ProfileError, InvalidArgumentError)
    with pytest.raises(ProfileError, match=f"unknown profile 'nope'.*{ORIN}"):
        load_profile("nope")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile("/no/such/profile.toml")


def test_bad_toml_raises_profile_error(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(path)


def test_latency_budget_defaults_to_one_frame_period_and_power_budget_to_75w() -> None:
    d = _orin_dict()
    d["frame_rate_hz"] = 20.0
    for key in ("latency_budget_ms", "power_budget_w"):
        del d[key]
    p = profile_from_dict(d)
    assert p.latency_budget_ms == 50.0 and p.power_budget_w == 75.0


def test_only_a_host_profile_can_be_measured() -> None:
    with pytest.raises(ProfileError, match="only a host profile"):
        load_profile(ORIN, measure=True)


def test_measure_replaces_the_host_defaults(monkeypatch) -> None:
    peaks = HostPeaks(int8_tops=0.3, fp32_tflops=0.15, memory_bandwidth_gbs=12.0, launch_overhead_us=0.2, threads=1,
                      cpu_isa="avx2")
    monkeypatch.setattr(profiles.loader, "measure_host_peaks", lambda threads=1: peaks)
    p = load_profile("host", measure=True)
    c = p.compute
    assert (c.int8_tops, c.fp32_tflops, p.memory_bandwidth_gbs, c.launch_overhead_us) == (0.3, 0.15, 12.0, 0.2)
    assert p.measurement == peaks.to_dict() and p.compute.utilisation_int8 == load_profile("host").compute.utilisation_int8
    assert with_host_peaks(load_profile("host"), peaks) == p


def test_measure_host_peaks_times_the_runtime() -> None:
    peaks = measure_host_peaks(m=32, k=256, n=128, repeats=1, runs=2, copy_mib=4, dispatch_ops=20)
    for v in (peaks.int8_tops, peaks.fp32_tflops):
        assert math.isfinite(v) and 0 < v < 100  # a CPU core: well under 100 TOPS
    # A 4 MiB copy stays in this core's caches, so it measures cache bandwidth: 103 GB/s was seen on the 2-core
    # Zen 3 CI machine (the earlier bound of 100 failed there). Under 2,000 GB/s still catches a unit slip.
    assert math.isfinite(peaks.memory_bandwidth_gbs) and 0 < peaks.memory_bandwidth_gbs < 2000
    assert peaks.launch_overhead_us >= 0 and peaks.threads == 1 and peaks.cpu_isa in ("avx512vnni", "avx2", "i8mm", "neondot", "neon", "scalar")
