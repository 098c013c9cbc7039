"""benches/report.py's GPU section: it renders the newest kept lent-GPU run (benches/gpu/<gpu>-<date>/) and computes
the issue-16 ratio from the rows, never from a stored figure."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _report():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benches" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(path: Path, ours_ms: float, peer_ms: float) -> None:
    def row(runtime: str, precision: str, ms: float) -> dict[str, object]:
        return {"runtime": runtime, "precision": precision, "p50_ms": ms, "p90_ms": ms, "p99_ms": ms, "min_ms": ms,
                "sqnr_db_vs_fp32": 60.0, "energy": {"source": "NVML total energy, GPU 0 (test)",
                                                     "joules_per_frame": 0.01, "average_w": 100.0}}
    path.write_text(json.dumps({"engine": "/x/net.wvrt", "rows": [row("wayvert", "int8", ours_ms),
                                                                   row("torch", "fp16 + CUDA Graph", peer_ms)]}))


def test_gpu_section_renders_the_newest_run_with_ratios_from_its_rows(tmp_path: Path) -> None:
    report = _report()
    old, new = tmp_path / "h200-2026-01-02", tmp_path / "h200-2026-11-30"
    old.mkdir()
    new.mkdir()
    _bench(old / "bench_net.json", 1.0, 1.0)
    _bench(new / "bench_net.json", 0.25, 0.5)
    text = "\n".join(report.gpu_section(tmp_path))
    assert "h200-2026-11-30" in text and "h200-2026-01-02" not in text
    assert "| torch | fp16 + CUDA Graph | 0.500 |" in text
    assert "| 0.50 |" in text                   # 0.25 / 0.5
    assert "energy: NVML total energy, GPU 0 (test)" in text


def test_gpu_section_is_empty_without_a_kept_run(tmp_path: Path) -> None:
    assert _report().gpu_section(tmp_path) == []


def test_the_kept_h200_run_renders(tmp_path: Path) -> None:
    # the committed run (benches/REPORT.md's GPU section) stays readable by the generator
    kept = ROOT / "benches" / "gpu" / "h200-2026-12-04"
    shutil.copytree(kept, tmp_path / kept.name)
    text = "\n".join(_report().gpu_section(tmp_path))
    assert "### reference.wvrt" in text and "NVIDIA H200" in text
