"""`wayvert demo` drives closed loop through a non-canonical rig and writes what it says it does."""

from __future__ import annotations

import json
from pathlib import Path

from wayvert.demo import run_demo


def test_demo_drives_and_writes_its_table_and_files(tmp_path: Path) -> None:
    assert run_demo(out_dir=str(tmp_path), frames=12) == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["rig"] == "nuscenes_like_6cam" and s["frames"] == 12
    for stage in ("adapter", "engine", "verifier", "total"):
        lat = s["latency_ms"][stage]
        assert 0 < lat["p50"] <= lat["p99"]
    assert s["power_budget_w"] == 75.0 and s["power_w"] is not None
    assert s["ade_vs_expert_m"] is not None and s["ade_vs_expert_m"] >= 0
    assert isinstance(s["interventions"], int) and s["interventions"] <= s["frames"]
    for name in ("birds_eye.png", "latency.png", "cameras.gif"):
        assert (tmp_path / name).stat().st_size > 0


def test_demo_rejects_a_drive_of_no_frames(tmp_path: Path) -> None:
    """--frames 0 once crashed with an IndexError in the latency percentiles; now it is a usage error (exit 2)."""
    import pytest

    from wayvert.cli import main
    from wayvert.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="frames"):
        run_demo(out_dir=str(tmp_path), frames=0)
    assert main(["demo", "--frames", "0", "--out", str(tmp_path)]) == 2
