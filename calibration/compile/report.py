"""The compile report: report.json (everything) and report.md (the tables an integrator reads)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..report import _finite


def markdown(r: dict[str, Any]) -> str:
    acc, est, fp = r["accuracy"], r["estimate"], r["fast_path"]
    verdict = "written" if not r["refused"] else "REFUSED: " + "; ".join(r["refused"])
    lines = [f"# Compile report: {Path(r['model']).name} -> {r['output']}", "",
             f"Engine {verdict}. Source: {r['kind']} model; calibration `{r['method']}` on "
             f"{r['calibration_samples']} samples; held out: {acc['held_out']} ({acc['samples']} samples).", ""]
    if r["overridden"]:
        lines += ["Gates overridden (recorded in the engine's meta): " + "; ".join(r["overridden"]), ""]
    lines += ["## Inputs and outputs", "", "| input | dtype | shape |", "|---|---|---|"]
    lines += [f"| {i['name']} | {i['dtype']} | {i['shape']} |" for i in r["inputs"]]
    lines += ["", f"## Accuracy: engine (C++ runtime) vs {acc['reference']}", "",
              f"Floor {acc['min_sqnr_db']:.1f} dB on every output.", "", "| output | SQNR (dB) |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in acc["sqnr_db"].items()]
    lines += ["", "## Fast path", "",
              f"{100 * fp['int8_mac_share']:.1f}% of {fp['total_macs'] / 1e6:.3f} MMACs run on the int8 kernels."]
    if fp["off_fast_path"]:
        lines += ["", "| layer off the int8 kernels | op | MMACs |", "|---|---|---|"]
        lines += [f"| {o['name']} | {o['dtype']} {o['op']} | {o['macs'] / 1e6:.3f} |" for o in fp["off_fast_path"]]
    lines += ["", f"## Target profile `{est['name']}`", "",
              f"- p99 latency estimate {est['latency_p99_ms']:.3f} ms (budget {est['latency_budget_ms']:.1f} ms): "
              f"{'met' if est['meets_latency'] else 'MISSED'}",
              f"- power estimate {est['power_w']:.1f} W (budget {est['power_budget_w']:.0f} W): "
              f"{'met' if est['meets_power'] else 'MISSED'}",
              f"- host (this machine, one thread) measured p99 {est.get('host_latency_p99_ms', float('nan')):.3f} ms",
              "", "## Per-layer SQNR (numpy reference vs the lowered float graph)", "",
              "| value | op | dtype | SQNR (dB) |", "|---|---|---|---|"]
    lines += [f"| {l['name']} | {l['op']} | {l['dtype']} | {l['sqnr_db']:.1f} |" for l in r["layers"]]
    if r["notes"]:
        lines += ["", "## What the lowering did", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(_finite(result), indent=2, default=str))
    (folder / "report.md").write_text(markdown(result))
