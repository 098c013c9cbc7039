"""The calibration report a trainer reads: report.json (everything), report.md (the tables), and two plots
(per-layer SQNR, estimated latency by op on the target profile)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _finite(v: Any) -> Any:
    """JSON has no inf: an exact output (SQNR = inf) is written as the string "inf"."""
    if isinstance(v, float) and not math.isfinite(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def plot_layer_sqnr(layers: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in layers if isinstance(r.get("sqnr_db"), (int, float)) and math.isfinite(r["sqnr_db"])]
    fig, ax = plt.subplots(figsize=(8, 0.25 * len(rows) + 1.2))
    names = [r["name"] for r in rows]
    ax.barh(range(len(rows)), [r["sqnr_db"] for r in rows],
            color=["tab:orange" if r["op"] == "output" else "tab:blue" for r in rows])
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("SQNR vs fp32 (dB, higher is better; orange = network outputs)")
    ax.set_title("Per-layer quantization error")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result: dict[str, Any]) -> str:
    acc, est = result["accuracy"], result["estimate"]
    verdict = "written" if not result["refused"] else "REFUSED: " + "; ".join(result["refused"])
    lines = [f"# Calibration report: {Path(result['checkpoint']).name} -> {result['output']}", "",
             f"Engine {verdict}. Method `{result['method']}`, {result['calibration_frames']} calibration frames "
             f"from {result['data']['calibration']}; held out: {result['data']['held_out']} ({acc['samples']} frames).",
             "", "## Accuracy gate (C++ runtime vs fp32 student)", "",
             "| | fp32 | engine | change |", "|---|---|---|---|",
             f"| ADE (m) | {acc['ade_fp32']:.3f} | {acc['ade_engine']:.3f} | {100 * acc['ade_change']:+.2f}% "
             f"(tolerance {100 * acc['ade_tolerance']:.0f}%) |",
             f"| FDE (m) | {acc['fde_fp32']:.3f} | {acc['fde_engine']:.3f} | |",
             f"| miss rate @2 m | {acc['miss_rate_fp32']:.3f} | {acc['miss_rate_engine']:.3f} | |", "",
             "| output | SQNR vs fp32 (dB) |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in acc["sqnr_db"].items()]
    if "closed_loop" in acc:
        cl = acc["closed_loop"]
        lines += ["", f"Closed loop, {cl['routes']} routes of {cl['duration_s']:.0f} s:", "",
                  "| | collisions | lane departures | route completion | uncomfortable s/km |", "|---|---|---|---|---|"]
        for row in ("fp32", "engine"):
            r = cl[row]
            lines.append(f"| {row} | {r['collisions']} | {r['lane_departures']} | {r['route_completion']:.2f} | "
                         f"{r['uncomfortable_s_per_km']:.1f} |")
    if result.get("peers"):
        lines += ["", "## Peers on the same frames (ONNX Runtime)", "",
                  "| model | ADE (m) | FDE (m) | miss rate | trajectories SQNR (dB) | mode_logits SQNR (dB) |",
                  "|---|---|---|---|---|---|",
                  f"| wayvert int8 ({result['method']}) | {acc['ade_engine']:.3f} | {acc['fde_engine']:.3f} | "
                  f"{acc['miss_rate_engine']:.3f} | {acc['sqnr_db']['trajectories']:.1f} | {acc['sqnr_db']['mode_logits']:.1f} |"]
        for name, r in result["peers"].items():
            lines.append(f"| {name} | {r['ade_m']:.3f} | {r['fde_m']:.3f} | {r['miss_rate']:.3f} | "
                         f"{r['sqnr_db']['trajectories']:.1f} | {r['sqnr_db']['mode_logits']:.1f} |")
    lines += ["", f"## Target profile `{est['name']}`", "",
              f"- p99 latency estimate: **{est['latency_p99_ms']:.2f} ms** (roofline {est['latency_roofline_ms']:.2f} ms; "
              f"budget {est['latency_budget_ms']:.1f} ms at {est['frame_rate_hz']:.0f} Hz): "
              f"{'met' if est['meets_latency'] else 'MISSED'}",
              f"- power estimate: **{est['power_w']:.1f} W** (budget {est['power_budget_w']:.0f} W): "
              f"{'met' if est['meets_power'] else 'MISSED'}; energy {est.get('energy_mj_per_frame', float('nan')):.2f} mJ/frame",
              f"- host (this machine, C++ runtime) measured p99: {est.get('host_latency_p99_ms', float('nan')):.2f} ms",
              "", "![per-layer SQNR](sqnr.png)", "", "![latency by op](latency_by_op.png)", "",
              "## Layers", "", "| value | op | SQNR (dB) |", "|---|---|---|"]
    lines += [f"| {r['name']} | {r['op']} | {r['sqnr_db']:.1f} |" for r in result["layers"]]
    if result.get("notes"):
        lines += ["", "## Lowering notes", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], folder: Path) -> None:
    from .latency import plot_latency_by_op

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(_finite(result), indent=2) + "\n")
    (folder / "report.md").write_text(markdown(result))
    plot_layer_sqnr(result["layers"], folder / "sqnr.png")
    plot_latency_by_op(result["estimate"], folder / "latency_by_op.png")
