"""`make engine` ships the candidate with the fewest incidents through every shipped rig, then the most progress."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from wayvert.closed_loop.selection import choose, main, standing
from wayvert.errors import InputError


def _write(path: Path, progress: float, collisions: int = 0, departures: int = 0) -> None:
    total = {"progress_ratio": progress, "fallback_share": 0.01, "collisions": collisions,
             "lane_departures": departures}
    path.write_text(json.dumps({"rows": {"expert": {"total": {}}, "engine x_int8": {"total": total}}}))


def test_a_candidate_that_crashes_through_another_rig_does_not_ship(tmp_path: Path, capsys) -> None:
    # the 2026-12-04 case: the pool student drove further on the main rig, collided twice through high_pitched_2cam
    _write(tmp_path / "pool.json", 0.812)
    _write(tmp_path / "pool.high_pitched_2cam.json", 0.46, collisions=2)
    _write(tmp_path / "shipped.json", 0.767)
    _write(tmp_path / "shipped.high_pitched_2cam.json", 0.78)
    _write(tmp_path / "default.json", 0.741)
    pool = standing(tmp_path, "pool")
    assert pool.incidents == {"main": 0, "high_pitched_2cam": 2} and pool.progress == 0.812
    assert choose([pool, standing(tmp_path, "shipped"), standing(tmp_path, "default")]).name == "shipped"
    assert main([str(tmp_path), "pool", "shipped", "default"]) == 0
    assert capsys.readouterr().out.strip() == "shipped"
    # with no incidents anywhere, progress decides
    _write(tmp_path / "pool.high_pitched_2cam.json", 0.80)
    assert choose([standing(tmp_path, n) for n in ("shipped", "pool")]).name == "pool"


def test_missing_or_malformed_evaluations_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such evaluation"):
        standing(tmp_path, "nope")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match="not a `wayvert eval --engine` JSON"):
        standing(tmp_path, "bad")
    with pytest.raises(InputError, match="no candidates"):
        choose([])
