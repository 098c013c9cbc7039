"""Test-session setup shared by every part's tests."""

from __future__ import annotations

import importlib.machinery
import os
import sys


def _prefer_installed_wayvert() -> None:
    """``python -m pytest`` from the repository root puts the root first on sys.path, where ``wayvert/`` is
    the source tree without the compiled ``_core`` (the Makefile installs the package into .venv, not in
    place). Move the root to the end of sys.path so the installed, built package is the one under test."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    built_in_place = any(os.path.exists(os.path.join(root, "wayvert", "_core" + suffix))
                         for suffix in importlib.machinery.EXTENSION_SUFFIXES)
    if built_in_place or "wayvert" in sys.modules:
        return
    here = [p for p in sys.path if os.path.abspath(p or os.curdir) == root]
    for p in here:
        sys.path.remove(p)
    sys.path.extend(here)


_prefer_installed_wayvert()


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def demonstration_labels():
    """``labels(ego, seed, has_lead_distance=None) -> batch dict``: plausible expert labels (a constant-acceleration,
    constant-curvature path from the ego state) for the training and calibration tests (needs PyTorch)."""
    import torch

    from wayvert.schema import LEAD_DISTANCE_CAP_M, SCENARIOS, waypoint_times

    def labels(ego, seed=1, has_lead_distance=None):
        g = torch.Generator().manual_seed(seed)
        b = len(ego)
        t = torch.tensor(waypoint_times(), dtype=torch.float32)
        accel = torch.randn(b, 1, generator=g)
        curvature = 0.02 * torch.randn(b, 1, generator=g)
        speed = (ego[:, :1] + accel * t).clamp(min=0.0)
        s = ego[:, :1] * t + 0.5 * accel * t ** 2
        heading = curvature * s
        trajectory = torch.stack([s * torch.cos(heading / 2), s * torch.sin(heading / 2), heading, speed], dim=-1)
        lead_mask = torch.ones(b, dtype=torch.bool) if has_lead_distance is None else has_lead_distance
        return dict(trajectory=trajectory, target_speed=speed[:, -1], curvature=curvature[:, 0],
                    lead_distance=torch.rand(b, generator=g) * LEAD_DISTANCE_CAP_M,
                    scenario=torch.randint(0, len(SCENARIOS), (b,), generator=g),
                    has_lead_distance=lead_mask, has_scenario=torch.ones(b, dtype=torch.bool))
    return labels


@pytest.fixture(scope="session")
def c_example(tmp_path_factory):
    """The C example (examples/c_api, ``wayvert_run ENGINE IN0.bin ...``) built against the installed CMake package."""
    import shutil
    import subprocess
    from pathlib import Path

    import wayvert

    if shutil.which("cmake") is None:
        pytest.skip("cmake not on PATH")
    root = Path(__file__).resolve().parents[1]
    build = tmp_path_factory.mktemp("c_example")
    subprocess.run(["cmake", "-S", str(root / "examples" / "c_api"), "-B", str(build), f"-Dwayvert_DIR={wayvert.cmake_dir()}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    return build / "wayvert_run"
