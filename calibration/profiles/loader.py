"""Finding and reading profile files: the shipped ones (``calibration/profiles/*.toml``) or any TOML/JSON path."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (the train extra installs tomli there)
    import tomli as tomllib  # type: ignore[no-redef]

from .host_peaks import HostPeaks, measure_host_peaks
from .profile import ProfileError, TargetProfile, profile_from_dict

PROFILE_DIR = os.path.dirname(os.path.abspath(__file__))
_SUFFIXES = (".toml", ".json")


def list_profiles() -> list[str]:
    """Names of the shipped profiles (file stems), sorted."""
    return sorted(os.path.splitext(f)[0] for f in os.listdir(PROFILE_DIR) if f.endswith(_SUFFIXES))


def _resolve(name_or_path: str | os.PathLike[str]) -> str:
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or os.sep in text or text.endswith(_SUFFIXES):
        if not os.path.isfile(text):
            raise ProfileError(f"profile file {text!r} does not exist")
        return text
    for suffix in _SUFFIXES:
        path = os.path.join(PROFILE_DIR, text + suffix)
        if os.path.isfile(path):
            return path
    raise ProfileError(f"unknown profile {text!r} (shipped: {', '.join(list_profiles())}; or give a .toml/.json path)")


def _read(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            if path.endswith(".json"):
                return json.load(f)
            return tomllib.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"{path}: cannot read ({e})") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise ProfileError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'TOML'} ({e})") from None


def with_host_peaks(profile: TargetProfile, peaks: HostPeaks) -> TargetProfile:
    """``profile`` with its compute peaks, bandwidth and per-op overhead replaced by a measurement."""
    compute = dataclasses.replace(profile.compute, int8_tops=peaks.int8_tops, fp32_tflops=peaks.fp32_tflops,
                                  launch_overhead_us=peaks.launch_overhead_us)
    return dataclasses.replace(profile, compute=compute, memory_bandwidth_gbs=peaks.memory_bandwidth_gbs,
                               measurement=peaks.to_dict())


def load_profile(name_or_path: str | os.PathLike[str], measure: bool = False, threads: int = 1) -> TargetProfile:
    """Load a shipped profile by name (``list_profiles()``) or a TOML/JSON file; raises ProfileError.

    ``measure=True`` (host profiles only) replaces the stored peaks with ``measure_host_peaks(threads)``.
    """
    path = _resolve(name_or_path)
    profile = profile_from_dict(_read(path), source=path)
    if measure:
        if profile.kind != "host":
            raise ProfileError(f"{path}: only a host profile (kind = \"host\") can be measured; "
                               f"'{profile.name}' is a {profile.kind}")
        profile = with_host_peaks(profile, measure_host_peaks(threads=threads))
    return profile
