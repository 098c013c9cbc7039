"""`wayvert demo` runs end to end and writes what it says it does."""

from __future__ import annotations

import json
from pathlib import Path

from wayvert.demo import run_demo


def test_demo_runs_and_writes_its_summary(tmp_path: Path) -> None:
    assert run_demo(out_dir=str(tmp_path), frames=5) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["bit_exact_vs_reference"] is True
    assert summary["rel_l2_error"]["int8"] < 0.05
    assert summary["arena_bytes"]["planned"] < summary["arena_bytes"]["naive"]
    assert summary["verifier_chosen"] == 1  # the braking mode, not the higher-scored ones
    assert (tmp_path / "sample_int8.wvrt").stat().st_size > 0
