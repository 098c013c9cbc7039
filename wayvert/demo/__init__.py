"""``wayvert demo``: the product end to end, without PyTorch.

A drive in the synthetic world seen through a rig that is not the canonical one (default: the nuScenes-like six
NV12 cameras), converted by the sensor adapter, run through the shipped reference engine in one stateful session,
checked by the trajectory verifier, and driven closed loop (the verified plan moves the car). Prints latency per
stage, the frame budget, the power estimate, ADE against the expert, progress against the expert's distance, the
fallback share, verifier interventions and incidents;
writes ``demo_out/``: summary.json, birds_eye.png, latency.png and cameras.gif.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from wayvert import cpu_isa, reference_engine_path
from wayvert.engine import Engine
from wayvert.errors import InvalidArgumentError
from wayvert.sensors import shipped_rig
from wayvert.sensors.rig import Rig

from .drive import drive, summary

DEFAULT_SEED = 90003
ANIMATION_FRAMES = 60


def _print_table(s: dict[str, Any], rig_name: str, engine_path: str) -> None:
    lat = s["latency_ms"]
    print(f"engine   {engine_path}   kernels {cpu_isa()}   rig {rig_name} -> canonical")
    print(f"drove    {s['frames']} frames ({s['seconds_driven']:.1f} s at 10 Hz), "
          f"collision: {'YES' if s['collided'] else 'no'}, lane departure: {'YES' if s['lane_departure'] else 'no'}")
    print("latency  stage       p50 ms    p99 ms")
    for stage in ("adapter", "engine", "repair", "verifier", "total"):
        print(f"         {stage:<10} {lat[stage]['p50']:8.2f}  {lat[stage]['p99']:8.2f}")
    print(f"budget   {s['frame_budget_ms']:.0f} ms per frame on this host: {'met' if s['budget_met'] else 'MISSED'} (p99); "
          f"engine on its target profile: p99 {s['target_p99_ms'] or float('nan'):.2f} ms (estimate)")
    print(f"deadline {s['deadline_overruns']} frames past the budget: {s['driven_held']} drove the previous plan "
          f"advanced, {s['driven_deadline_fallback']} the fallback")
    pw = s["power_w"]
    print(f"power    {pw if pw is not None else float('nan'):.1f} W estimated against {s['power_budget_w']:.0f} W "
          f"({'met' if pw is not None and pw <= s['power_budget_w'] else 'unknown'})")
    ade = s["ade_vs_expert_m"]
    print(f"accuracy ADE of the driven plan against the expert's: {ade:.2f} m" if ade is not None else "accuracy -")
    ratio = s["progress_vs_expert"]
    print(f"progress {s['progress_m']:.0f} m along the road, the expert {s['expert_progress_m']:.0f} m on the same seed"
          + (f" ({ratio:.0%})" if ratio is not None else "")
          + f"; fallback on {s['fallback_frames']} of {s['frames']} frames ({s['fallback_share']:.0%})")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s["interventions_by_reason"].items(), key=lambda kv: -kv[1]))
    print(f"verifier {s['interventions']} interventions ({s['repaired_frames']} driven on a repaired mode: "
          f"{s['smoothed_frames']} smoothed, {s['nudged_frames']} nudged from the edge, {s['slowed_frames']} slowed; "
          f"{s['fallback_frames']} fallbacks)"
          + (f"; top mode rejected for: {reasons}" if reasons else ""))


def run_demo(out_dir: str = "demo_out", frames: int = 300, rig: str = "nuscenes_like_6cam", seed: int = DEFAULT_SEED,
             engine_path: str | None = None, animation: bool = True) -> int:
    if frames < 1:
        raise InvalidArgumentError(f"--frames must be >= 1, got {frames}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = engine_path or reference_engine_path()
    engine = Engine.load(path)
    car_rig = shipped_rig(rig) if not rig.endswith(".json") else Rig.load(rig)
    t0 = time.perf_counter()
    log = drive(engine, car_rig, seed=seed, frames=frames, record_views=ANIMATION_FRAMES if animation else 0)
    s = summary(log, engine, budget_ms=100.0)
    s.update(seed=seed, rig=rig, engine=path, wall_s=round(time.perf_counter() - t0, 1))
    _print_table(s, rig, path)
    (out / "summary.json").write_text(json.dumps(s, indent=2) + "\n")
    try:
        from . import figures
    except ImportError as e:  # pragma: no cover - only without matplotlib
        print(f"(no figures: {e})")
        return 0
    try:
        figures.birds_eye(log, out / "birds_eye.png")
        figures.latency_histogram(log, out / "latency.png")
        if animation:
            figures.camera_animation(log, Rig.from_dict(engine.meta["canonical_rig"]), out / "cameras.gif")
    except ImportError as e:
        print(f"(figures skipped: {e}; pip install matplotlib)")
        return 0
    print(f"wrote    {out}/summary.json, birds_eye.png, latency.png" + (", cameras.gif" if animation else ""))
    return 0
